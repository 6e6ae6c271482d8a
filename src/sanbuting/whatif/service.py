"""What-if: what an uploaded relief-policy set would do, before it is activated.

The uploaded YAML is checked whole (`policy.parse_policies`: a bad file is a `PolicyError`
with every `file:line: message`, and nothing changes). The set's window runs from the earliest
start to the latest end of its policies; for each company it is clipped to the days the store's
engine can run, from the company's origin. The engine the daily run uses (`store.daily.decide`
over `store.frames.load_frames`) runs over the company's accounts from its origin through the
window's last day twice: once with the active set, once with the uploaded set in its place (as
activation would do). Per utility it reports:

- accounts touched: accounts in the scope of any uploaded policy;
- arrears of the touched accounts at the end of day `on` (clipped into the run), with the
  active set: the money at stake;
- protection events (人次) and protected accounts (户) inside the window, without and with;
- would-be cut-offs (suspend, disconnect and terminate actions) inside the window, without and
  with;
- late fees waived over the run (origin through the window's end), without and with.

Nothing is written. Correct before fast: two (or three) full engine runs per company.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta

import polars as pl
from sqlalchemy.orm import Session

from sanbuting.engine.fast.prepare import scope_expr
from sanbuting.engine.frames import RunFrames
from sanbuting.policy import Policy, parse_policies
from sanbuting.store.daily import decide
from sanbuting.store.frames import load_frames
from sanbuting.store.models import Company
from sanbuting.store.policies import active

CUTOFFS = ("suspend", "disconnect", "terminate")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class UtilityFigures:
    """One utility's figures; `_without` is the active set, `_with` the uploaded set."""

    utility: str
    accounts: int = 0
    touched: int = 0
    arrears_fen: int = 0
    events_without: int = 0
    events_with: int = 0
    protected_without: int = 0
    protected_with: int = 0
    cutoffs_without: int = 0
    cutoffs_with: int = 0
    waived_without_fen: int = 0
    waived_with_fen: int = 0

    def plus(self, other: UtilityFigures) -> UtilityFigures:
        summed = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name != "utility"
        }
        return replace(self, **summed)


@dataclass(frozen=True)
class CompanyWindow:
    """The days counted for one company: `first`..`last` (None: the window ended before the
    company's origin, nothing to count), and the day its arrears are read."""

    company: str
    utility: str
    first: date | None
    last: date | None
    arrears_on: date | None
    clipped: bool
    """The window starts before the company's origin: counted from the origin."""
    name: str = ""
    """The company's name, as staff read it (`company` is its code)."""


@dataclass(frozen=True)
class WhatIf:
    file_name: str
    sha256: str
    policies: int
    first_day: date
    last_day: date
    """The set's window, both days included."""
    companies: tuple[CompanyWindow, ...]
    utilities: tuple[UtilityFigures, ...]
    seconds: float


def what_if(
    *, session: Session, company_ids: list[int], text: str, file_name: str, on: date
) -> WhatIf:
    """The figures of the uploaded set `text` over the companies `company_ids` (see the module
    docstring); a `PolicyError` if it does not load."""
    began = time.perf_counter()
    uploaded = parse_policies(text, file_name)
    first_day = min(p.window.start for p in uploaded)
    last_day = max(p.window.end for p in uploaded) - ONE_DAY
    _, current = active(session=session)
    windows: list[CompanyWindow] = []
    totals: dict[str, UtilityFigures] = {}
    for company_id in sorted(set(company_ids)):
        company = session.get(Company, company_id)
        if company is None or company.origin is None:
            continue
        window, figures = _company(session, company, current, uploaded, first_day, last_day, on)
        windows.append(window)
        before = totals.get(company.utility, UtilityFigures(company.utility))
        totals[company.utility] = before.plus(figures)
    return WhatIf(
        file_name=file_name,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        policies=len(uploaded),
        first_day=first_day,
        last_day=last_day,
        companies=tuple(windows),
        utilities=tuple(totals[u] for u in sorted(totals)),
        seconds=time.perf_counter() - began,
    )


def _company(
    session: Session,
    company: Company,
    current: list[Policy],
    uploaded: list[Policy],
    first_day: date,
    last_day: date,
    on: date,
) -> tuple[CompanyWindow, UtilityFigures]:
    origin = company.origin
    assert origin is not None
    frames = load_frames(session, [company.id])
    accounts = frames[0]
    in_scope = pl.any_horizontal([scope_expr(p.scope) for p in uploaded])
    touched = accounts.filter(in_scope)["account_id"]
    figures = UtilityFigures(company.utility, accounts=accounts.height, touched=touched.len())
    if last_day < origin or accounts.height == 0:
        window = CompanyWindow(
            company.code, company.utility, None, None, None, first_day < origin, company.name
        )
        return window, figures
    first = max(first_day, origin)
    arrears_on = min(max(on, origin), last_day)
    without = decide(frames, current, company, last_day, "fast", None)
    with_new = decide(frames, uploaded, company, last_day, "fast", None)
    at_on = (
        without
        if arrears_on == last_day
        else decide(frames, current, company, arrears_on, "fast", None)
    )
    arrears = at_on.states.filter(pl.col("account_id").is_in(touched.implode()))["arrears_fen"]
    events_without, protected_without = _protections(without, first, last_day)
    events_with, protected_with = _protections(with_new, first, last_day)
    figures = replace(
        figures,
        arrears_fen=int(arrears.sum() or 0),
        events_without=events_without,
        events_with=events_with,
        protected_without=protected_without,
        protected_with=protected_with,
        cutoffs_without=_cutoffs(without, first, last_day),
        cutoffs_with=_cutoffs(with_new, first, last_day),
        waived_without_fen=int(without.fees["waived_fen"].sum() or 0),
        waived_with_fen=int(with_new.fees["waived_fen"].sum() or 0),
    )
    window = CompanyWindow(
        company.code,
        company.utility,
        first,
        last_day,
        arrears_on,
        first_day < origin,
        company.name,
    )
    return window, figures


def _protections(result: RunFrames, first: date, last: date) -> tuple[int, int]:
    """Protection events (人次) and protected accounts (户) dated inside the window."""
    inside = result.protections.filter(pl.col("date").is_between(first, last))
    return inside.height, inside["account_id"].n_unique()


def _cutoffs(result: RunFrames, first: date, last: date) -> int:
    """Suspend, disconnect and terminate actions dated inside the window."""
    inside = result.actions.filter(
        pl.col("date").is_between(first, last),
        pl.col("action").cast(pl.String).is_in(CUTOFFS),
    )
    return inside.height
