"""The report as one self-contained HTML page (`reports.html_page`): its charts inline as SVG,
its tables escaped, money in 元/万元/亿元 (simplified Chinese) or yuan, no script and no URL of
anything outside the page, `lang` set, the same bytes for the same inputs."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import polars as pl
import pytest

from sanbuting.reports import charts
from sanbuting.reports.html_page import money_text, render_report
from sanbuting.reports.svg import SVG_NAMESPACE, ChartError, external_urls

TABLE = pl.DataFrame(
    {
        "行业": ["电网", '<b>电信</b> & "x"', "燃气"],
        "人次": [12_345, 5, None],
        "受保护欠费_fen": [1_430_000, 1_230, 12_345_678_901],
        "日期": [date(2020, 1, 24), date(2020, 2, 1), None],
    }
)
CHART = charts.by_province(pl.DataFrame({"province": ["湖北省"], "count": [3]}), "zh")


class Parsed(HTMLParser):
    """The page's elements and their attributes, and every cell's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("td", "th"):
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


def parse(page: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(page)
    return parsed


@pytest.mark.parametrize(
    ("fen", "zh", "en"),
    [
        (0, "0.00 元", "0.00"),
        (1_230, "12.30 元", "12.30"),
        (999_999, "9999.99 元", "9,999.99"),
        (1_000_000, "1.00 万元", "10,000.00"),
        (1_430_000, "1.43 万元", "14,300.00"),
        (1_435_000, "1.44 万元", "14,350.00"),
        (-1_435_000, "-1.44 万元", "-14,350.00"),
        (12_345_678_901, "1.23 亿元", "123,456,789.01"),
    ],
)
def test_money_in_yuan_wan_and_yi(fen: int, zh: str, en: str) -> None:
    assert money_text(fen, "zh") == zh
    assert money_text(fen, "en") == en


def test_the_page_holds_its_charts_and_escaped_tables_and_nothing_from_outside() -> None:
    title = "三不停报告 <2020> & 汇总"
    page = render_report(title, {"按行业 <统计>": TABLE}, {"各省": CHART}, "zh")
    assert page.startswith('<!doctype html>\n<html lang="zh-CN">')
    assert external_urls(page) == []
    assert re.findall(r"https?://[^\s\"'<>]*", page) == [SVG_NAMESPACE]
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "<title>三不停报告 &lt;2020&gt; &amp; 汇总</title>" in page
    assert "<h2>按行业 &lt;统计&gt;</h2>" in page
    assert "<b>" not in page and "&lt;b&gt;电信&lt;/b&gt; &amp; &#34;x&#34;" in page
    assert page.count("<svg") == 1 and "湖北省" in page
    parsed = parse(page)
    assert [t for t, _ in parsed.tags].count("table") == 1
    assert parsed.cells[:4] == ["行业", "人次", "受保护欠费", "日期"]
    assert parsed.cells[4:8] == ["电网", "12,345", "1.43 万元", "2020-01-24"]
    assert parsed.cells[8:12] == ['<b>电信</b> & "x"', "5", "12.30 元", "2020-02-01"]
    assert parsed.cells[12:16] == ["燃气", "", "1.23 亿元", ""]
    for tag, attrs in parsed.tags:  # only links inside the page
        for name in ("href", "src"):
            assert attrs.get(name) is None or str(attrs[name]).startswith("#"), (tag, attrs)
    assert page == render_report(title, {"按行业 <统计>": TABLE}, {"各省": CHART}, "zh")


def test_english_page_and_an_empty_table() -> None:
    page = render_report("Report", {"Empty": TABLE.clear(), "All": TABLE}, {}, "en")
    assert '<html lang="en">' in page
    assert "No rows" in page
    cells = parse(page).cells
    assert "受保护欠费 (yuan)" in cells and "14,300.00" in cells
    assert "<svg" not in page


def test_a_chart_that_is_not_a_safe_svg_is_refused() -> None:
    with pytest.raises(ChartError):
        render_report("x", {}, {"bad": "<svg><script>alert(1)</script></svg>"}, "zh")
    with pytest.raises(ChartError):
        render_report("x", {}, {"bad": '<img src="https://example.com/a.png">'}, "zh")


def test_an_address_in_a_cell_or_title_is_shown_not_linked() -> None:
    frame = pl.DataFrame({"source": ["https://example.com/policy"]})
    page = render_report("see http://example.com", {"t": frame}, {}, "zh")
    assert external_urls(page) == []
    assert "https：//example.com/policy" in parse(page).cells
