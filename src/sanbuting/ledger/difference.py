"""What the ledger lacks of an account's entries: its current postings read from their rows
(`current_postings`: corrections replace, reversals drop), the entries to post and the
postings to reverse (`difference`), and the rows that post them (`posting_rows`). Pure: the
reading and the writing are `ledger.service`'s and `payments.lean`'s."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sanbuting.ledger.entries import Entry, Line

Lines = tuple[tuple[str, int, str | None], ...]


@dataclass(frozen=True, slots=True)
class Posted:
    """A posting in the ledger: its id, current key and lines."""

    id: int
    key: str
    effective_on: date
    lines: Lines


def _lines(lines: Sequence[Line]) -> Lines:
    return tuple(sorted((line.book, line.amount_fen, line.bill_id) for line in lines))


Versions = dict[str, int]
"""Per entry key, the highest version ever posted (1 for the bare key, n for `KEY#n`)."""


def _version(key: str) -> tuple[str, int]:
    entry, _, number = key.partition("#")
    return entry, int(number) if number else 1


def current_postings(
    rows: Iterable[Sequence[Any]],
) -> tuple[dict[int, dict[str, Posted]], dict[int, Versions]]:
    """`_posted` from its rows, in posting id order: (posting id, account, key, kind, the id it
    reverses, effective day, book, amount, bill id), one row per line."""
    lines: dict[int, list[Line]] = defaultdict(list)
    heads: dict[int, tuple[int, str, str, int | None, date]] = {}
    for posting_id, account, key, kind, reverses, day, book, amount, bill_id in rows:
        heads[posting_id] = (account, key, kind, reverses, day)
        lines[posting_id].append(Line(book, amount, bill_id))
    reversed_ids = {head[3] for head in heads.values() if head[3] is not None}
    current: dict[int, dict[str, Posted]] = defaultdict(dict)
    versions: dict[int, Versions] = defaultdict(dict)
    for posting_id, (account, key, kind, _, day) in heads.items():
        if kind == "reversal":
            continue
        entry, number = _version(key)
        versions[account][entry] = max(number, versions[account].get(entry, 0))
        if posting_id not in reversed_ids:
            current[account][entry] = Posted(posting_id, key, day, _lines(lines[posting_id]))
    return current, versions


def difference(
    entries: list[Entry], posted: dict[str, Posted], versions: Versions
) -> tuple[list[Entry], list[Posted]]:
    """Entries to post (new, or posted before with other lines, or back after a reversal:
    then under the key's next version, `KEY#n`) and postings to reverse (changed, or no
    longer derived)."""
    new: list[Entry] = []
    undo: list[Posted] = []
    seen = set()
    for entry in entries:
        seen.add(entry.key)
        before = posted.get(entry.key)
        if before is not None and (
            before.lines == _lines(entry.lines) and before.effective_on == entry.effective_on
        ):
            continue
        if before is not None:
            undo.append(before)
        used = versions.get(entry.key, 0)
        key = entry.key if used == 0 else f"{entry.key}#{used + 1}"
        new.append(Entry(key, entry.kind, entry.effective_on, entry.lines))
    undo.extend(p for key, p in posted.items() if key not in seen)
    return new, undo


Head = tuple[str, str, int, date, int | None]
"""A posting to insert: its key, kind, account, effective day and the posting it reverses."""


def posting_rows(
    entries: Sequence[tuple[int, Entry]], reversing: Sequence[tuple[int, Posted]]
) -> tuple[list[Head], list[Lines]]:
    """The postings that book `entries` and reverse `reversing` (reversals first), with their
    lines."""
    heads: list[Head] = [
        (f"reversal:{p.key}", "reversal", account, p.effective_on, p.id) for account, p in reversing
    ]
    legs: list[Lines] = [tuple((b, -a, i) for b, a, i in p.lines) for _, p in reversing]
    for account, entry in entries:
        heads.append((entry.key, entry.kind, account, entry.effective_on, None))
        legs.append(_lines(entry.lines))
    return heads, legs
