"""Masking personal data for screens, logs and API answers, below every other layer.

`mask_text` masks, wherever they appear in a free text (a form's description, a note, a
ticket), the numbers that identify a person:

- a mainland mobile number keeps its first 3 and last 4 digits: ``13812345678``,
  ``+86 138-1234-5678`` → ``138****5678``;
- a fixed line keeps its area code and last 4 digits: ``020-12345678``, ``0755 1234 5678``,
  ``(010)12345678`` → ``020-****5678``, ``0755-****5678``, ``010-****5678``;
- a resident ID card number keeps its region (6 digits) and its last 4 (3 for the old
  15-digit numbers), hiding the birth date: ``11010119900307123X`` → ``110101********123X``;
- any other run of 16 to 19 digits (a bank card) keeps its last 4: ``************1234``.

The masked forms drop the separators and the +86 prefix. Full-width digits and brackets, as
Chinese input methods type them (``１３８…``, ``（010）``), are recognised too. `mask_phone`
masks a value that is one phone number (a form's phone field, an account's phone). Neither
knows who is looking: the callers decide whose screen shows what.
"""

from __future__ import annotations

import re

FULL_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + n): str(n) for n in range(10)},
        "＋": "+",
        "－": "-",
        "（": "(",
        "）": ")",
        "Ｘ": "X",
        "ｘ": "x",
        "\u3000": " ",
        "\u00a0": " ",
    }
)
"""Each full-width character as its ASCII twin, one for one, so that a match in the translated
text has the same place in the original."""

_SEP = r"[ -]?"
_BIRTH = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"
"""A mainland area code without its leading 0: 10 (Beijing), 2x, or three digits from 3xx."""
_IPREFIX = r"(?:\+|00)?86[ -]?"
PERSONAL_NUMBER = re.compile(
    rf"""
    (?<![0-9])
    (?:
        (?P<id18>[1-9][0-9]{{5}}[ ]?(?:18|19|20)[0-9]{{2}}{_BIRTH}[ ]?[0-9]{{3}}[0-9Xx])
      | (?P<card>[0-9]{{4}}(?:{_SEP}[0-9]{{4}}){{3}}(?:{_SEP}[0-9]{{1,3}})?)
      | (?P<id15>[1-9][0-9]{{5}}[0-9]{{2}}{_BIRTH}[0-9]{{3}})
      | (?P<mobile>(?:{_IPREFIX})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}})
      | (?P<fixed>
            (?:
                {_IPREFIX}\(?0?(?P<intl_area>{_AREA})\)?
              | \(\s?0(?P<bracketed_area>{_AREA})\s?\)
              | 0(?P<area>{_AREA})
            )
            {_SEP}[0-9]{{3,4}}{_SEP}[0-9]{{4}}
        )
    )
    (?![0-9])
    """,
    re.VERBOSE,
)
"""The numbers `mask_text` masks, longest first (an ID number before a card, a card before
the mobile number that could hide in it); never part of a longer run of digits."""


def mask_text(text: str) -> str:
    """`text` with every mobile, fixed-line, ID card and bank card number in it masked (see
    the module docstring); the rest of the text unchanged."""
    if not text:
        return text
    plain = text.translate(FULL_WIDTH)
    pieces: list[str] = []
    kept = 0
    for found in PERSONAL_NUMBER.finditer(plain):
        pieces.append(text[kept : found.start()])
        pieces.append(_masked(found))
        kept = found.end()
    if not pieces:
        return text
    pieces.append(text[kept:])
    return "".join(pieces)


def _masked(found: re.Match[str]) -> str:
    kind = found.lastgroup
    whole = found.group(0)
    digits = "".join(c for c in whole if c.isdigit() or c in "Xx")
    if kind == "id18":
        return f"{digits[:6]}{'*' * 8}{digits[-4:]}"
    if kind == "id15":
        return f"{digits[:6]}{'*' * 6}{digits[-3:]}"
    if kind == "card":
        return "*" * (len(digits) - 4) + digits[-4:]
    if kind == "mobile":
        mobile = digits[-11:]
        return f"{mobile[:3]}****{mobile[-4:]}"
    area = found.group("intl_area") or found.group("bracketed_area") or found.group("area")
    return f"0{area}-****{digits[-4:]}"


def mask_phone(phone: str) -> str:
    """A value that is a phone number, masked: a mobile or a fixed line as in `mask_text`;
    anything else keeps only its last 4 characters (``12345`` → ``*2345``, ``1234`` →
    ``****``)."""
    value = phone.strip()
    masked = mask_text(value)
    if masked != value:
        return masked
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
