"""One self-contained HTML page of a report: its charts as inline SVG and its tables, with
inline CSS, no script and no URL of anything outside the page (no font, style sheet or image is
fetched), so it can be mailed, archived and printed as it is (A4, a table's heading repeated on
each printed page, a chart never split).

Tables are Polars frames: every cell is escaped (Jinja2 autoescape). A column whose name ends
with `_fen` holds integer fen and is shown in yuan with two decimals: in Chinese with its unit,
`12.30 元`, and from ten thousand yuan on in 万元 or 亿元 (`1.43 万元`, rounded half up); in
English `12,345.67` under a heading that says `(yuan)`. Other numbers get thousands
separators and are aligned right. An address quoted in a title or a cell is defused
(`http：//`, `reports.svg.defuse`): shown, never followed. Same inputs, same bytes (no time is
written).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

import jinja2
import polars as pl
from markupsafe import Markup

from sanbuting import __version__
from sanbuting.reports.svg import ChartError, clean, defuse, external_urls

Lang = Literal["zh", "en"]
TEMPLATES = Path(__file__).parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
WAN = 10_000 * 100
"""Ten thousand yuan, in fen."""
YI = 100_000_000 * 100
"""One hundred million yuan, in fen."""
WORDS: dict[Lang, dict[str, str]] = {
    "zh": {
        "contents": "目录",
        "empty": "无记录",
        "footer": "生成工具：",
        "yuan": "元",
        "wan": "万元",
        "yi": "亿元",
        "true": "是",
        "false": "否",
    },
    "en": {
        "contents": "Contents",
        "empty": "No rows",
        "footer": "Made with",
        "yuan": "yuan",
        "wan": "",
        "yi": "",
        "true": "yes",
        "false": "no",
    },
}
CSS = """
:root { color: #1d232a; background: #fff; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
  "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2rem auto; max-width: 64rem;
  padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid #d5dbe0; }
nav ol { margin: 0; padding-left: 1.5rem; columns: 2; }
nav a { color: inherit; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #d5dbe0; padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
thead th { background: #eef2f5; }
tbody tr:nth-child(even) { background: #f7f9fa; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.empty { color: #5b6770; }
footer { margin-top: 2rem; color: #5b6770; font-size: .8rem; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; }
  nav { display: none; }
  section.chart, figure { break-inside: avoid; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
}
""".strip()


def _round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money_text(fen: int, lang: Lang = "zh") -> str:
    """Fen shown as yuan (see the module docstring): `1430000` -> `1.43 万元` (zh),
    `1,430,000` -> `14,300.00` (en), `1230` -> `12.30 元` (zh)."""
    words = WORDS[lang]
    sign = "-" if fen < 0 else ""
    size = abs(fen)
    if lang == "en":
        return f"{sign}{_round2(Decimal(size) / 100):,}"
    if size >= YI:
        return f"{sign}{_round2(Decimal(size) / YI):,} {words['yi']}"
    if size >= WAN:
        return f"{sign}{_round2(Decimal(size) / WAN)} {words['wan']}"
    return f"{sign}{_round2(Decimal(size) / 100)} {words['yuan']}"


def _cell(value: object, money: bool, lang: Lang) -> tuple[str, bool]:
    """A cell's text, and whether it is a number (aligned right)."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return WORDS[lang]["true" if value else "false"], False
    if money and isinstance(value, int):
        return money_text(value, lang), True
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        return f"{value:,.2f}", True
    if isinstance(value, Decimal):
        return f"{value:,}", True
    if isinstance(value, datetime | date):
        return value.isoformat(), False
    return defuse(str(value)), False


@dataclass(frozen=True)
class _Table:
    headings: list[tuple[str, bool]]
    rows: list[list[tuple[str, bool]]]


def _heading(name: str, lang: Lang) -> str:
    if not name.endswith("_fen"):
        return name
    base = name.removesuffix("_fen")
    return f"{base} (yuan)" if lang == "en" else base


def _table(frame: pl.DataFrame, lang: Lang) -> _Table:
    money = [name.endswith("_fen") for name in frame.columns]
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    rows = [
        [_cell(value, m, lang) for value, m in zip(row, money, strict=True)]
        for row in frame.iter_rows()
    ]
    headings = [(_heading(n, lang), num) for n, num in zip(frame.columns, numeric, strict=True)]
    return _Table([(defuse(h), n) for h, n in headings], rows)


def render_report(
    title: str,
    tables: Mapping[str, pl.DataFrame],
    charts: Mapping[str, str],
    lang: Lang = "zh",
) -> str:
    """The page (see the module docstring): `charts` are SVG strings by caption
    (`reports.charts`), then `tables` by caption, each in the order given."""
    inline = [
        (f"chart-{n}", defuse(caption), Markup(clean(svg, caption)))
        for n, (caption, svg) in enumerate(charts.items(), start=1)
    ]
    shown = [
        (f"table-{n}", defuse(caption), _table(frame, lang))
        for n, (caption, frame) in enumerate(tables.items(), start=1)
    ]
    page = _ENV.get_template("report.html").render(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=defuse(title),
        version=__version__,
        css=Markup(CSS),
        words=WORDS[lang],
        contents=[(a, c) for a, c, _ in inline] + [(a, c) for a, c, _ in shown],
        charts=inline,
        tables=shown,
    )
    outside = external_urls(page)
    if outside:
        raise ChartError(f"the page would link outside itself: {outside[0]}")
    return page
