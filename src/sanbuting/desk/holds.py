"""Locks and promises to pay set by the collections desk on one account (docs/account-relief.md),
from the next day the daily run decides on: a day already recorded stays as it was recorded
(its orders went out). A lock can be lifted early, from the next day to be run; a promise is
kept or broken by the payments alone. Instalment plans are not set here yet (the store does not
keep them: `store.imports`). Every query is scoped by the company; the caller audits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.errors import Conflict, NotFound, SanbutingError
from sanbuting.io.contract import HOLD_REASONS
from sanbuting.store.models import Account, AccountHold, Company
from sanbuting.store.runs import last_run_day

KINDS = ("hold", "promise")
LOCKERS = ("supervisor",)
"""Staff roles that lock an account and lift a lock."""
PROMISERS = ("supervisor", "agent")
"""Staff roles that record a promise to pay."""
STEPS = ("all", "notice")
MOST_DAYS = 366
"""A lock or a promise spans at most a year: a longer one is a policy, not a desk decision."""


class InvalidHold(SanbutingError):
    """A lock or promise the desk cannot set as asked; `code` names the problem for the
    console's words, `values` fill them."""

    def __init__(self, message: str, code: str, **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class HoldRequest:
    account_id: str
    kind: str
    start: date
    until: date
    reason: str
    steps: str = "all"
    amount_fen: int | None = None


def first_open_day(session: Session, company: Company) -> date:
    """The first day the daily run has not recorded: a hold may start then at the earliest."""
    last = last_run_day(session, company)
    assert company.origin is not None
    return last + timedelta(days=1) if last is not None else company.origin


def _checked(request: HoldRequest, earliest: date) -> None:
    if request.kind not in KINDS:
        raise InvalidHold(f"unknown kind {request.kind!r}: hold or promise", "kind")
    if request.reason not in HOLD_REASONS:
        raise InvalidHold(f"unknown reason {request.reason!r}", "reason")
    if request.steps not in STEPS:
        raise InvalidHold(f"unknown steps {request.steps!r}: all or notice", "steps")
    if request.start < earliest:
        raise InvalidHold(
            f"a hold starts on {earliest} at the earliest (the days before are recorded)",
            "too_early",
            earliest=earliest,
        )
    if request.until < request.start:
        raise InvalidHold("the last day is before the first day", "until_before")
    if (request.until - request.start).days >= MOST_DAYS:
        raise InvalidHold(f"a hold lasts at most {MOST_DAYS} days", "too_long", days=MOST_DAYS)
    promised = request.amount_fen
    if request.kind == "promise" and (promised is None or promised <= 0):
        raise InvalidHold("a promise to pay needs an amount above zero", "amount")


def set_hold(
    *, session: Session, company: Company, request: HoldRequest, by: str, now: datetime
) -> AccountHold:
    """Set a lock or a promise on an account of `company` (see the module docstring)."""
    account = session.scalar(
        select(Account).where(
            Account.company_id == company.id, Account.account_id == request.account_id
        )
    )
    if account is None:
        raise NotFound(f"no account {request.account_id} in {company.code}")
    _checked(request, first_open_day(session, company))
    hold = AccountHold(
        company_id=company.id,
        account=account.id,
        hold_id=f"{'LK' if request.kind == 'hold' else 'PP'}-{secrets.token_hex(5)}",
        kind=request.kind,
        start_on=request.start,
        until_on=request.until,
        steps=request.steps if request.kind == "hold" else "all",
        amount_fen=request.amount_fen if request.kind == "promise" else None,
        instalments=None,
        reason=request.reason,
        set_by=by[:64],
        set_at=now,
    )
    session.add(hold)
    session.flush()
    return hold


def lift_hold(*, session: Session, company: Company, hold_id: str) -> AccountHold:
    """End a lock from the next day to be run (it acted on the days recorded)."""
    hold = session.scalar(
        select(AccountHold).where(
            AccountHold.company_id == company.id, AccountHold.hold_id == hold_id
        )
    )
    if hold is None:
        raise NotFound(f"no hold {hold_id} in {company.code}")
    if hold.kind != "hold":
        raise Conflict("only a lock can be lifted: a promise ends when it is kept or broken")
    first = first_open_day(session, company)
    if hold.until_on is not None and hold.until_on < first:
        raise Conflict(f"lock {hold_id} has ended already")
    # acts no more from `first`; a lock not begun yet ends the day before its start (never acts)
    hold.until_on = max(first, hold.start_on) - timedelta(days=1)
    return hold


def holds_of(session: Session, company: Company, account: Account) -> list[AccountHold]:
    """The account's holds, newest first."""
    return list(
        session.scalars(
            select(AccountHold)
            .where(AccountHold.company_id == company.id, AccountHold.account == account.id)
            .order_by(AccountHold.id.desc())
        )
    )
