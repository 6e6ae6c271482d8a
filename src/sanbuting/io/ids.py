"""The one rule every id follows: `account_id`, `bill_id`, `payment_id` in their own tables,
and the `account_id` that bills, payments and usage refer to.

An id is 1 to 64 printable characters: no whitespace, no control or invisible characters
(direction marks, zero-width spaces, private-use code points), and none of
``/ \\ < > & " ' ` # ? %``, so that any id can sit in a URL path segment, an HTML page or
a shell line as it is. `ID_PATTERN` says so as one regular expression that Python's `re`, Polars
and a web framework's path parameter (``Path(pattern=ID_PATTERN)``) all read the same way;
`id_problem` checks one value in Python, `id_rules` gives the Polars checks with their reasons.
"""

from __future__ import annotations

import re

import polars as pl

ID_MAX_LENGTH = 64
"""The most characters an id may have."""

FORBIDDEN_MARKS = "/\\<>&\"'`#?%"
"""Visible characters an id may not hold: path separators, markup, quotes, and what a URL
gives a meaning of its own (fragment, query, escape)."""

_INVISIBLE = (
    r"\x00-\x20\x7f-\xa0\xad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000"
    r"\ufeff\ufff0-\uffff\ue000-\uf8ff\U000e0000-\U000e007f\U000f0000-\U0010ffff"
)
"""Code points an id may not hold as a regex class body: controls, spaces, soft hyphen,
zero-width and direction marks, separators, byte-order mark, specials, private use, tags."""

_MARKS = "/\\\\<>&\"'`#?%"
"""`FORBIDDEN_MARKS` as a regex class body (the backslash escaped)."""

ID_PATTERN = f"^[^{_INVISIBLE}{_MARKS}]{{1,{ID_MAX_LENGTH}}}$"
"""A whole valid id, e.g. for ``fastapi.Path(pattern=ID_PATTERN)``."""

TOO_LONG = "an id has at most {limit} characters (this one has {length})"
MARK = (
    "an id may not hold any of / \\ < > & \" ' ` # ? % (this one holds {mark}): "
    "use letters, digits and - _ . :"
)
INVISIBLE = (
    "an id may not hold spaces, control or invisible characters (line breaks, tabs, "
    "zero-width or direction marks): remove them"
)

_MARK_CLASS = f"[{_MARKS}]"
_INVISIBLE_CLASS = f"[{_INVISIBLE}]"
_MARK_RE = re.compile(_MARK_CLASS)
_INVISIBLE_RE = re.compile(_INVISIBLE_CLASS)


def id_problem(text: str) -> str | None:
    """Why `text` (already trimmed) is not a valid id, or None when it is one."""
    fault = id_fault(text)
    return None if fault is None else fault_text(fault)


def fault_text(fault: tuple[str, dict[str, str]]) -> str:
    """The English sentence of an `id_fault`."""
    code, values = fault
    return {
        "id_empty": "an id may not be empty",
        "id_too_long": TOO_LONG,
        "id_mark": MARK,
        "id_invisible": INVISIBLE,
    }[code].format(**values)


def id_fault(text: str) -> tuple[str, dict[str, str]] | None:
    """`id_problem` as a code (`id_empty`, `id_too_long`, `id_mark`, `id_invisible`) and its
    values, for a message in another language; None when `text` is a valid id."""
    if not text:
        return "id_empty", {}
    if len(text) > ID_MAX_LENGTH:
        return "id_too_long", {"limit": str(ID_MAX_LENGTH), "length": str(len(text))}
    mark = _MARK_RE.search(text)
    if mark is not None:
        return "id_mark", {"mark": mark.group(0)}
    if _INVISIBLE_RE.search(text) is not None:
        return "id_invisible", {}
    return None


def id_rules(value: pl.Expr) -> list[tuple[pl.Expr, pl.Expr]]:
    """The id checks of a non-empty text column as (refused, reason) pairs, in the order
    `id_problem` applies them."""
    length = value.str.len_chars()
    return [
        (
            length > ID_MAX_LENGTH,
            pl.format(TOO_LONG.format(limit=ID_MAX_LENGTH, length="{}"), length),
        ),
        (
            value.str.contains(_MARK_CLASS),
            pl.format(MARK.format(mark="{}"), value.str.extract(f"({_MARK_CLASS})", 1)),
        ),
        (value.str.contains(_INVISIBLE_CLASS), pl.lit(INVISIBLE)),
    ]


def id_passes(value: pl.Expr) -> pl.Expr:
    """Per row, whether the non-empty text `value` is a valid id (null stays null)."""
    return (value.str.len_chars() <= ID_MAX_LENGTH) & ~value.str.contains(f"[{_INVISIBLE}{_MARKS}]")
