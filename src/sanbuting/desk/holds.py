"""Locks, promises to pay and instalment plans set by the collections desk on one account
(docs/account-relief.md), from the next day the daily run decides on: a day already recorded
stays as it was recorded (its orders went out). A lock can be lifted early, from the next day
to be run; a promise or a plan is kept or broken by the payments alone. A plan is for a
postpaid account, one at a time, and forgets the account's open books (`store.plans`). Every
query is scoped by the company; the caller audits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode
from sanbuting.engine.holds import Hold, schedule
from sanbuting.errors import Conflict, NotFound, SanbutingError
from sanbuting.io.contract import HOLD_REASONS
from sanbuting.io.holds import MOST_INSTALMENTS
from sanbuting.store.models import Account, AccountHold, Company
from sanbuting.store.plans import forget_books, open_plans
from sanbuting.store.runs import last_run_day

KINDS = ("hold", "promise", "instalments")
LOCKERS = ("supervisor",)
"""Staff roles that lock an account and lift a lock."""
PROMISERS = ("supervisor", "agent")
"""Staff roles that record a promise to pay or agree an instalment plan."""
PREFIXES = {"hold": "LK", "promise": "PP", "instalments": "IP"}
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
    until: date | None
    """The last day a lock acts, the day a promise is due by; a plan's comes from its parts."""
    reason: str
    steps: str = "all"
    amount_fen: int | None = None
    instalments: int | None = None
    """A plan's number of parts."""


def first_open_day(session: Session, company: Company) -> date:
    """The first day the daily run has not recorded: a hold may start then at the earliest."""
    last = last_run_day(session, company)
    assert company.origin is not None
    return last + timedelta(days=1) if last is not None else company.origin


def _checked(request: HoldRequest, earliest: date) -> date:
    """The request's last day once it is found sound (see the module docstring)."""
    if request.kind not in KINDS:
        raise InvalidHold(f"unknown kind {request.kind!r}: hold, promise or instalments", "kind")
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
    if request.kind == "instalments":
        return _plan_until(request)
    until = request.until
    if until is None:
        raise InvalidHold("give the last day", "until")
    if until < request.start:
        raise InvalidHold("the last day is before the first day", "until_before")
    if (until - request.start).days >= MOST_DAYS:
        raise InvalidHold(f"a hold lasts at most {MOST_DAYS} days", "too_long", days=MOST_DAYS)
    promised = request.amount_fen
    if request.kind == "promise" and (promised is None or promised <= 0):
        raise InvalidHold("a promise to pay needs an amount above zero", "amount")
    return until


def _plan_until(request: HoldRequest) -> date:
    """A plan's last part's due day, once its amount and parts are sound."""
    if request.amount_fen is None or request.amount_fen <= 0:
        raise InvalidHold("an instalment plan needs an amount above zero", "amount")
    parts = request.instalments
    if parts is None or not 2 <= parts <= MOST_INSTALMENTS:
        raise InvalidHold(
            f"an instalment plan has 2 to {MOST_INSTALMENTS} parts", "parts",
            most=MOST_INSTALMENTS,
        )  # fmt: skip
    plan = Hold("", "instalments", request.start, None, False, request.amount_fen, parts)
    return schedule(plan)[-1][0]


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
    until = _checked(request, first_open_day(session, company))
    if request.kind == "instalments":
        _plan_allowed(session, account, request.start)
    hold = AccountHold(
        company_id=company.id,
        account=account.id,
        hold_id=f"{PREFIXES[request.kind]}-{secrets.token_hex(5)}",
        kind=request.kind,
        start_on=request.start,
        until_on=until,
        steps=request.steps if request.kind == "hold" else "all",
        amount_fen=request.amount_fen if request.kind != "hold" else None,
        instalments=request.instalments if request.kind == "instalments" else None,
        reason=request.reason,
        set_by=by[:64],
        set_at=now,
    )
    session.add(hold)
    session.flush()
    return hold


def _plan_allowed(session: Session, account: Account, start: date) -> None:
    """A plan for a postpaid account without another plan open on `start`; its open books
    are forgotten (made without the plan)."""
    if account.billing_mode != BillingMode.POSTPAID.value:
        raise InvalidHold("an instalment plan is for a postpaid account's bills", "prepaid")
    other = open_plans(session, {account.id: start}).get(account.id)
    if other is not None:
        raise InvalidHold(
            f"plan {other} is neither kept nor broken yet: one plan at a time", "second_plan",
            other=other,
        )  # fmt: skip
    forget_books(session, [account.id])


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
