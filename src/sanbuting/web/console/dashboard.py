"""The console dashboard's charts, one set per role, drawn on the server as inline SVG
(`reports.charts`: no script, nothing fetched, the site's Content-Security-Policy kept):

- supervisor: protected accounts per day, and 人次 (exempt, deferred) per week;
- agent: their open tickets in each worklist (mine, my team's, escalated if they lead a team,
  all open);
- policy administrator: the latest what-if's would-be cut-offs and protection events per day,
  before and after (`reports.store_frames.latest_whatif`); without one, protected accounts
  per day;
- regulator: protected accounts by province, and 人次 per week;
- deployment regulator: the companies compared (`deployment_charts`): 人次 exempt and deferred
  by company, 人次 per week by company, protected accounts by province and company; and each
  company's own page (`company_charts`): protected accounts per day, 人次 per week, by province.

Figures from the daily runs are counted in the database and drawn once per company, role,
language and state of the runs (`store_frames.runs_mark`): a dashboard opened again before the
next run is recorded costs one query. A what-if's charts are kept by its id, an agent's by its
counts. A chart that cannot be drawn is left out (and logged), never an error page.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime

import polars as pl
from markupsafe import Markup
from sqlalchemy.orm import Session

from sanbuting.applications import tickets
from sanbuting.errors import Forbidden
from sanbuting.regions import is_known, lookup
from sanbuting.reports import charts, deployment, store_frames
from sanbuting.reports.svg import ChartError, Lang
from sanbuting.store.models import Company
from sanbuting.store.web_models import Staff

LOG = logging.getLogger(__name__)
KEPT = 256
"""How many drawn chart sets are kept (least recently used goes first)."""

Drawn = tuple[tuple[str, Markup], ...]
"""(chart name, SVG) in the order shown."""

_kept: OrderedDict[Hashable, Drawn] = OrderedDict()
_lock = threading.Lock()


def _cached(key: Hashable, draw: Callable[[], Drawn]) -> Drawn:
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    drawn = draw()
    with _lock:
        _kept[key] = drawn
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return drawn


def forget() -> None:
    """Drop every kept chart (tests)."""
    with _lock:
        _kept.clear()


def _runs(session: Session, company: Company, lang: Lang, names: tuple[str, ...]) -> Drawn:
    """Charts of the daily runs' figures, kept until a run is recorded or removed."""

    def draw() -> Drawn:
        drawn = []
        for name in names:
            if name == "protected_by_day":
                svg = charts.protected_by_day(store_frames.protected_by_day(session, company), lang)
            elif name == "people_times_by_week":
                frame = store_frames.people_times_by_week(session, company)
                svg = charts.people_times_by_week(frame, lang)
            else:
                svg = charts.by_province(store_frames.by_province(session, company), lang)
            drawn.append((name, Markup(svg)))
        return tuple(drawn)

    mark = store_frames.runs_mark(session, company)
    return _cached(("runs", company.id, lang, names, mark), draw)


def _whatif(session: Session, company: Company, lang: Lang) -> Drawn | None:
    found = store_frames.latest_whatif(session, company)
    if found is None:
        return None
    trial_id, frame = found

    def draw() -> Drawn:
        return tuple(
            (
                f"whatif_{measure}",
                Markup(
                    charts.whatif_by_day(
                        frame.filter(measure=measure).drop("measure"), lang, measure=measure
                    )
                ),
            )
            for measure in ("cutoffs", "events")
        )

    return _cached(("whatif", company.id, lang, trial_id), draw)


def _worklists(session: Session, staff: Staff, lang: Lang, now: datetime) -> Drawn:
    counts = []
    for view in tickets.VIEWS:
        try:
            _, total = tickets.worklist(session=session, staff=staff, view=view, now=now, size=1)
        except Forbidden:  # no team, or not a team lead: that list is not theirs
            continue
        counts.append((view, total))

    def draw() -> Drawn:
        frame = pl.DataFrame(counts, schema={"view": pl.String, "count": pl.Int64}, orient="row")
        return (("worklist", Markup(charts.worklist_counts(frame, lang))),)

    return _cached(("worklist", lang, tuple(counts)), draw)


def dashboard_charts(
    *, session: Session, staff: Staff, company: Company, lang: Lang, now: datetime
) -> Drawn:
    """The charts of `staff`'s role (see the module docstring); empty for other roles."""
    try:
        if staff.role == "supervisor":
            return _runs(session, company, lang, ("protected_by_day", "people_times_by_week"))
        if staff.role == "regulator":
            return _runs(session, company, lang, ("by_province", "people_times_by_week"))
        if staff.role == "policy_admin":
            found = _whatif(session, company, lang)
            return found if found else _runs(session, company, lang, ("protected_by_day",))
        if staff.role == "agent":
            return _worklists(session, staff, lang, now)
    except ChartError:
        LOG.exception("the dashboard's charts of %s could not be drawn", staff.role)
    return ()


def company_charts(*, session: Session, company: Company, lang: Lang) -> Drawn:
    """The charts of one company's daily runs (its page under `/console/companies`)."""
    try:
        return _runs(
            session, company, lang, ("protected_by_day", "people_times_by_week", "by_province")
        )
    except ChartError:
        LOG.exception("the charts of company %s could not be drawn", company.id)
    return ()


def deployment_charts(
    *, session: Session, companies: list[Company], names: dict[str, str], lang: Lang
) -> Drawn:
    """The companies compared, each shown by its name in `names` (code → name), in the order
    given: 人次 exempt and deferred by company, 人次 per week by company, protected accounts by
    province and company; drawn again once a run of any of them is recorded or removed."""
    marks = tuple((company.id, store_frames.runs_mark(session, company)) for company in companies)

    def draw() -> Drawn:
        shown = pl.col("company").replace_strict(names, return_dtype=pl.String)
        order = tuple(names[company.code] for company in companies)
        weeks = deployment.weekly(session, companies).with_columns(shown)
        kinds = weeks.unpivot(
            ["exempt_events", "defer_events"], index="company", variable_name="kind"
        ).select(
            "company",
            pl.col("kind").str.strip_suffix("_events"),
            pl.col("value").alias("count"),
        )
        places = deployment.provinces(session, companies)
        places = places.select(
            pl.col("province").replace_strict(province_names(places["province"].to_list())),
            shown,
            pl.col("protected_accounts").alias("count"),
        )
        weekly = weeks.select(
            "week", "company", (pl.col("exempt_events") + pl.col("defer_events")).alias("count")
        )
        return (
            ("by_company", Markup(charts.by_company(kinds, lang))),
            ("weekly_by_company", Markup(charts.weekly_by_company(weekly, lang, companies=order))),
            (
                "provinces_by_company",
                Markup(charts.provinces_by_company(places, lang, companies=order)),
            ),
        )

    try:
        return _cached(("deployment", lang, marks, tuple(sorted(names.items()))), draw)
    except ChartError:
        LOG.exception("the companies' charts could not be drawn")
    return ()


def province_names(codes: list[str]) -> dict[str, str]:
    """Each province code of `codes` → its name (an unknown code stays as it is)."""
    return {code: lookup(code).name if is_known(code) else code for code in set(codes)}
