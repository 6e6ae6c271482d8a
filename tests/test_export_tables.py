"""Tables written as CSV and XLSX (`reports.tables`): the same rows in both, Chinese or English
headings, money from fen as 元 with two decimals (a number with a money format in the XLSX),
dates as dates, an empty cell for nothing, and no text cell a spreadsheet would run as a
formula. The XLSX is read back with openpyxl, as a reader's spreadsheet would."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl

from sanbuting.desk.worklist import WorkItem, as_csv, as_xlsx
from sanbuting.jobs.preview import Proposed
from sanbuting.reports.tables import Column, Table
from sanbuting.reports.tables import as_csv as table_csv
from sanbuting.reports.tables import as_xlsx as table_xlsx

TABLE = Table(
    "例子",
    (
        Column("户号", "account"),
        Column("欠费（元）", "arrears (yuan)", "money"),
        Column("天数", "days", "count"),
        Column("日期", "day", "date"),
        Column("备注", "note"),
    ),
    [
        ["H1", 1_234_567, 45, date(2020, 1, 20), "武汉市江岸区"],
        ["H2", -5, None, None, '=HYPERLINK("http://x")'],
        ["H3", None, 0, date(2020, 2, 29), "+86 is fine inside, not first"],
    ],
)


def test_the_csv_in_chinese_and_english() -> None:
    assert table_csv(TABLE, "zh").splitlines() == [
        "户号,欠费（元）,天数,日期,备注",
        "H1,12345.67,45,2020-01-20,武汉市江岸区",
        'H2,-0.05,,,"\'=HYPERLINK(""http://x"")"',
        'H3,,0,2020-02-29,"\'+86 is fine inside, not first"',
    ]
    assert table_csv(TABLE, "en").splitlines()[0] == "account,arrears (yuan),days,day,note"


def rows_of(xlsx: bytes) -> tuple[str, list[list[object]]]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    sheet = book.worksheets[0]
    return sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_xlsx_holds_the_same_rows() -> None:
    title, rows = rows_of(table_xlsx(TABLE, "zh"))
    assert title == "例子"
    assert rows == [
        ["户号", "欠费（元）", "天数", "日期", "备注"],
        ["H1", 12345.67, 45, datetime(2020, 1, 20), "武汉市江岸区"],
        ["H2", -0.05, None, None, '=HYPERLINK("http://x")'],  # a string, never a formula
        ["H3", None, 0, datetime(2020, 2, 29), "+86 is fine inside, not first"],
    ]
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(TABLE, "en")))
    sheet = book.worksheets[0]
    assert sheet["B2"].number_format == "#,##0.00"
    assert sheet["B3"].data_type == "n" and sheet["E3"].data_type == "s"
    assert sheet.freeze_panes == "A2"


def test_the_worklist_exports_the_same_rows_in_both_forms() -> None:
    """The worklist's export goes through the same tables (desk.worklist.as_csv, as_xlsx)."""
    items = [
        WorkItem(
            Proposed("A", "disconnect", "disconnect", "B1", "", "逾期 45 天", "power", 12_000, 45),
            "power",
            "440305",
            "residential",
            ("hospital", "school"),
            "gd-exempt（免停）已于 2020-03-01 结束",
        ),
        WorkItem(
            Proposed("D", "low_balance", "low_balance", "", "", "余额不足", "power", 0, None),
            "power",
            "440305",
            "residential",
            (),
        ),
    ]
    lines = as_csv(items, "zh").splitlines()
    title, rows = rows_of(as_xlsx(items, "zh", date(2020, 3, 20)))
    assert title == "2020-03-20"
    assert lines[1:] == [
        "A,disconnect,disconnect,B1,,逾期 45 天,120.00,45,power,440305,residential,"
        "hospital;school,gd-exempt（免停）已于 2020-03-01 结束",
        "D,low_balance,low_balance,,,余额不足,0.00,,power,440305,residential,,",
    ]
    assert rows[0] == lines[0].split(",")
    assert rows[1:] == [
        ["A", "disconnect", "disconnect", "B1", None, "逾期 45 天", 120, 45, "power", "440305",
         "residential", "hospital;school", "gd-exempt（免停）已于 2020-03-01 结束"],
        ["D", "low_balance", "low_balance", None, None, "余额不足", 0, None, "power", "440305",
         "residential", None, None],
    ]  # fmt: skip
