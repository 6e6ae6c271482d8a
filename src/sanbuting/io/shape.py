"""Problems of a whole row or a whole column, before any value is checked: blank lines, rows
with no value at all, and columns the contract does not have.

- A *blank line* of a CSV file (nothing on it but spaces or tabs, no separator) is skipped,
  wherever it is, and does not count as a row read; its line still counts, so every later
  line number stays true.
- A row with *no value at all* that is not a blank line (``,,,,`` or ``, , ,`` in a CSV file,
  every column null in a Parquet file) is rejected with its line: it most likely lost its
  values on the way, and nothing vanishes silently.
- A column the contract does not have is ignored (the contract may grow new optional
  columns), with one warning per file and column, so that a misspelled column name is
  noticed.

Polars reads a blank line and a line of separators alike (a row of empty cells), so only the
rare rows with no value are looked up again, as physical lines of the file (one record per
line; a value that spans lines would shift the count, as it does for every line number).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sanbuting.io.contract import TableSpec
from sanbuting.io.rejects import Reject
from sanbuting.io.texts import shown
from sanbuting.io.typed import LINE

NO_VALUE = "the row holds no value at all (only separators): delete it or fill it in"

UNNAMED = "__unnamed_"
"""The prefix of the name given to a header column with no name (``__unnamed_3``)."""


def _no_value(frame: pl.DataFrame) -> pl.Expr:
    values = [name for name in frame.columns if name != LINE]
    return pl.all_horizontal(pl.col(name).is_null() for name in values)


def without_blank_lines(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """`frame` (rows of the CSV file `path`, trimmed, with `LINE`) without the rows that are
    blank lines of the file; rows of separators stay, to be rejected."""
    if len(frame.columns) < 2:
        return frame
    empty = frame.filter(_no_value(frame)).get_column(LINE)
    if empty.is_empty():
        return frame
    blank = (
        pl.scan_lines(path, name="text")
        .with_row_index("number", offset=1)
        .filter(pl.col("number").is_in(empty.implode()))
        .filter(pl.col("text").str.contains(r"^[ \t\r]*$"))
        .select(pl.col("number").cast(pl.Int64))
        .collect()
        .get_column("number")
    )
    return frame.filter(~pl.col(LINE).is_in(blank.implode())) if blank.len() else frame


def rows_with_values(frame: pl.DataFrame, file: str) -> tuple[pl.DataFrame, list[Reject]]:
    """`frame` without its rows of no value at all, and a reject for each of them."""
    if len(frame.columns) < 2:
        return frame, []
    empty = _no_value(frame)
    lines = frame.filter(empty).get_column(LINE)
    if lines.is_empty():
        return frame, []
    rejects = [Reject(file, int(line), "", "", NO_VALUE) for line in lines]
    return frame.filter(~empty), rejects


REPORT_ONLY: dict[str, tuple[str, ...]] = {"accounts": ("company",)}
"""Columns no run reads but the roll-up does (docs/reports.md): named as such, not as unknown."""


def unknown_columns(columns: list[str], spec: TableSpec, file: str) -> list[str]:
    """A warning for each of `columns` (a file's header) that `spec` does not have."""
    known = {column.name for column in spec.columns} | {LINE}
    warnings = []
    for name in columns:
        if name in known:
            continue
        position = name.removeprefix(UNNAMED)
        if name.startswith(UNNAMED) and position.isdigit():
            position = str(int(position) + 1)
            warnings.append(f"{file}: column {position} has no name in the header and is ignored")
        elif name in REPORT_ONLY.get(spec.name, ()):
            warnings.append(
                f"{file}: column {name!r} is not read here (`sanbuting report` reads it)"
            )
        else:
            warnings.append(
                f"{file}: column {shown(name)!r} is not part of the contract and is ignored"
            )
    return warnings
