"""`sanbuting explain`: one account's day-by-day story, in zh-CN or English, told from the notes
the engine keeps as it decides (`engine.story`) so that the words never drift from the run.
"""

from __future__ import annotations

from sanbuting.explain.account import ExplainRequest, Explanation, UnknownAccount, explain
from sanbuting.explain.catalogue import TEXT, Lang
from sanbuting.explain.story import Narrator

__all__ = [
    "TEXT",
    "ExplainRequest",
    "Explanation",
    "Lang",
    "Narrator",
    "UnknownAccount",
    "explain",
]
