"""The figures of the deployment's companies from the store, as the regulator reads them
(docs/web.md, "The deployment regulator"): per company, over the days its daily run recorded,

- 人次 exempt (免停) and deferred (缓停): the policy protection events;
- 户: the distinct accounts with a policy protection event;
- protected arrears: each protected account's arrears at the end of the day of its first
  protection event (as `ledger.service.arrears` reads them), summed;
- waived late fees: the `relief_cost` book (corrections included);
- reconnections: the recorded `reconnect` actions, and those a policy caused (`reconnect: true`
  at an exempt's start);

and the 人次 and 户 per ISO week (Monday to Sunday) and per province. Only counts and sums
leave: never an account, a name or a phone. Each is counted in the database by a few grouped
queries over all the companies asked for, never event by event.

Every function takes the companies to count (`companies`): the scope of each query is its
caller's, explicitly (`staff.service.readable_companies`: every company for the deployment
regulator, one's own for a company's regulator or supervisor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
from sqlalchemy import ColumnElement, Subquery, case, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode
from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.reports.charts import iso_week
from sanbuting.store.models import (
    Account,
    Bill,
    Company,
    LedgerLine,
    Posting,
    ProtectionEvent,
    Run,
    StoredAction,
)

MOST_WEEKS = 520
"""The week table covers at most ten years of runs (its weeks are a CASE in the query)."""


@dataclass(frozen=True, slots=True)
class CompanyFigures:
    """One company's figures over the days its daily run recorded (the module docstring)."""

    code: str
    name: str
    group: str | None
    utility: str
    accounts: int
    days_run: int
    first_day: date | None
    last_day: date | None
    exempt_events: int
    defer_events: int
    protected_accounts: int
    protected_arrears_fen: int
    waived_fen: int
    reconnections: int
    policy_reconnections: int

    @property
    def events(self) -> int:
        return self.exempt_events + self.defer_events


TOTALLED = (
    "accounts",
    "exempt_events",
    "defer_events",
    "protected_accounts",
    "protected_arrears_fen",
    "waived_fen",
    "reconnections",
    "policy_reconnections",
)
"""The figures that add up over companies (an account is in one company: 户 too)."""


def totals(figures: Sequence[CompanyFigures]) -> dict[str, int]:
    """The figures of `figures` added up (`TOTALLED`)."""
    return {name: sum(int(getattr(row, name)) for row in figures) for name in TOTALLED}


WEEK_SCHEMA = {
    "company": pl.String,
    "week": pl.String,
    "week_start": pl.Date,
    "exempt_events": pl.Int64,
    "defer_events": pl.Int64,
    "protected_accounts": pl.Int64,
}
PROVINCE_SCHEMA = {
    "company": pl.String,
    "province": pl.String,
    "events": pl.Int64,
    "protected_accounts": pl.Int64,
}


def _ids(companies: Sequence[Company]) -> list[int]:
    return [company.id for company in companies]


def _events(companies: Sequence[Company]) -> Subquery:
    """The policy protection events of `companies`' runs, with each one's company."""
    return (
        select(
            Run.company_id.label("company_id"),
            ProtectionEvent.day,
            ProtectionEvent.kind,
            ProtectionEvent.account,
        )
        .join(Run, Run.id == ProtectionEvent.run)
        .where(
            Run.company_id.in_(_ids(companies)),
            ProtectionEvent.kind.in_(sorted(POLICY_KINDS)),
        )
        .subquery()
    )


def company_figures(session: Session, companies: Sequence[Company]) -> list[CompanyFigures]:
    """The figures of each of `companies`, in the order given."""
    if not companies:
        return []
    ids = _ids(companies)
    accounts: dict[int, int] = {
        company_id: int(n)
        for company_id, n in session.execute(
            select(Account.company_id, func.count(Account.id))
            .where(Account.company_id.in_(ids))
            .group_by(Account.company_id)
        ).all()
    }
    runs = {
        company_id: (int(n), first, last)
        for company_id, n, first, last in session.execute(
            select(Run.company_id, func.count(Run.id), func.min(Run.day), func.max(Run.day))
            .where(Run.company_id.in_(ids))
            .group_by(Run.company_id)
        ).all()
    }
    events = _events(companies)
    kinds: dict[tuple[int, str], int] = {
        (company_id, kind): int(n)
        for company_id, kind, n in session.execute(
            select(events.c.company_id, events.c.kind, func.count()).group_by(
                events.c.company_id, events.c.kind
            )
        ).all()
    }
    protected: dict[int, int] = {
        company_id: int(n)
        for company_id, n in session.execute(
            select(events.c.company_id, func.count(func.distinct(events.c.account))).group_by(
                events.c.company_id
            )
        ).all()
    }
    reconnected = case((StoredAction.policy_id != "", 1), else_=0)
    reconnections = {
        company_id: (int(n), int(by_policy or 0))
        for company_id, n, by_policy in session.execute(
            select(Run.company_id, func.count(), func.sum(reconnected))
            .join(Run, Run.id == StoredAction.run)
            .where(Run.company_id.in_(ids), StoredAction.action == "reconnect")
            .group_by(Run.company_id)
        ).all()
    }
    arrears = protected_arrears(session, companies)
    waived = waived_fees(session, companies)
    found = []
    for company in companies:
        days, first, last = runs.get(company.id, (0, None, None))
        all_reconnections, by_policy = reconnections.get(company.id, (0, 0))
        found.append(
            CompanyFigures(
                code=company.code,
                name=company.name,
                group=company.group,
                utility=company.utility,
                accounts=int(accounts.get(company.id, 0)),
                days_run=days,
                first_day=first,
                last_day=last,
                exempt_events=kinds.get((company.id, "exempt"), 0),
                defer_events=kinds.get((company.id, "defer"), 0),
                protected_accounts=int(protected.get(company.id, 0)),
                protected_arrears_fen=arrears.get(company.id, 0),
                waived_fen=waived.get(company.id, 0),
                reconnections=all_reconnections,
                policy_reconnections=by_policy,
            )
        )
    return found


def protected_arrears(session: Session, companies: Sequence[Company]) -> dict[int, int]:
    """Company id → the arrears of its protected accounts, each at the end of the day of its
    first protection event (postpaid: overdue principal and fees; prepaid: what the balance is
    below zero), summed."""
    if not companies:
        return {}
    firsts = (
        select(ProtectionEvent.account, func.min(ProtectionEvent.day).label("day"))
        .join(Run, Run.id == ProtectionEvent.run)
        .where(
            Run.company_id.in_(_ids(companies)),
            ProtectionEvent.kind.in_(sorted(POLICY_KINDS)),
        )
        .group_by(ProtectionEvent.account)
        .subquery()
    )
    overdue = case(
        (LedgerLine.book == "fee", LedgerLine.amount_fen),
        ((LedgerLine.book == "principal") & (Bill.due_on < firsts.c.day), LedgerLine.amount_fen),
        else_=0,
    )
    held = case((LedgerLine.book == "credit", LedgerLine.amount_fen), else_=0)
    rows = session.execute(
        select(Account.company_id, Account.billing_mode, func.sum(overdue), func.sum(held))
        .select_from(firsts)
        .join(Account, Account.id == firsts.c.account)
        .join(
            Posting, (Posting.account == firsts.c.account) & (Posting.effective_on <= firsts.c.day)
        )
        .join(LedgerLine, LedgerLine.posting == Posting.id)
        .outerjoin(Bill, Bill.id == LedgerLine.bill)
        .group_by(firsts.c.account, Account.company_id, Account.billing_mode)
    ).all()
    total: dict[int, int] = {}
    for company_id, mode, owed, credit in rows:
        owes = max(0, int(credit or 0)) if mode == BillingMode.PREPAID.value else int(owed or 0)
        total[company_id] = total.get(company_id, 0) + owes
    return total


def waived_fees(session: Session, companies: Sequence[Company]) -> dict[int, int]:
    """Company id → the late fees relief waived (the `relief_cost` book, corrections
    included; never below zero)."""
    if not companies:
        return {}
    rows = session.execute(
        select(Posting.company_id, func.coalesce(func.sum(LedgerLine.amount_fen), 0))
        .join(Posting, Posting.id == LedgerLine.posting)
        .where(Posting.company_id.in_(_ids(companies)), LedgerLine.book == "relief_cost")
        .group_by(Posting.company_id)
    ).all()
    return {company_id: max(0, int(total or 0)) for company_id, total in rows}


def _mondays(session: Session, events: Subquery) -> list[date]:
    """The Monday of every week from the first event's to the last's."""
    first, last = session.execute(select(func.min(events.c.day), func.max(events.c.day))).one()
    if first is None or last is None:
        return []
    monday = first - timedelta(days=first.weekday())
    weeks = min(MOST_WEEKS, (last - monday).days // 7 + 1)
    return [monday + timedelta(weeks=n) for n in range(weeks)]


def _week_of(day: ColumnElement[date], mondays: list[date]) -> ColumnElement[int]:
    """The index in `mondays` of the week `day` falls in (a CASE, the same on every database)."""
    return case(
        *((day < monday + timedelta(days=7), n) for n, monday in enumerate(mondays)),
        else_=len(mondays) - 1,
    )


def weekly(session: Session, companies: Sequence[Company]) -> pl.DataFrame:
    """`company` (code), `week` (`2020-W05`), `week_start` (its Monday), `exempt_events`,
    `defer_events`, `protected_accounts` (distinct in that week): the weeks with an event."""
    if not companies:
        return pl.DataFrame(schema=WEEK_SCHEMA)
    events = _events(companies)
    mondays = _mondays(session, events)
    if not mondays:
        return pl.DataFrame(schema=WEEK_SCHEMA)
    dated = select(
        events.c.company_id,
        _week_of(events.c.day, mondays).label("week"),
        events.c.kind,
        events.c.account,
    ).subquery()  # grouped outside: a CASE with parameters is not the same in GROUP BY
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for company_id, index, kind, n in session.execute(
        select(dated.c.company_id, dated.c.week, dated.c.kind, func.count()).group_by(
            dated.c.company_id, dated.c.week, dated.c.kind
        )
    ).all():
        counts.setdefault((company_id, int(index)), {})[kind] = int(n)
    distinct = {
        (company_id, int(index)): int(n)
        for company_id, index, n in session.execute(
            select(
                dated.c.company_id, dated.c.week, func.count(func.distinct(dated.c.account))
            ).group_by(dated.c.company_id, dated.c.week)
        ).all()
    }
    codes = {company.id: company.code for company in companies}
    rows = [
        (
            codes[company_id],
            iso_week(mondays[index]),
            mondays[index],
            by_kind.get("exempt", 0),
            by_kind.get("defer", 0),
            distinct.get((company_id, index), 0),
        )
        for (company_id, index), by_kind in counts.items()
    ]
    return pl.DataFrame(rows, schema=WEEK_SCHEMA, orient="row").sort("week_start", "company")


def provinces(session: Session, companies: Sequence[Company]) -> pl.DataFrame:
    """`company` (code), `province` (the GB/T 2260 code of two digits), `events` (人次),
    `protected_accounts` (户): the provinces with an event."""
    if not companies:
        return pl.DataFrame(schema=PROVINCE_SCHEMA)
    events = _events(companies)
    placed = (
        select(
            events.c.company_id,
            func.substr(Account.region, 1, 2).label("province"),
            events.c.account,
        )
        .select_from(events)
        .join(Account, Account.id == events.c.account)
        .subquery()
    )
    rows = session.execute(
        select(
            placed.c.company_id,
            placed.c.province,
            func.count(),
            func.count(func.distinct(placed.c.account)),
        ).group_by(placed.c.company_id, placed.c.province)
    ).all()
    codes = {company.id: company.code for company in companies}
    return pl.DataFrame(
        [(codes[company_id], code, int(n), int(a)) for company_id, code, n, a in rows],
        schema=PROVINCE_SCHEMA,
        orient="row",
    ).sort("province", "company")
