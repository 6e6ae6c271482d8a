"""A list as a table, written as CSV or XLSX: one shape for every export (the console's lists,
the worklist, a what-if's changed accounts).

A `Table` is its columns, each with a Chinese and an English heading and a kind, and its rows
of cells. Money is integer fen in a row and yuan with two decimals in a file: `120.00` in the
CSV, the number 120 with the format `#,##0.00` in the XLSX, under a heading that says 元 (or
yuan). Counts are whole numbers, dates ISO dates (real dates in the XLSX), text is text. A
missing value (None) and empty text are an empty cell.

The CSV is what a program reads: UTF-8 (the web layer adds the BOM that tells Excel so), one
row a line, no thousands separators. A text cell beginning with `=`, `+`, `-`, `@`, a tab or a
carriage return is written with a leading `'`, so that a spreadsheet opening the file never runs
a cell as a formula (an address or a note typed by anyone); the XLSX writes every text cell as
a string, which no spreadsheet evaluates. The XLSX has one sheet, headings bold and frozen,
columns wide enough for their headings, and is written row by row (xlsxwriter's constant-memory
mode), so that a long list costs little memory.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import xlsxwriter

from sanbuting.domain import format_yuan

Lang = Literal["zh", "en"]
Kind = Literal["text", "money", "count", "date"]
Cell = str | int | date | None
"""A cell: text, a count or fen (by its column's kind), a date, or nothing."""

MOST_ROWS = 1_000_000
"""The most rows an export holds (an XLSX sheet holds 1,048,576 with its heading)."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    """One column: its headings (simplified Chinese, English) and the kind of its cells."""

    zh: str
    en: str
    kind: Kind = "text"
    width: int | None = None
    """Characters (a Chinese character counts two); None: as wide as the heading needs."""

    def heading(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Table:
    """A list to export: `name` names the sheet, `rows` hold one cell per column."""

    name: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Cell]]

    def headings(self, lang: Lang) -> list[str]:
        return [c.heading(lang) for c in self.columns]


def text_cell(value: Cell, kind: Kind) -> str:
    """A cell as the CSV writes it (see the module docstring)."""
    if value is None:
        return ""
    if kind == "money" and isinstance(value, int):
        return format_yuan(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def text_rows(table: Table, lang: Lang) -> list[list[str]]:
    """The table as text, headings first, each cell as the CSV writes it."""
    kinds = [c.kind for c in table.columns]
    rows = [table.headings(lang)]
    rows += [[text_cell(v, k) for v, k in zip(row, kinds, strict=True)] for row in table.rows]
    return rows


def as_csv(table: Table, lang: Lang) -> str:
    """The table as CSV text, headings first (without the BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(text_rows(table, lang))
    return out.getvalue()


def width(text: str) -> int:
    """How many columns `text` takes in a spreadsheet (a Chinese character two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def sheet_name(name: str) -> str:
    """`name` as an Excel sheet may be named: 31 characters at most, none of ``[]:*?/\\``."""
    return SHEET_NAME.sub("_", name)[:31] or "Sheet1"


def as_xlsx(table: Table, lang: Lang) -> bytes:
    """The table as an XLSX workbook of one sheet (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="sanbuting-xlsx-") as folder:
        path = Path(folder) / "table.xlsx"
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": folder})
        sheet = book.add_worksheet(sheet_name(table.name))
        bold = book.add_format({"bold": True})
        formats = {
            "money": book.add_format({"num_format": "#,##0.00"}),
            "count": book.add_format({"num_format": "0"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        }
        for c, column in enumerate(table.columns):
            shown = column.width or max(10, width(column.heading(lang)) + 2)
            sheet.set_column(c, c, min(shown, 80))
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, table.headings(lang), bold)
        kinds = [c.kind for c in table.columns]
        for r, row in enumerate(_bounded(table.rows), start=1):
            for c, (value, kind) in enumerate(zip(row, kinds, strict=True)):
                _write(sheet, r, c, value, kind, formats)
        book.close()
        return path.read_bytes()


def _bounded(rows: Iterable[Sequence[Cell]]) -> Iterable[Sequence[Cell]]:
    for n, row in enumerate(rows):
        if n == MOST_ROWS:
            return
        yield row


def _write(
    sheet: xlsxwriter.worksheet.Worksheet,
    row: int,
    col: int,
    value: Cell,
    kind: Kind,
    formats: dict[str, xlsxwriter.format.Format],
) -> None:
    if value is None or value == "":
        return  # an empty cell, as in the CSV
    if isinstance(value, int) and kind == "money":
        sheet.write_number(row, col, value / 100, formats["money"])
    elif isinstance(value, int):
        sheet.write_number(row, col, value, formats["count"])
    elif isinstance(value, datetime):
        sheet.write_string(row, col, value.isoformat(sep=" ", timespec="minutes"))
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, formats["date"])
    else:
        sheet.write_string(row, col, value)
