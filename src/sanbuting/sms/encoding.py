"""How a text travels as SMS: GSM-7 (`data_coding` 0x00) when every character is one whose
GSM 03.38 code is its ASCII code, else UCS-2 (`data_coding` 0x08, UTF-16BE); one SMS holds 160
GSM-7 or 70 UCS-2 characters, and a longer text is cut into segments of 153 or 67 characters,
each behind a concatenation header (UDH, 8-bit reference: `05 00 03 ref total index`).

UCS-2 counts UTF-16 code units (a character beyond the BMP takes two), and a pair is never cut
between two segments.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

GSM7, UCS2 = 0x00, 0x08
"""`data_coding` values: the SMSC's default alphabet (GSM-7), and UCS-2."""

GSM_SAFE = frozenset(string.ascii_letters + string.digits + " !\"#%&'()*+,-./:;<=>?\n\r")
"""Characters whose GSM 03.38 default-alphabet code equals their ASCII code (so the text
sent as ASCII octets reads the same on a handset)."""

SINGLE = {GSM7: 160, UCS2: 70}
PART = {GSM7: 153, UCS2: 67}
MAX_SEGMENTS = 255
UDH_IEI_CONCAT_8BIT = 0x00
ESM_CLASS_UDHI = 0x40
"""`esm_class` bit: the short message begins with a user data header."""


@dataclass(frozen=True)
class Encoded:
    """A text ready to submit: its `data_coding` and the short messages' payloads (without
    any header) in order."""

    data_coding: int
    parts: tuple[bytes, ...]

    @property
    def segments(self) -> int:
        return len(self.parts)


def coding_of(text: str) -> int:
    """GSM7 when every character is GSM-safe, else UCS2."""
    return GSM7 if all(char in GSM_SAFE for char in text) else UCS2


def encode(text: str) -> Encoded:
    """`text` as one or more payloads (see the module). Raises ValueError when it is empty or
    would take more than 255 segments."""
    if not text:
        raise ValueError("an SMS needs some text")
    coding = coding_of(text)
    units = _units(text, coding)
    chunks = [units] if len(units) <= SINGLE[coding] else _cut(units, PART[coding])
    if len(chunks) > MAX_SEGMENTS:
        raise ValueError(f"the text takes {len(chunks)} SMS segments; at most {MAX_SEGMENTS}")
    return Encoded(coding, tuple(b"".join(chunk) for chunk in chunks))


def segment_count(text: str) -> int:
    """How many SMS `text` takes."""
    return encode(text).segments


def with_udh(reference: int, parts: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The parts with concatenation headers when there are several (`reference` taken mod
    256); a single part as it is."""
    if len(parts) == 1:
        return parts
    total = len(parts)
    ref = reference % 256
    return tuple(
        bytes((0x05, UDH_IEI_CONCAT_8BIT, 0x03, ref, total, index)) + part
        for index, part in enumerate(parts, 1)
    )


def _units(text: str, coding: int) -> list[bytes]:
    """The text's code units as bytes: ASCII octets, or UTF-16BE code units (two octets)."""
    if coding == GSM7:
        return [bytes((ord(char),)) for char in text]
    data = text.encode("utf-16-be")
    return [data[i : i + 2] for i in range(0, len(data), 2)]


def _cut(units: list[bytes], size: int) -> list[list[bytes]]:
    """`units` in chunks of at most `size`, never ending a chunk on a high surrogate."""
    chunks: list[list[bytes]] = []
    start = 0
    while start < len(units):
        end = min(start + size, len(units))
        if end < len(units) and 0xD8 <= units[end - 1][0] <= 0xDB:
            end -= 1
        chunks.append(units[start:end])
        start = end
    return chunks
