"""Relief policies (免停, 緩停, 免違約金, 應急額度): the closed records in `policy.model` and
the YAML policy language that builds them (`load_policies`, `parse_policies`).

A policy set is checked whole before use: any problem refuses every policy, with a
`PolicyError` listing each problem as `file:line: message`.
"""

from __future__ import annotations

from sanbuting.policy.loader import load_policies, parse_policies
from sanbuting.policy.model import (
    AccountFacts,
    CreditPolicy,
    DeferPolicy,
    Effect,
    ExemptPolicy,
    Policy,
    PolicyBase,
    Scope,
    WaiverPolicy,
    Window,
)

__all__ = [
    "AccountFacts",
    "CreditPolicy",
    "DeferPolicy",
    "Effect",
    "ExemptPolicy",
    "Policy",
    "PolicyBase",
    "Scope",
    "WaiverPolicy",
    "Window",
    "load_policies",
    "parse_policies",
]
