"""Rejected input rows as data, and `rejects.csv`.

A row that breaks the contract never vanishes: each problem becomes one `Reject` naming the
file, the line (the header is line 1 in CSV; in Parquet, the 1-based row number), the column,
the offending value as text and, in plain English, what was expected. The value is shown as
`shown_value` gives it: bounded in length, a phone number masked.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sanbuting.io.contract import PERSONAL_COLUMNS, TABLE_ORDER
from sanbuting.io.phones import masked
from sanbuting.io.texts import shown

REJECTS_FILE = "rejects.csv"
HEADER = ("file", "line", "column", "value", "reason")


@dataclass(frozen=True, slots=True)
class Reject:
    """One problem of one input row (or, at its header line, of a whole file)."""

    file: str
    line: int
    column: str
    value: str
    reason: str


def shown_value(column: str, value: str) -> str:
    """A refused value as a reject holds it: masked when `column` holds personal data (a
    phone number), and at most 50 characters (then ``…``) whatever was in the file."""
    return shown(masked(value) if column in PERSONAL_COLUMNS else value)


def sort_key(reject: Reject) -> tuple[int, int, str, str, str]:
    """File order (accounts, bills, payments, usage), then line, then column name."""
    table = reject.file.rsplit(".", 1)[0]
    return (
        TABLE_ORDER.get(table, len(TABLE_ORDER)),
        reject.line,
        reject.column,
        reject.reason,
        reject.value,
    )


def sorted_rejects(rejects: Iterable[Reject]) -> list[Reject]:
    """The rejects in the order `rejects.csv` lists them."""
    return sorted(rejects, key=sort_key)


def write_rejects(path: Path, rejects: Iterable[Reject]) -> None:
    """Write `rejects` to `path` as CSV (`file,line,column,value,reason`), sorted; the header
    is written even when there is nothing to reject."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for reject in sorted_rejects(rejects):
            writer.writerow((reject.file, reject.line, reject.column, reject.value, reject.reason))
