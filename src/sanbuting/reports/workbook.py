"""The roll-up as an Excel workbook (xlsxwriter): a first sheet with the range and the totals,
then one sheet per table, headers in the reader's language (Chinese by default), money in 元
as numbers with two decimals (`#,##0.00`, from integer fen), counts as whole numbers
(`#,##0`), weeks as dates, and each table's total row last, in bold. Values, not formulas, so
that any reader (openpyxl included) sees the numbers.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter

from sanbuting.reports.labels import COLUMNS, MONEY_COLUMNS, TITLES, WORDS
from sanbuting.reports.rollup import MEASURES, Rollup
from sanbuting.reports.rollup_view import total_row

OVERVIEW = {"zh": "概况", "en": "Overview"}
ITEM = {"zh": ("项目", "数值"), "en": ("Figure", "Value")}
OVERVIEW_FIGURES = ("accounts", *MEASURES)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_workbook(rollup: Rollup, path: Path) -> None:
    """Write `rollup` to the workbook `path` (see the module docstring)."""
    lang = rollup.lang
    book = xlsxwriter.Workbook(str(path), {"constant_memory": False})
    bold = book.add_format({"bold": True, "bg_color": "#eeeeee", "border": 1})
    formats = {
        "money": book.add_format({"num_format": "#,##0.00"}),
        "count": book.add_format({"num_format": "#,##0"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "text": book.add_format({}),
    }
    totals = {
        key: book.add_format({"bold": True, "num_format": fmt, "top": 1})
        for key, fmt in (("money", "#,##0.00"), ("count", "#,##0"), ("date", "@"), ("text", "@"))
    }

    sheet = book.add_worksheet(OVERVIEW[lang])
    words = WORDS[lang]
    sheet.write(0, 0, words["report"], bold)
    sheet.write(
        1,
        0,
        words["range"].format(
            start=rollup.start, end=rollup.end, run_start=rollup.run_start, run_end=rollup.run_end
        ),
    )
    sheet.write_row(3, 0, ITEM[lang], bold)
    for n, name in enumerate(OVERVIEW_FIGURES, start=4):
        sheet.write(n, 0, COLUMNS[lang][name])
        _write(sheet, n, 1, name, rollup.totals[name], formats)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 18)

    for by, frame in rollup.tables.items():
        sheet = book.add_worksheet(TITLES[lang][by])
        heads = [COLUMNS[lang][c] for c in frame.columns]
        sheet.write_row(0, 0, heads, bold)
        for r, row in enumerate(frame.iter_rows(), start=1):
            for c, (name, value) in enumerate(zip(frame.columns, row, strict=True)):
                _write(sheet, r, c, name, value, formats)
        total = total_row(rollup, by)
        for c, name in enumerate(frame.columns):
            _write(sheet, frame.height + 1, c, name, total[name], totals)
        for c, head in enumerate(heads):
            sheet.set_column(c, c, max(10, _width(head) + 2))
        sheet.freeze_panes(1, 0)
    book.close()


def _write(sheet: Any, row: int, col: int, name: str, value: object, formats: Any) -> None:
    if isinstance(value, int) and name in MONEY_COLUMNS:
        sheet.write_number(row, col, value / 100, formats["money"])
    elif isinstance(value, int):
        sheet.write_number(row, col, value, formats["count"])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, formats["date"])
    else:
        sheet.write_string(row, col, "" if value is None else str(value), formats["text"])
