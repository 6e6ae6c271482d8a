"""The text encoding of CSV input files: UTF-8 by default (a byte-order mark is fine), or GBK /
GB18030 for the exports of billing systems that write those.

`prepare` makes one input file ready to read, in the one pass over its bytes that computes
its sha256 (the digest `summary.json` records is always that of the file as given):

- a UTF-8 CSV is read where it is; the pass checks that its bytes are UTF-8 (a chunk of plain
  ASCII, the usual case, costs one `bytes.isascii`), and a file that is not is refused whole,
  naming its first bad line, so GBK text is never loaded as mojibake;
- a CSV in another encoding is transcoded once, line by line, to a UTF-8 copy in a scratch
  folder, which is then read instead (its lines and columns are those of the original);
- a Parquet file holds UTF-8 by definition and is only hashed.

The command line passes `--encoding`; `sanbuting run`, whose reading happens deep inside the
runner, sets it for the duration of the run with `input_encoding`.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sanbuting.errors import InputFileError, SanbutingError

UTF8 = "utf-8"
ENCODINGS = {"utf-8": UTF8, "utf8": UTF8, "utf-8-sig": UTF8, "gbk": "gbk", "gb18030": "gb18030"}
"""The names `--encoding` accepts (any case, `_` for `-`), and the codec each stands for."""

_CHUNK = 1024 * 1024
_SNIFF_BYTES = 64 * 1024


def encoding_named(name: str) -> str:
    """The codec `--encoding name` stands for; an error naming the accepted ones otherwise."""
    codec = ENCODINGS.get(name.strip().lower().replace("_", "-"))
    if codec is None:
        raise SanbutingError(
            f"--encoding {name!r} is not supported: give utf-8 (the default), gbk or gb18030"
        )
    return codec


def chosen_encoding(name: str | None) -> str:
    """The codec to read with: `name` when given, else UTF-8."""
    return encoding_named(name) if name is not None else UTF8


@dataclass(frozen=True, slots=True)
class Prepared:
    """An input file ready to read: `path` is the file itself or its UTF-8 copy, `digest`
    the sha256 of the input's own bytes, `head` its first bytes."""

    path: Path
    digest: str
    head: bytes


def prepare(path: Path, encoding: str, scratch: Path) -> Prepared:
    """Hash `path` and, when it is a CSV, make sure it can be read as UTF-8: check it (UTF-8)
    or transcode it into `scratch` (any other `encoding`). An `InputFileError` names the file
    and the first line that is not text of the encoding."""
    try:
        if path.suffix != ".csv":
            return _hashed(path, None)
        if encoding == UTF8:
            return _hashed(path, _Utf8Check(path))
        scratch.mkdir(parents=True, exist_ok=True)
        return _transcoded(path, encoding, scratch / path.name)
    except OSError as exc:
        raise InputFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc


def _hashed(path: Path, check: _Utf8Check | None) -> Prepared:
    digest = hashlib.sha256()
    head = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if not head:
                head = chunk[:_SNIFF_BYTES]
                if check is not None:
                    _refuse_binary(path, head)
            digest.update(chunk)
            if check is not None:
                check.feed(chunk)
    if check is not None:
        check.finish()
    return Prepared(path, digest.hexdigest(), head)


def _refuse_binary(path: Path, head: bytes) -> None:
    if b"\x00" in head:
        raise InputFileError(f"{path.name}: not CSV text (it holds binary data)")


class _Utf8Check:
    """Checks a file's chunks, in order, for UTF-8; a character split between two chunks is
    carried over to the next."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0  # of `carry` in the file
        self.carry = b""

    def feed(self, chunk: bytes) -> None:
        if not self.carry and chunk.isascii():
            self.offset += len(chunk)
            return
        data = self.carry + chunk
        try:
            _, used = codecs.utf_8_decode(data, "strict", False)
        except UnicodeDecodeError as exc:
            raise not_text(self.path, UTF8, self.offset + exc.start) from None
        self.carry = data[used:]
        self.offset += used

    def finish(self) -> None:
        if self.carry:  # the file ends inside a character
            raise not_text(self.path, UTF8, self.offset)


def _transcoded(path: Path, encoding: str, target: Path) -> Prepared:
    """Decode `path` as `encoding` a run of whole lines at a time (no character of UTF-8,
    GBK or GB18030 holds the byte of a line feed) and write it to `target` as UTF-8."""
    digest = hashlib.sha256()
    head = b""
    offset = 0  # of the pending bytes in the file
    pending: list[bytes] = []
    with path.open("rb") as source, target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            if not head:
                head = chunk[:_SNIFF_BYTES]
                _refuse_binary(path, head)
            digest.update(chunk)
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:
                pending.append(chunk)
                continue
            lines = b"".join([*pending, chunk[:cut]])
            pending = [chunk[cut:]]
            out.write(_decoded(path, encoding, lines, offset).encode(UTF8))
            offset += len(lines)
        out.write(_decoded(path, encoding, b"".join(pending), offset).encode(UTF8))
    return Prepared(target, digest.hexdigest(), head)


def _decoded(path: Path, encoding: str, lines: bytes, offset: int) -> str:
    try:
        return lines.decode(encoding)
    except UnicodeDecodeError as exc:
        raise not_text(path, encoding, offset + exc.start) from None


def not_text(path: Path, encoding: str, offset: int) -> InputFileError:
    """The error for a file whose byte at `offset` is not text of `encoding`: one line with
    the file, the line, the byte and its column, and what to do."""
    line, column, byte = _position(path, encoding, offset)
    where = (
        f"{path.name}:{line}: not {_label(encoding)} text (byte 0x{byte:02X} in column {column})"
    )
    if encoding == UTF8:
        return InputFileError(f"{where}: save it as UTF-8 or pass --encoding gbk")
    return InputFileError(
        f"{where}: check which encoding the file was saved in and pass it with --encoding "
        "(utf-8, gbk or gb18030)"
    )


def _position(path: Path, encoding: str, offset: int) -> tuple[int, int, int]:
    """The line (1-based), the column (in characters, 1-based) and the value of the byte at
    `offset` of `path` (a 0 byte past its end)."""
    newlines = 0
    line_start: list[bytes] = []  # the bad byte's line before it
    read = 0
    with path.open("rb") as handle:
        while read < offset:
            chunk = handle.read(min(_CHUNK, offset - read))
            if not chunk:
                break
            read += len(chunk)
            newlines += chunk.count(b"\n")
            last = chunk.rfind(b"\n")
            if last >= 0:
                line_start = [chunk[last + 1 :]]
            else:
                line_start.append(chunk)
        byte = handle.read(1)
    before = b"".join(line_start).decode(encoding, errors="replace")
    if newlines == 0:
        before = before.removeprefix("\ufeff")  # a byte-order mark is not a column
    column = len(before) + 1
    return newlines + 1, column, byte[0] if byte else 0


def _label(encoding: str) -> str:
    return "UTF-8" if encoding == UTF8 else encoding.upper()
