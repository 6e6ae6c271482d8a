"""Charts people read, as SVG strings drawn on the server (`reports.svg`): pure functions from
Polars frames, labelled in simplified Chinese (`zh`, for zh-CN) or English (`en`).

- `protected_by_day`: protected accounts (户) per day, stacked by utility;
  columns `day: Date, utility: str, accounts: int`.
- `people_times_by_week`: protection events (人次) exempt (免停) and deferred (缓停) per ISO week,
  one panel per utility; columns `week: str` (`2020-W05`) or `Date` (any day of the week),
  `utility: str, kind: exempt|defer, count: int`.
- `by_province`: a horizontal bar per province, largest first (ties by name);
  columns `province: str` (a name), `count: int`.
- `worklist_counts`: a member of staff's open tickets in each of their worklists;
  columns `view: mine|team|escalated|all, count: int`.
- `whatif_by_day`: a what-if's day-by-day figure with the policies in force (before) and with the
  uploaded set (after); columns `day: Date, scenario: before|after, count: int`.
- `by_company`: the companies compared, a horizontal bar each stacked by kind (免停, 缓停);
  columns `company: str` (a name), `kind: exempt|defer`, `count: int`.
- `weekly_by_company`: 人次 per ISO week, stacked by company; columns `week`, `company`, `count`.
- `provinces_by_company`: protected accounts per province, stacked by company; columns
  `province` (a name), `company`, `count`.

Companies are coloured in the order given (`companies=`, default: by name), the same on every
chart of a page.

Utility codes (`power`, `telecom`, `gas`, and `all`: every utility as one) are shown by name;
other values as given. Days are
read and drawn in UTC, so the machine's time zone never moves a bar. A frame with no rows gives a
small chart that says there is nothing to show. Same frame, same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Literal

import altair as alt
import polars as pl

from sanbuting.reports.regulator import KIND_WORDS, UTILITY_NAMES
from sanbuting.reports.svg import ChartError, Lang, render

WIDTH = 560
HEIGHT = 220
KIND_COLOURS = ("#1b7f79", "#e0902f")
"""免停 and 缓停, always in these colours."""
UTILITY_COLOURS = {"power": "#3b6fb6", "telecom": "#7a4fa3", "gas": "#d1613c", "all": "#5b6770"}
"""Each utility in the same colour on every chart."""
OTHER_COLOUR = "#999999"
SCENARIO_COLOURS = ("#5b6770", "#c2452d")
COMPANY_COLOURS = (
    "#3b6fb6",
    "#d1613c",
    "#7a4fa3",
    "#1b7f79",
    "#c9a227",
    "#b5487a",
    "#5b6770",
    "#6aa84f",
    "#8c564b",
    "#17becf",
)
"""Companies in turn (a deployment with more than ten reuses them)."""
FEW = 6
"""Up to this count an axis has a tick at every whole number."""
WEEK_STEP = 36
"""The width of a week's bar, while the weeks fit in `WIDTH` (the chart is at least half of it)."""
SHORTEST_DAYS = 7
Chart = Callable[[pl.DataFrame, Lang], str]
"""What every chart function is: a frame and a language to an SVG string."""
Measure = Literal["accounts", "events", "cutoffs"]

WORDS: dict[Lang, dict[str, str]] = {
    "zh": {
        "day": "日期",
        "week": "周（ISO）",
        "utility": "行业",
        "kind": "类型",
        "province": "省份",
        "scenario": "方案",
        "before": "现行政策",
        "after": "上传的政策",
        "accounts": "受保护户数",
        "events": "保护人次",
        "cutoffs": "停电/停机/销户次数",
        "protected_by_day": "每日受保护户数（当日有保护事件的户）",
        "people_times_by_week": "每周免停、缓停人次",
        "by_province.accounts": "各省受保护户数",
        "by_province.events": "各省保护人次",
        "whatif.events": "试算：每日保护人次，现行政策与上传的政策",
        "whatif.cutoffs": "试算：每日停电/停机/销户次数，现行政策与上传的政策",
        "company": "企业",
        "by_company": "各企业免停、缓停人次",
        "weekly_by_company": "各企业每周保护人次",
        "provinces_by_company": "各省受保护户数（按企业）",
        "worklist": "我的待办工单（未办结）",
        "view.mine": "我的工单",
        "view.team": "本班组",
        "view.escalated": "已升级",
        "view.all": "全部未办结",
        "tickets": "工单数",
        "empty": "暂无数据",
        "all": "全部行业",
        "date_format": "%-m月%-d日",
    },
    "en": {
        "day": "day",
        "week": "ISO week",
        "utility": "utility",
        "kind": "kind",
        "province": "province",
        "scenario": "policies",
        "before": "in force",
        "after": "uploaded",
        "accounts": "protected accounts",
        "events": "protection events",
        "cutoffs": "cut-offs (suspend, disconnect, terminate)",
        "protected_by_day": "Protected accounts per day (accounts with a protection event)",
        "people_times_by_week": "Protection events (exempt, deferred) per week",
        "by_province.accounts": "Protected accounts by province",
        "by_province.events": "Protection events by province",
        "whatif.events": "What-if: protection events per day, in force and uploaded",
        "whatif.cutoffs": "What-if: cut-offs per day, in force and uploaded",
        "company": "company",
        "by_company": "Protection events (exempt, deferred) by company",
        "weekly_by_company": "Protection events per week, by company",
        "provinces_by_company": "Protected accounts by province and company",
        "worklist": "My open tickets",
        "view.mine": "mine",
        "view.team": "my team's",
        "view.escalated": "escalated",
        "view.all": "all open",
        "tickets": "tickets",
        "empty": "nothing to show yet",
        "all": "all utilities",
        "date_format": "%b %-d",
    },
}


def title_of(name: str, lang: Lang = "zh") -> str:
    """The title of chart `name` (a function of this module; `by_province` of accounts,
    `whatif_by_day` of cut-offs) in `lang`."""
    words = WORDS[lang]
    special = {"by_province": "by_province.accounts", "whatif_by_day": "whatif.cutoffs"}
    key = special.get(name, "worklist" if name == "worklist_counts" else name)
    return words.get(key, name)


def _need(frame: pl.DataFrame, chart: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ChartError(
            f"{chart} needs the columns {', '.join(columns)}: {', '.join(missing)} missing"
        )


def _config(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict()
    spec["config"] = {
        "background": "white",
        "font": "sans-serif",
        "view": {"stroke": None},
        "title": {"anchor": "start", "fontSize": 14, "fontWeight": "bold", "offset": 12},
        "axis": {"labelFontSize": 11, "titleFontSize": 12, "grid": True, "gridColor": "#eee"},
        "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "top"},
        "header": {"labelFontSize": 12, "titleFontSize": 12},
    }
    return spec


def _empty(title: str, lang: Lang) -> str:
    frame = pl.DataFrame({"text": [WORDS[lang]["empty"]]})
    chart = (
        alt.Chart(alt.InlineData(values=frame.to_dicts()))
        .mark_text(fontSize=14, color="#666")
        .encode(text="text:N")
        .properties(title=title, width=WIDTH, height=60)
    )
    return render(_config(chart), lang, title)


def _utility_names(column: pl.Expr, lang: Lang) -> pl.Expr:
    names = UTILITY_NAMES[lang] | {"all": WORDS[lang]["all"]}
    return column.cast(pl.String).replace(names)


def _utility_colours(lang: Lang) -> dict[str, str]:
    names = UTILITY_NAMES[lang] | {"all": WORDS[lang]["all"]}
    return {names[code]: colour for code, colour in UTILITY_COLOURS.items()}


def _day_text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Date).dt.strftime("%Y-%m-%d")


def _utc(day: date) -> alt.DateTime:
    return alt.DateTime(year=day.year, month=day.month, date=day.day, utc=True)


def _day_axis(lang: Lang, days: pl.Series) -> alt.X:
    """Days on a UTC time axis at least `SHORTEST_DAYS` long (a day or two alone would be a
    bar as wide as the chart), with at most about ten ticks, at whole days or (beyond three
    weeks) at the weeks' Sundays."""
    first, last = date.fromisoformat(str(days.min())), date.fromisoformat(str(days.max()))
    end = max(last + timedelta(days=1), first + timedelta(days=SHORTEST_DAYS))
    span = (end - first).days
    ticks = (
        alt.TimeIntervalStep(interval="day", step=max(1, -(-span // 10)))
        if span <= 3 * 7
        else alt.TimeIntervalStep(interval="week", step=max(1, -(-span // 70)))
    )
    return alt.X(
        "day:T",
        timeUnit="utcyearmonthdate",
        title=WORDS[lang]["day"],
        scale=alt.Scale(domain=[_utc(first), _utc(end)]),
        axis=alt.Axis(
            format=WORDS[lang]["date_format"],
            labelAngle=0,
            labelOverlap=True,
            tickCount=ticks,
        ),
    )


def _most(values: pl.Series) -> int:
    """The largest of whole counts (0 for none)."""
    top = values.max()
    return int(top) if isinstance(top, int) else 0


def _count_axis(top: int) -> alt.Axis:
    """Counts are whole: up to `FEW` a tick at each (never a tick at 0.5), beyond it the
    usual ticks, which are whole there."""
    if top <= FEW:
        return alt.Axis(format=",d", values=list(range(max(top, 1) + 1)))
    return alt.Axis(format=",d")


def protected_by_day(frame: pl.DataFrame, lang: Lang = "zh") -> str:
    """Protected accounts per day, a bar per day stacked by utility (see the module docstring)."""
    words = WORDS[lang]
    title = words["protected_by_day"]
    _need(frame, "protected_by_day", ("day", "utility", "accounts"))
    if frame.height == 0:
        return _empty(title, lang)
    rows = (
        frame.select(
            _day_text("day").alias("day"),
            _utility_names(pl.col("utility"), lang).alias("utility"),
            pl.col("accounts").cast(pl.Int64),
        )
        .group_by("day", "utility")
        .agg(pl.col("accounts").sum())
        .sort("day", "utility")
    )
    utilities = rows["utility"].unique().sort().to_list()
    colours = _utility_colours(lang)
    top = _most(rows.group_by("day").agg(pl.col("accounts").sum())["accounts"])
    chart = (
        alt.Chart(alt.InlineData(values=rows.to_dicts()))
        .mark_bar(width=alt.RelativeBandSize(0.85))
        .encode(
            x=_day_axis(lang, rows["day"]),
            y=alt.Y("sum(accounts):Q", title=words["accounts"], axis=_count_axis(top)),
            color=alt.Color(
                "utility:N",
                title=words["utility"],
                scale=alt.Scale(
                    domain=utilities, range=[colours.get(u, OTHER_COLOUR) for u in utilities]
                ),
            ),
        )
        .properties(title=title, width=WIDTH, height=HEIGHT)
    )
    return render(_config(chart), lang, title)


ISO_WEEK = "%G-W%V"
"""`2020-W05`: the ISO year and week of a day, as `strftime` writes it."""


def iso_week(day: date) -> str:
    """`2020-W05`: the ISO year and week of `day`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def people_times_by_week(frame: pl.DataFrame, lang: Lang = "zh") -> str:
    """人次 exempt and deferred per ISO week, stacked by kind, one panel per utility."""
    words = WORDS[lang]
    title = words["people_times_by_week"]
    _need(frame, "people_times_by_week", ("week", "utility", "kind", "count"))
    if frame.height == 0:
        return _empty(title, lang)
    week = pl.col("week")
    if frame.schema["week"] in (pl.Date, pl.Datetime):
        week = week.cast(pl.Date).dt.strftime(ISO_WEEK)
    kinds = KIND_WORDS[lang]
    rows = (
        frame.select(
            week.cast(pl.String).alias("week"),
            _utility_names(pl.col("utility"), lang).alias("utility"),
            pl.col("kind").cast(pl.String).replace(kinds).alias("kind"),
            pl.col("count").cast(pl.Int64),
        )
        .group_by("week", "utility", "kind")
        .agg(pl.col("count").sum())
        .sort("utility", "week", "kind")
    )
    kind_order = [kinds["exempt"], kinds["defer"]]
    panels = rows["utility"].unique().sort().to_list()
    top = _most(rows.group_by("utility", "week").agg(pl.col("count").sum())["count"])
    weeks = rows["week"].n_unique()
    width = min(WIDTH, max(WIDTH // 2, weeks * WEEK_STEP))
    size = WEEK_STEP - 8 if weeks * WEEK_STEP <= WIDTH else alt.Undefined  # a few stay narrow
    chart = (
        alt.Chart(alt.InlineData(values=rows.to_dicts()))
        .mark_bar(size=size)
        .encode(
            x=alt.X("week:O", title=words["week"], axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(count):Q", title=words["events"], axis=_count_axis(top)),
            color=alt.Color(
                "kind:N",
                title=words["kind"],
                scale=alt.Scale(domain=kind_order, range=list(KIND_COLOURS)),
            ),
        )
        .properties(width=width, height=max(100, HEIGHT // len(panels)))
        .facet(row=alt.Row("utility:N", title=None, sort=panels))
        .properties(title=title)
    )
    return render(_config(chart), lang, title)


def by_province(
    frame: pl.DataFrame, lang: Lang = "zh", *, measure: Measure = "accounts", top: int = 0
) -> str:
    """A horizontal bar per province, the largest first (ties by name), the `top` largest only
    when `top` > 0; `measure` names the figure on the axis."""
    words = WORDS[lang]
    title = words[f"by_province.{'events' if measure == 'events' else 'accounts'}"]
    _need(frame, "by_province", ("province", "count"))
    rows = (
        frame.select(pl.col("province").cast(pl.String), pl.col("count").cast(pl.Int64))
        .group_by("province")
        .agg(pl.col("count").sum())
        .sort(["count", "province"], descending=[True, False])
    )
    if top > 0:
        rows = rows.head(top)
    if rows.height == 0:
        return _empty(title, lang)
    bars = alt.Chart(alt.InlineData(values=rows.to_dicts())).encode(
        y=alt.Y("province:N", title=words["province"], sort=rows["province"].to_list()),
        x=alt.X("count:Q", title=words[measure], axis=_count_axis(_most(rows["count"]))),
    )
    chart = (
        alt.layer(
            bars.mark_bar(color=KIND_COLOURS[0]),
            bars.mark_text(align="left", dx=3, fontSize=11).encode(text="count:Q"),
        )
        .properties(title=title, width=WIDTH - 100, height=alt.Step(20))
        .resolve_scale(y="shared")
    )
    return render(_config(chart), lang, title)


def whatif_by_day(frame: pl.DataFrame, lang: Lang = "zh", *, measure: Measure = "cutoffs") -> str:
    """Before (policies in force) and after (the uploaded set) per day, one line each (the
    second dashed, so that a grey print tells them apart)."""
    words = WORDS[lang]
    title = words[f"whatif.{'events' if measure == 'events' else 'cutoffs'}"]
    _need(frame, "whatif_by_day", ("day", "scenario", "count"))
    if frame.height == 0:
        return _empty(title, lang)
    names = {"before": words["before"], "after": words["after"]}
    rows = (
        frame.select(
            _day_text("day").alias("day"),
            pl.col("scenario").cast(pl.String).replace(names).alias("scenario"),
            pl.col("count").cast(pl.Int64),
        )
        .group_by("day", "scenario")
        .agg(pl.col("count").sum())
        .sort("scenario", "day")
    )
    order = [names["before"], names["after"]]
    top = _most(rows["count"])
    chart = (
        alt.Chart(alt.InlineData(values=rows.to_dicts()))
        .mark_line(point=True)
        .encode(
            x=_day_axis(lang, rows["day"]),
            y=alt.Y("count:Q", title=words[measure], axis=_count_axis(top)),
            color=alt.Color(
                "scenario:N",
                title=words["scenario"],
                scale=alt.Scale(domain=order, range=list(SCENARIO_COLOURS)),
                legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2, symbolSize=300),
            ),
            strokeDash=alt.StrokeDash(
                "scenario:N",
                title=words["scenario"],
                scale=alt.Scale(domain=order, range=[[1, 0], [6, 3]]),
            ),
        )
        .properties(title=title, width=WIDTH, height=HEIGHT)
    )
    return render(_config(chart), lang, title)


def worklist_counts(frame: pl.DataFrame, lang: Lang = "zh") -> str:
    """A bar per worklist (mine, my team's, escalated, all open) in that order, with its
    count of open tickets."""
    words = WORDS[lang]
    title = words["worklist"]
    _need(frame, "worklist_counts", ("view", "count"))
    if frame.height == 0:
        return _empty(title, lang)
    order = [words[f"view.{v}"] for v in ("mine", "team", "escalated", "all")]
    rows = frame.select(
        pl.col("view")
        .cast(pl.String)
        .map_elements(lambda v: words.get(f"view.{v}", v), return_dtype=pl.String),
        pl.col("count").cast(pl.Int64),
    )
    shown = [v for v in order if v in set(rows["view"].to_list())]
    shown += sorted(set(rows["view"].to_list()) - set(shown))
    bars = alt.Chart(alt.InlineData(values=rows.to_dicts())).encode(
        y=alt.Y("view:N", title=None, sort=shown),
        x=alt.X("count:Q", title=words["tickets"], axis=_count_axis(_most(rows["count"]))),
    )
    chart = alt.layer(
        bars.mark_bar(color=UTILITY_COLOURS["power"]),
        bars.mark_text(align="left", dx=3, fontSize=11).encode(text="count:Q"),
    ).properties(title=title, width=WIDTH - 100, height=alt.Step(24))
    return render(_config(chart), lang, title)


def _company_scale(
    rows: pl.DataFrame, companies: tuple[str, ...] | None
) -> tuple[pl.DataFrame, alt.Scale]:
    """`rows` with each company's place (`company_order`, to stack in that order) and the
    companies' colours: in the order given, those not named after it by name."""
    present = set(rows["company"].to_list())
    order = [c for c in companies or () if c in present] + sorted(present - set(companies or ()))
    colours = [COMPANY_COLOURS[n % len(COMPANY_COLOURS)] for n in range(len(order))]
    place = {name: n for n, name in enumerate(order)}
    placed = rows.with_columns(
        pl.col("company").replace_strict(place, return_dtype=pl.Int64).alias("company_order")
    )
    return placed, alt.Scale(domain=order, range=colours)


def _company_legend(words: dict[str, str]) -> alt.Legend:
    return alt.Legend(title=words["company"], orient="top", columns=2, labelLimit=WIDTH // 2 - 30)


def by_company(frame: pl.DataFrame, lang: Lang = "zh") -> str:
    """A horizontal bar per company, stacked by kind (免停, 缓停), the most 人次 first (ties by
    name), with its total at the end."""
    words = WORDS[lang]
    title = words["by_company"]
    _need(frame, "by_company", ("company", "kind", "count"))
    kinds = KIND_WORDS[lang]
    rows = (
        frame.select(
            pl.col("company").cast(pl.String),
            pl.col("kind").cast(pl.String).replace(kinds).alias("kind"),
            pl.col("count").cast(pl.Int64),
        )
        .group_by("company", "kind")
        .agg(pl.col("count").sum())
    )
    if rows.height == 0:
        return _empty(title, lang)
    totals = (
        rows.group_by("company")
        .agg(pl.col("count").sum())
        .sort(["count", "company"], descending=[True, False])
    )
    order = totals["company"].to_list()
    kind_order = [kinds["exempt"], kinds["defer"]]
    y = alt.Y("company:N", title=None, sort=order)
    bars = (
        alt.Chart(alt.InlineData(values=rows.sort("company", "kind").to_dicts()))
        .mark_bar()
        .encode(
            y=y,
            x=alt.X(
                "sum(count):Q", title=words["events"], axis=_count_axis(_most(totals["count"]))
            ),
            color=alt.Color(
                "kind:N",
                title=words["kind"],
                scale=alt.Scale(domain=kind_order, range=list(KIND_COLOURS)),
            ),
            order=alt.Order("kind:N"),
        )
    )
    labels = (
        alt.Chart(alt.InlineData(values=totals.to_dicts()))
        .mark_text(align="left", dx=3, fontSize=11)
        .encode(y=y, x=alt.X("count:Q"), text=alt.Text("count:Q", format=",d"))
    )
    chart = (
        alt.layer(bars, labels)
        .properties(title=title, width=WIDTH - 120, height=alt.Step(24))
        .resolve_scale(y="shared")
    )
    return render(_config(chart), lang, title)


def weekly_by_company(
    frame: pl.DataFrame, lang: Lang = "zh", *, companies: tuple[str, ...] | None = None
) -> str:
    """人次 per ISO week, a bar per week stacked by company."""
    words = WORDS[lang]
    title = words["weekly_by_company"]
    _need(frame, "weekly_by_company", ("week", "company", "count"))
    week = pl.col("week")
    if frame.schema["week"] in (pl.Date, pl.Datetime):
        week = week.cast(pl.Date).dt.strftime(ISO_WEEK)
    rows = (
        frame.select(
            week.cast(pl.String).alias("week"),
            pl.col("company").cast(pl.String),
            pl.col("count").cast(pl.Int64),
        )
        .group_by("week", "company")
        .agg(pl.col("count").sum())
        .sort("week", "company")
    )
    if rows.height == 0:
        return _empty(title, lang)
    rows, scale = _company_scale(rows, companies)
    top = _most(rows.group_by("week").agg(pl.col("count").sum())["count"])
    weeks = rows["week"].n_unique()
    width = min(WIDTH, max(WIDTH // 2, weeks * WEEK_STEP))
    size = WEEK_STEP - 8 if weeks * WEEK_STEP <= WIDTH else alt.Undefined
    chart = (
        alt.Chart(alt.InlineData(values=rows.to_dicts()))
        .mark_bar(size=size)
        .encode(
            x=alt.X("week:O", title=words["week"], axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(count):Q", title=words["events"], axis=_count_axis(top)),
            color=alt.Color("company:N", scale=scale, legend=_company_legend(words)),
            order=alt.Order("company_order:Q"),
        )
        .properties(title=title, width=width, height=HEIGHT)
    )
    return render(_config(chart), lang, title)


def provinces_by_company(
    frame: pl.DataFrame,
    lang: Lang = "zh",
    *,
    companies: tuple[str, ...] | None = None,
    top: int = 0,
) -> str:
    """A horizontal bar per province stacked by company, the most protected accounts first
    (ties by name), the `top` provinces only when `top` > 0."""
    words = WORDS[lang]
    title = words["provinces_by_company"]
    _need(frame, "provinces_by_company", ("province", "company", "count"))
    rows = (
        frame.select(
            pl.col("province").cast(pl.String),
            pl.col("company").cast(pl.String),
            pl.col("count").cast(pl.Int64),
        )
        .group_by("province", "company")
        .agg(pl.col("count").sum())
        .sort("province", "company")
    )
    totals = (
        rows.group_by("province")
        .agg(pl.col("count").sum())
        .sort(["count", "province"], descending=[True, False])
    )
    if top > 0:
        totals = totals.head(top)
        rows = rows.filter(pl.col("province").is_in(totals["province"].to_list()))
    if rows.height == 0:
        return _empty(title, lang)
    rows, scale = _company_scale(rows, companies)
    chart = (
        alt.Chart(alt.InlineData(values=rows.to_dicts()))
        .mark_bar()
        .encode(
            y=alt.Y("province:N", title=words["province"], sort=totals["province"].to_list()),
            x=alt.X(
                "sum(count):Q", title=words["accounts"], axis=_count_axis(_most(totals["count"]))
            ),
            color=alt.Color("company:N", scale=scale, legend=_company_legend(words)),
            order=alt.Order("company_order:Q"),
        )
        .properties(title=title, width=WIDTH - 100, height=alt.Step(20))
    )
    return render(_config(chart), lang, title)
