"""The charts' frames of one company from the store, counted in the database (a few grouped
queries, never the events themselves), as `reports.run_frames` counts a run's files:

- protected accounts of a day: distinct accounts with a policy protection event (`exempt`,
  `defer`) recorded on that day by the daily run;
- 人次 per ISO week and kind;
- distinct protected accounts per province (the first two digits of the account's region);
- the day-by-day figures of the company's latest what-if that kept them (`whatif.trials`).

A company is one utility, so every row carries the company's. `runs_mark` tells when the
figures from the runs may have changed (a run recorded or removed), for a cache.
"""

from __future__ import annotations

import json
from datetime import date

import polars as pl
from sqlalchemy import Subquery, func, or_, select
from sqlalchemy.orm import Session

from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.regions import is_known, lookup
from sanbuting.reports.charts import iso_week
from sanbuting.store.models import Account, Company, ProtectionEvent, Run
from sanbuting.store.web_models import PolicyTrial

WHATIF_LOOKBACK = 20
"""How many of the latest what-ifs are searched for one with this company's days."""


def runs_mark(session: Session, company: Company) -> tuple[int, int]:
    """How many runs the company has and the latest one's id: changes whenever a run is
    recorded or removed."""
    count, last = session.execute(
        select(func.count(Run.id), func.coalesce(func.max(Run.id), 0)).where(
            Run.company_id == company.id
        )
    ).one()
    return int(count), int(last)


def _events(company: Company) -> Subquery:
    return (
        select(ProtectionEvent.day, ProtectionEvent.kind, ProtectionEvent.account)
        .join(Run, Run.id == ProtectionEvent.run)
        .where(Run.company_id == company.id, ProtectionEvent.kind.in_(sorted(POLICY_KINDS)))
        .subquery()
    )


def protected_by_day(session: Session, company: Company) -> pl.DataFrame:
    """`day, utility, accounts`."""
    events = _events(company)
    rows = session.execute(
        select(events.c.day, func.count(func.distinct(events.c.account)))
        .group_by(events.c.day)
        .order_by(events.c.day)
    ).all()
    return pl.DataFrame(
        [(day, company.utility, int(n)) for day, n in rows],
        schema={"day": pl.Date, "utility": pl.String, "accounts": pl.Int64},
        orient="row",
    )


def people_times_by_week(session: Session, company: Company) -> pl.DataFrame:
    """`week, utility, kind, count`."""
    events = _events(company)
    rows = session.execute(
        select(events.c.day, events.c.kind, func.count())
        .group_by(events.c.day, events.c.kind)
        .order_by(events.c.day, events.c.kind)
    ).all()
    daily = pl.DataFrame(
        [(iso_week(day), company.utility, kind, int(n)) for day, kind, n in rows],
        schema={"week": pl.String, "utility": pl.String, "kind": pl.String, "count": pl.Int64},
        orient="row",
    )
    return daily.group_by("week", "utility", "kind").agg(pl.col("count").sum()).sort(pl.all())


def by_province(session: Session, company: Company) -> pl.DataFrame:
    """`province` (its name), `count`: distinct protected accounts."""
    province = func.substr(Account.region, 1, 2)
    rows = session.execute(
        select(province, func.count(func.distinct(ProtectionEvent.account)))
        .select_from(ProtectionEvent)
        .join(Run, Run.id == ProtectionEvent.run)
        .join(Account, Account.id == ProtectionEvent.account)
        .where(Run.company_id == company.id, ProtectionEvent.kind.in_(sorted(POLICY_KINDS)))
        .group_by(province)
        .order_by(province)
    ).all()
    return pl.DataFrame(
        [(lookup(code).name if is_known(code) else code, int(n)) for code, n in rows],
        schema={"province": pl.String, "count": pl.Int64},
        orient="row",
    )


def latest_whatif(session: Session, company: Company) -> tuple[int, pl.DataFrame] | None:
    """The latest what-if of the company's own set (or the deployment's) that kept this
    company's days: its id and `day, scenario, count, measure` (`measure`: `events` or
    `cutoffs`; `scenario`: `before` with the sets in force, `after` with the uploaded one)."""
    trials = session.execute(
        select(PolicyTrial.id, PolicyTrial.figures)
        .where(or_(PolicyTrial.company_id == company.id, PolicyTrial.company_id.is_(None)))
        .order_by(PolicyTrial.created_at.desc(), PolicyTrial.id.desc())
        .limit(WHATIF_LOOKBACK)
    ).all()
    for trial_id, text in trials:
        days = json.loads(text or "{}").get("by_day", {}).get(company.code)
        if not days:
            continue
        rows = []
        for day, events_without, events_with, cutoffs_without, cutoffs_with in days:
            on = date.fromisoformat(day)
            rows += [
                (on, "before", events_without, "events"),
                (on, "after", events_with, "events"),
                (on, "before", cutoffs_without, "cutoffs"),
                (on, "after", cutoffs_with, "cutoffs"),
            ]
        frame = pl.DataFrame(
            rows,
            schema={"day": pl.Date, "scenario": pl.String, "count": pl.Int64, "measure": pl.String},
            orient="row",
        )
        return int(trial_id), frame
    return None
