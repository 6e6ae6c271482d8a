"""What-if: what an uploaded relief-policy set would do, before it is activated.

The uploaded YAML is checked whole (`policy.parse_policies`: a bad file is a `PolicyError`
with every `file:line: message`, and nothing changes). It is tried in a scope: one company's
own set, or the deployment-wide set (which every company's policies begin with). For each
company the scope covers, the engine the daily run uses (`jobs.daily.decide` over
`store.held_frames.load_run_frames`) runs over the company's accounts from its origin through the
window's last day twice: with the policies in force, and with the uploaded set in place of the
set it replaces (as activation would do). The window runs from the earliest start to the
latest end of the uploaded policies and of those they replace (so removing a policy shows
too), clipped to the days from the company's origin. Per company it reports:

- accounts touched: accounts in the scope of any uploaded or replaced policy;
- arrears of the touched accounts at the end of day `on` (clipped into the run), with the
  policies in force: the money at stake;
- protection events (人次) and protected accounts (户) inside the window, without and with;
- would-be cut-offs (suspend, disconnect and terminate actions) inside the window, without and
  with;
- late fees waived over the run (origin through the window's end), without and with;
- day by day inside the window: protection events and would-be cut-offs, without and with
  (`by_day`, the what-if chart's data, `reports.charts.whatif_by_day`);

- the accounts whose actions change (`whatif.accounts`): each account's day inside the window
  whose actions differ, before → after, with the policy that made the difference; `changed`
  counts those accounts;

and, for the file, the policy ids it adds and removes against the set it replaces, and what
it changes policy by policy (`whatif.policy_diff`: windows moved, scopes and effects changed).
Nothing is written here (`whatif.trials` remembers a what-if for activation, with its changed
accounts). Correct before fast: two (or three) full engine runs per company.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import polars as pl
from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.engine.fast.prepare import scope_expr
from sanbuting.engine.frames import RunTables
from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.jobs.activation import affected, check_ids, scope_name
from sanbuting.jobs.daily import decide
from sanbuting.policy import Policy, parse_policies
from sanbuting.rules import rulesets_by_utility
from sanbuting.store.held_frames import load_run_frames
from sanbuting.store.models import Company
from sanbuting.store.policy_versions import in_force, parsed
from sanbuting.whatif import policy_diff
from sanbuting.whatif.accounts import AccountChange, account_changes
from sanbuting.whatif.policy_diff import PolicyChange

CUTOFFS = ("suspend", "disconnect", "terminate")
ONE_DAY = timedelta(days=1)
FIGURES = (
    "accounts",
    "touched",
    "arrears_fen",
    "events_without",
    "events_with",
    "protected_without",
    "protected_with",
    "cutoffs_without",
    "cutoffs_with",
    "waived_without_fen",
    "waived_with_fen",
    "changed",
)
"""The figures of each company, in the order they are shown."""


@dataclass(frozen=True)
class DayFigures:
    """One day of the window: protection events and would-be cut-offs, without and with."""

    day: date
    events_without: int
    events_with: int
    cutoffs_without: int
    cutoffs_with: int


@dataclass(frozen=True)
class Figures:
    """One company's figures; `_without` is with the policies in force, `_with` with the
    uploaded set in place. `first`..`last` are the days counted (None: the window ended
    before the company's origin), `arrears_on` the day its arrears are read."""

    company: str
    name: str
    utility: str
    first: date | None = None
    last: date | None = None
    arrears_on: date | None = None
    clipped: bool = False
    """The window starts before the company's origin: counted from the origin."""
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
    changed: int = field(default=0, compare=False)
    """Accounts with a day whose actions change (`whatif.accounts`); left out of comparisons
    like `by_day`."""
    by_day: tuple[DayFigures, ...] = field(default=(), compare=False)
    """Every day of `first`..`last`, in order (empty when nothing was counted); derived from
    the same runs as the totals, so left out of comparisons."""


@dataclass(frozen=True)
class WhatIf:
    file_name: str
    sha256: str
    policies: int
    scope: str
    """A company's code, or `deployment`."""
    first_day: date | None
    last_day: date | None
    """The window, both days included (None: neither set has a policy)."""
    companies: tuple[Figures, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    """Policy ids the file adds to, and drops from, the set it replaces."""
    seconds: float
    policy_changes: tuple[PolicyChange, ...] = ()
    """What the file adds, removes and changes, policy by policy."""
    changes: tuple[AccountChange, ...] = field(default=(), repr=False)
    """Every company's changed account-days, by company, account and day."""


def what_if(
    *, session: Session, scope: Company | None, text: str, file_name: str, on: date
) -> WhatIf:
    """The figures of the uploaded set `text` tried as `scope`'s set (None: the deployment's),
    over every company it covers (see the module docstring); a `PolicyError` if it does not
    load."""
    began = time.perf_counter()
    uploaded = parse_policies(text, file_name)
    check_ids(session, scope, uploaded, file_name)
    members = affected(session, scope)
    replaced = _replaced(session, scope, members)
    windows = [p.window for p in (*uploaded, *replaced)]
    first_day = min((w.start for w in windows), default=None)
    last_day = max((w.end for w in windows), default=None)
    if last_day is not None:
        last_day -= ONE_DAY
    policy_changes = policy_diff.policy_changes(replaced, uploaded)
    differing = [p for c in policy_changes for p in (c.old, c.new) if p is not None]
    figures, changes = [], []
    for company in members:
        current = in_force(session=session, company_id=company.id)
        proposed = (
            [*uploaded, *(parsed(current.own) if current.own else ())]
            if scope is None
            else [*(parsed(current.deployment) if current.deployment else ()), *uploaded]
        )
        found, changed = _company(
            session,
            company,
            (list(current.policies), proposed),
            ([*uploaded, *replaced], differing),
            (first_day, last_day),
            on,
        )
        figures.append(found)
        changes += changed
    new_ids, old_ids = [p.id for p in uploaded], [p.id for p in replaced]
    return WhatIf(
        file_name=file_name,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        policies=len(uploaded),
        scope=scope_name(scope),
        first_day=first_day,
        last_day=last_day,
        companies=tuple(figures),
        added=tuple(i for i in new_ids if i not in old_ids),
        removed=tuple(i for i in old_ids if i not in new_ids),
        seconds=time.perf_counter() - began,
        policy_changes=policy_changes,
        changes=tuple(changes),
    )


def day_frame(result: WhatIf) -> pl.DataFrame:
    """The what-if's days over every company it counted, as `reports.charts.whatif_by_day`
    draws them: `day, scenario` (`before`: the sets in force, `after`: the uploaded set),
    `count` and `measure` (`cutoffs` or `events`)."""
    rows = [
        (d.day, scenario, count, measure)
        for f in result.companies
        for d in f.by_day
        for scenario, measure, count in (
            ("before", "cutoffs", d.cutoffs_without),
            ("after", "cutoffs", d.cutoffs_with),
            ("before", "events", d.events_without),
            ("after", "events", d.events_with),
        )
    ]
    schema = {"day": pl.Date, "scenario": pl.String, "count": pl.Int64, "measure": pl.String}
    return (
        pl.DataFrame(rows, schema=schema, orient="row")
        .group_by("day", "scenario", "measure")
        .agg(pl.col("count").sum())
        .sort("measure", "scenario", "day")
    )


def _replaced(session: Session, scope: Company | None, members: list[Company]) -> list[Policy]:
    """The policies the uploaded set would replace: the deployment-wide set, or the
    company's own."""
    if scope is not None:
        own = in_force(session=session, company_id=scope.id).own
        return list(parsed(own)) if own else []
    if not members:
        return []
    deployment = in_force(session=session, company_id=members[0].id).deployment
    return list(parsed(deployment)) if deployment else []


def _company(
    session: Session,
    company: Company,
    sets: tuple[list[Policy], list[Policy]],
    concerned: tuple[list[Policy], list[Policy]],
    window: tuple[date | None, date | None],
    on: date,
) -> tuple[Figures, list[AccountChange]]:
    """One company's figures and changed account-days: `sets` are the policies in force and
    those proposed, `concerned` the policies of the file and of the set it replaces, and
    those that differ between them."""
    current, proposed = sets
    concerned_all, differing = concerned
    origin = company.origin
    figures = Figures(company.code, company.name, company.utility)
    first_day, last_day = window
    if origin is None or first_day is None or last_day is None:
        return figures, []
    rulesets = rulesets_by_utility({Utility(company.utility): company.ruleset})
    frames = load_run_frames(session, [company.id], rulesets)
    accounts = frames[0]
    touched = accounts.filter(pl.any_horizontal([scope_expr(p.scope) for p in concerned_all]))
    figures = replace(figures, accounts=accounts.height, touched=touched.height)
    if last_day < origin or accounts.height == 0:
        return replace(figures, clipped=first_day < origin), []
    first = max(first_day, origin)
    arrears_on = min(max(on, origin), last_day)
    without = decide(frames, current, company, last_day, "fast", None)
    with_new = decide(frames, proposed, company, last_day, "fast", None)
    at_on = (
        without
        if arrears_on == last_day
        else decide(frames, current, company, arrears_on, "fast", None)
    )
    ids = touched["account_id"].implode()
    arrears = at_on.states.filter(pl.col("account_id").is_in(ids))["arrears_fen"]
    events_without, protected_without = _protections(without, first, last_day)
    events_with, protected_with = _protections(with_new, first, last_day)
    changes = account_changes(
        company=company.code,
        without=without,
        with_new=with_new,
        accounts=accounts,
        changed=differing,
        first=first,
        last=last_day,
    )
    return replace(
        figures,
        first=first,
        last=last_day,
        arrears_on=arrears_on,
        clipped=first_day < origin,
        arrears_fen=int(arrears.sum() or 0),
        events_without=events_without,
        events_with=events_with,
        protected_without=protected_without,
        protected_with=protected_with,
        cutoffs_without=_cutoffs(without, first, last_day),
        cutoffs_with=_cutoffs(with_new, first, last_day),
        waived_without_fen=int(without.fees["waived_fen"].sum() or 0),
        waived_with_fen=int(with_new.fees["waived_fen"].sum() or 0),
        changed=len({c.account_id for c in changes}),
        by_day=_by_day(without, with_new, first, last_day),
    ), changes


def _per_day(result: RunTables, first: date, last: date) -> tuple[dict[date, int], dict[date, int]]:
    """Protection events and would-be cut-offs of each day inside the window."""
    events = result.protections.filter(
        pl.col("date").is_between(first, last), pl.col("kind").is_in(sorted(POLICY_KINDS))
    )
    cutoffs = result.actions.filter(
        pl.col("date").is_between(first, last),
        pl.col("action").cast(pl.String).is_in(CUTOFFS),
    )
    return (
        dict(events.group_by("date").len().iter_rows()),
        dict(cutoffs.group_by("date").len().iter_rows()),
    )


def _by_day(
    without: RunTables, with_new: RunTables, first: date, last: date
) -> tuple[DayFigures, ...]:
    events_without, cutoffs_without = _per_day(without, first, last)
    events_with, cutoffs_with = _per_day(with_new, first, last)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return tuple(
        DayFigures(
            day,
            events_without.get(day, 0),
            events_with.get(day, 0),
            cutoffs_without.get(day, 0),
            cutoffs_with.get(day, 0),
        )
        for day in days
    )


def _protections(result: RunTables, first: date, last: date) -> tuple[int, int]:
    """Protection events (人次) and protected accounts (户) dated inside the window."""
    inside = result.protections.filter(
        pl.col("date").is_between(first, last), pl.col("kind").is_in(sorted(POLICY_KINDS))
    )
    return inside.height, inside["account_id"].n_unique()


def _cutoffs(result: RunTables, first: date, last: date) -> int:
    """Suspend, disconnect and terminate actions dated inside the window."""
    inside = result.actions.filter(
        pl.col("date").is_between(first, last),
        pl.col("action").cast(pl.String).is_in(CUTOFFS),
    )
    return inside.height
