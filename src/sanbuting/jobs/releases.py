"""Releasing a day's held enforcement orders.

A company that requires approval (`Company.requires_approval`) has its notices, suspensions,
cut-offs and terminations written to the outbox `held` by the daily run: decided, standing,
but not sent. A supervisor reads the day's proposal (`jobs.preview`, the console's worklist)
and releases the day: its held orders become `pending`, the dispatcher sends them (re-checked
against the ledger first, so an account that paid meanwhile is not cut off), and the release
is written in the company's audit log. A payment that clears the arrears cancels a held
cut-off as it cancels a pending one. Keyword-only; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.staff.service import audit
from sanbuting.store.models import HELD, PENDING, Company, OutboxItem
from sanbuting.store.web_models import Staff


@dataclass(frozen=True, slots=True)
class HeldDay:
    """A day with held orders: how many of each action."""

    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def held_days(*, session: Session, company: Company) -> list[HeldDay]:
    """The company's days with held orders, oldest first."""
    rows = session.execute(
        select(OutboxItem.day, OutboxItem.kind, func.count())
        .where(OutboxItem.company_id == company.id, OutboxItem.status == HELD)
        .group_by(OutboxItem.day, OutboxItem.kind)
        .order_by(OutboxItem.day, OutboxItem.kind)
    ).all()
    days: dict[date, dict[str, int]] = {}
    for day, kind, count in rows:
        if day is not None:  # (every order a run decides has its day)
            days.setdefault(day, {})[kind] = int(count)
    return [HeldDay(day, counts) for day, counts in days.items()]


def release_day(
    *,
    session: Session,
    company: Company,
    day: date,
    now: datetime,
    staff: Staff | None = None,
    actor: str = "",
) -> int:
    """Release the company's held orders of `day` (see the module docstring); the number
    released. Audited, by `staff` or by `actor` (an operator at the command line)."""
    released = session.scalars(
        update(OutboxItem)
        .where(
            OutboxItem.company_id == company.id,
            OutboxItem.day == day,
            OutboxItem.status == HELD,
        )
        .values(status=PENDING, next_attempt_at=as_utc(now))
        .returning(OutboxItem.id)
        .execution_options(synchronize_session=False)
    ).all()
    count = len(released)
    audit(
        session=session,
        staff=staff,
        actor=actor,
        company_id=company.id,
        action="release_orders",
        target=day.isoformat(),
        detail={"released": count},
        now=now,
    )
    return count
