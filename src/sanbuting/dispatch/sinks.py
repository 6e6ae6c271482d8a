"""Where the outbox dispatcher sends side effects: the `Sink` protocol, a `FileSink` that
appends one JSON line per order and deduplicates by the order's key, and a `ConsoleSink` for
watching a run by eye.

The dispatcher sends an order again when it died after the send but before recording it as
done, so a sink that may be used for real orders must deduplicate by `OutboxItem.key`, and say
so with `deduplicates = True`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Protocol, TextIO

from sanbuting.store.models import OutboxItem

JsonObject = dict[str, object]


class Sink(Protocol):
    """A receiver of outbox orders. `send` returns once the order is delivered and raises
    (any `Exception`) when it was not, so that the dispatcher retries; `deduplicates` tells
    whether a second `send` of the same key is harmless."""

    deduplicates: bool

    def send(self, item: OutboxItem) -> None: ...


def record(item: OutboxItem) -> JsonObject:
    """An order as sent: its key, kind, account, day (ISO date or None) and decoded payload."""
    return {
        "key": item.key,
        "kind": item.kind,
        "account": item.account,
        "day": item.day.isoformat() if item.day is not None else None,
        "payload": json.loads(item.payload),
    }


class FileSink:
    """Appends each order to a JSON Lines file (keys sorted, UTF-8 kept as is) and fsyncs it.

    The keys already in the file are read when the sink is made, and sending one of them
    again writes nothing: a re-send after a crash leaves one line per key. A crash in the
    middle of a write leaves a torn line; lines that are not JSON are ignored when reading keys
    (a torn line stops being the last once the next write lands after it), and the next write
    starts on a new line. One file belongs to one dispatcher process at a time: two processes
    would not see each other's keys.
    """

    deduplicates: bool = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._keys, self._needs_newline = _read_keys(self.path)

    @property
    def keys(self) -> frozenset[str]:
        """The keys in the file."""
        return frozenset(self._keys)

    def send(self, item: OutboxItem) -> None:
        line = json.dumps(record(item), sort_keys=True, ensure_ascii=False)
        with self._lock:
            if item.key in self._keys:
                return
            self._append(line)
            self._keys.add(item.key)

    def _append(self, line: str) -> None:
        created = not self.path.exists()
        text = ("\n" if self._needs_newline else "") + line + "\n"
        try:
            with self.path.open("ab") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            self._needs_newline = True  # part of the line may be in the file
            raise
        self._needs_newline = False
        if created:
            _fsync_directory(self.path.parent)


def _read_keys(path: Path) -> tuple[set[str], bool]:
    """The keys of the records in `path`, and whether it ends without a newline (torn)."""
    if not path.exists():
        return set(), False
    data = path.read_bytes()
    keys: set[str] = set()
    for number, raw in enumerate(data.split(b"\n"), 1):
        key = _key(path, number, raw)
        if key is not None:
            keys.add(key)
    return keys, bool(data) and not data.endswith(b"\n")


def _key(path: Path, number: int, raw: bytes) -> str | None:
    """The key of one line; None for a blank or torn line (not JSON)."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    key = value.get("key") if isinstance(value, dict) else None
    if not isinstance(key, str):
        raise ValueError(f"{path}:{number}: not an outbox record (no string 'key')")
    return key


def _fsync_directory(directory: Path) -> None:
    """Make a newly created file's directory entry durable (POSIX)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class ConsoleSink:
    """Prints one line per order (kind, key, account, day) to a text stream, stdout by default.

    It cannot deduplicate (`deduplicates = False`): an order the dispatcher sends again after a
    crash is printed again. Use it to watch a run, not to deliver orders.
    """

    deduplicates: bool = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout

    def send(self, item: OutboxItem) -> None:
        account = item.account if item.account is not None else "-"
        day = item.day.isoformat() if item.day is not None else "-"
        print(f"{item.kind} {item.key} account={account} day={day}", file=self.stream, flush=True)
