"""The roll-up (`reports.rollup`) made readable: each table with its total row and its
headers in the reader's language, for the page (`html_page`, which shows a `…_fen` column
as money), for the workbook (`reports.workbook`) and as lines of text.
"""

from __future__ import annotations

import unicodedata
from datetime import date

import polars as pl

from sanbuting.reports.labels import (
    COLUMNS,
    DATE_COLUMNS,
    MONEY_COLUMNS,
    PAYMENTS_TITLE,
    TITLES,
    WORDS,
    format_count,
    format_money,
)
from sanbuting.reports.rollup import KEYS, PAYMENT_MEASURES, By, Rollup


def total_row(rollup: Rollup, by: By) -> dict[str, object]:
    """The total row of the table `by`: its first key says so; sums, but the distinct 户 of
    the whole range (`Rollup.totals`)."""
    frame = rollup.tables[by]
    keys = KEYS[by]
    total: dict[str, object] = dict.fromkeys(keys, "")
    total[keys[0]] = WORDS[rollup.lang]["total"]
    for name in frame.columns:
        if name in keys:
            continue
        distinct = name in ("protected_accounts", "accounts", "paying_accounts")
        total[name] = rollup.totals[name] if distinct else int(frame.get_column(name).sum())
    return total


def with_total(rollup: Rollup, by: By) -> pl.DataFrame:
    """The table `by` with its keys as text (dates ISO) and its total row last."""
    frame = rollup.tables[by]
    shown = frame.with_columns(
        pl.col(k).cast(pl.String) for k in KEYS[by] if frame.schema[k] == pl.Date
    )
    row = pl.DataFrame([total_row(rollup, by)], schema=shown.schema, orient="row")
    return pl.concat([shown, row], how="vertical")


def header(name: str, rollup: Rollup) -> str:
    """A column's header in the rollup's language."""
    return COLUMNS[rollup.lang][name]


def page_tables(rollup: Rollup) -> dict[str, pl.DataFrame]:
    """Title → table with its total row, headers in the reader's language; a money column's
    header ends in `_fen` (the page shows it as 元/万元/亿元 and drops the suffix). A table's
    payment columns are a table of their own, after it, so that a page holds each."""
    tables: dict[str, pl.DataFrame] = {}
    unit = {"zh": "（元）", "en": " (yuan)"}[rollup.lang]
    for by in rollup.tables:
        frame = with_total(rollup, by)
        names = {
            c: (header(c, rollup).removesuffix(unit) + "_fen")
            if c in MONEY_COLUMNS
            else header(c, rollup)
            for c in frame.columns
        }
        title = TITLES[rollup.lang][by]
        if by == "channel":
            tables[title] = frame.rename(names)
            continue
        keys = list(KEYS[by])
        paid = [c for c in frame.columns if c in PAYMENT_MEASURES]
        tables[title] = frame.drop(paid).rename(
            {c: names[c] for c in frame.columns if c not in paid}
        )
        paid_title = PAYMENTS_TITLE[rollup.lang].format(title=title)
        tables[paid_title] = frame.select(*keys, *paid).rename(
            {c: names[c] for c in (*keys, *paid)}
        )
    return tables


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _cell(name: str, value: object, rollup: Rollup) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and name in MONEY_COLUMNS:
        return format_money(value, rollup.lang)
    if isinstance(value, int):
        return format_count(value, rollup.lang)
    return "" if value is None else str(value)


def text_lines(rollup: Rollup) -> list[str]:
    """Every table as aligned columns under its title, after the range's line (money with
    its unit in each cell; of the provinces, those with accounts)."""
    words = WORDS[rollup.lang]
    lines = [
        words["range"].format(
            start=rollup.start,
            end=rollup.end,
            run_start=rollup.run_start,
            run_end=rollup.run_end,
        )
    ]
    unit = {"zh": "（元）", "en": " (yuan)"}[rollup.lang]
    for by in rollup.tables:
        frame = with_total(rollup, by)
        if by == "province":  # every province in the files; those with accounts in text
            frame = frame.filter(pl.col("accounts") > 0)
        keys = KEYS[by]
        heads = [header(c, rollup).removesuffix(unit) for c in frame.columns]
        cells = [
            [_cell(c, v, rollup) for c, v in zip(frame.columns, row, strict=True)]
            for row in frame.iter_rows()
        ]
        widths = [max(_width(t) for t in [h, *(r[i] for r in cells)]) for i, h in enumerate(heads)]
        right = [c not in keys and c not in DATE_COLUMNS for c in frame.columns]
        lines += ["", TITLES[rollup.lang][by]]
        for row in [heads, *cells]:
            padded = (_pad(t, w, r) for t, w, r in zip(row, widths, right, strict=True))
            lines.append("  " + "  ".join(padded).rstrip())
    return lines
