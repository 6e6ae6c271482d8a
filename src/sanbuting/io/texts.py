"""Free text in the input files (a payment's `channel`, an account's `tags`): bounded in
length and free of control characters, and how any refused value is shown in a reject.

Free text may hold any printable character, Chinese included (``营业厅``), and single spaces;
it may not hold control characters (line breaks, tabs, NUL), line or paragraph separators or
direction overrides, which would break a line of output or turn text around on a screen.
"""

from __future__ import annotations

import polars as pl

_CONTROL = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
"""The characters free text may not hold."""

TOO_LONG = "at most {limit} characters (this one has {length}): shorten it"
CONTROL = (
    "holds a control character (a line break, tab or direction mark): remove it, or use "
    "the separator the column expects"
)

SHOWN_CHARACTERS = 50
"""The most characters of a refused value a reject shows (then ``…``)."""

_INVISIBLE = (0xAD, *range(0x200B, 0x2010), *range(0x2028, 0x202F), *range(0x2060, 0x2070), 0xFEFF)
_ESCAPES = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))},
    **{code: f"\\u{code:04x}" for code in _INVISIBLE},
}
"""Characters a shown value writes as an escape: controls, and marks that would not show."""


def text_rules(value: pl.Expr, limit: int) -> list[tuple[pl.Expr, pl.Expr]]:
    """The checks of a non-empty free-text column of at most `limit` characters, as
    (refused, reason) pairs."""
    length = value.str.len_chars()
    return [
        (length > limit, pl.format(TOO_LONG.format(limit=limit, length="{}"), length)),
        (value.str.contains(_CONTROL), pl.lit(CONTROL)),
    ]


def text_passes(value: pl.Expr, limit: int) -> pl.Expr:
    """Per row, whether the free text `value` passes `text_rules` (null stays null)."""
    return (value.str.len_chars() <= limit) & ~value.str.contains(_CONTROL)


def shown(value: str) -> str:
    """`value` as a reject or a message shows it: its first `SHOWN_CHARACTERS` characters
    (then ``…``), control characters and invisible marks written as ``\\xNN`` or
    ``\\uNNNN``, so that no input can flood a report, break its lines or hide in it."""
    cut = value[:SHOWN_CHARACTERS] + ("…" if len(value) > SHOWN_CHARACTERS else "")
    return cut.translate(_ESCAPES)
