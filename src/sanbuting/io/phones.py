"""Phone numbers in the accounts file: which values are phone numbers, and how a refused one is
shown (masked: a phone number is personal data).

A phone number is a mainland mobile (``1[3-9]`` and 9 more digits, e.g. ``13812345678``) or a
fixed line with its area code (``0`` and 2-3 digits, the local number of 7-8 digits, an
optional extension of up to 6 digits after ``-``, e.g. ``020-12345678`` or
``0755-1234567-89``). It may start with ``+86`` or ``86`` (then a fixed line's ``0`` may be left
out: ``+86 20 12345678``), and single spaces or dashes may separate its groups
(``138 1234 5678``, ``010-1234-5678``). The value loads as it was written.
"""

from __future__ import annotations

import re

import polars as pl

_GAP = "[ -]?"
_MOBILE = rf"(?:\+?86{_GAP})?1[3-9][0-9](?:{_GAP}[0-9]){{8}}"
_FIXED = (
    rf"(?:0|\+?86{_GAP}0?)[1-9][0-9]{{1,2}}{_GAP}[0-9]{{3,4}}{_GAP}[0-9]{{4}}(?:-[0-9]{{1,6}})?"
)
PHONE_PATTERN = f"^(?:{_MOBILE}|{_FIXED})$"
"""A whole phone number (after trimming), for Python's `re` and Polars alike."""

PHONE_MAX_LENGTH = 32
"""No phone number is longer (checked before the pattern, so no long text reaches it)."""

NOT_A_PHONE = (
    "not a phone number: give a mobile such as 13812345678 or a fixed line such as 020-12345678"
)

_PHONE_RE = re.compile(PHONE_PATTERN)


def is_phone(text: str) -> bool:
    """Whether `text` (surrounding spaces ignored) is a phone number."""
    value = text.strip()
    return len(value) <= PHONE_MAX_LENGTH and _PHONE_RE.match(value) is not None


def phone_passes(value: pl.Expr) -> pl.Expr:
    """Per row, whether the trimmed text `value` is a phone number (null stays null)."""
    return (value.str.len_chars() <= PHONE_MAX_LENGTH) & value.str.contains(PHONE_PATTERN)


def masked(value: str) -> str:
    """`value` as a reject may show it: at most its first 3 and last 2 characters, the rest
    (at most 16 of them) as ``*``; a short value keeps less, so most of it is always hidden."""
    kept = max(0, min(3, (len(value) - 4) // 2))
    tail = min(2, kept)
    hidden = min(len(value) - kept - tail, 16)
    return value[:kept] + "*" * hidden + (value[len(value) - tail :] if tail else "")
