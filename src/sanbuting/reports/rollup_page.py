"""The roll-up as one self-contained HTML page (`reports.html_page`): the charts of the range
(`reports.charts`: protected accounts per day, 人次 per week, protected accounts by province)
as inline SVG, then the tables with their total rows."""

from __future__ import annotations

import polars as pl

from sanbuting.reports import charts
from sanbuting.reports.html_page import render_report
from sanbuting.reports.labels import WORDS
from sanbuting.reports.rollup import Rollup
from sanbuting.reports.rollup_view import page_tables


def rollup_charts(rollup: Rollup) -> dict[str, str]:
    """The charts of the rollup's range, as SVG by title."""
    lang = rollup.lang
    events = rollup.events
    by_day = (
        events.group_by("day", "utility")
        .agg(pl.col("account_id").n_unique().cast(pl.Int64).alias("accounts"))
        .sort("day", "utility")
    )
    by_week = (
        events.group_by(pl.col("day").alias("week"), "utility", "kind")
        .len("count")
        .sort("week", "utility", "kind")
    )
    provinces = events.group_by("province").agg(
        pl.col("account_id").n_unique().cast(pl.Int64).alias("count")
    )
    words = charts.WORDS[lang]
    return {
        words["protected_by_day"]: charts.protected_by_day(by_day, lang),
        words["people_times_by_week"]: charts.people_times_by_week(by_week, lang),
        words["by_province.accounts"]: charts.by_province(provinces, lang),
    }


def rollup_html(rollup: Rollup) -> str:
    """The page of `rollup`, titled with the report's name and range."""
    words = WORDS[rollup.lang]
    title = f"{words['report']}：{rollup.start} 至 {rollup.end}"
    if rollup.lang == "en":
        title = f"{words['report']}: {rollup.start} to {rollup.end}"
    return render_report(title, page_tables(rollup), rollup_charts(rollup), rollup.lang)
