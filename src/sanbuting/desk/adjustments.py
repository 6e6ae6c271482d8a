"""Manual late-fee waivers and write-offs with four eyes (docs/account-relief.md, "Waivers and
write-offs"): one member of staff asks, another supervisor of the company approves or rejects;
nothing changes money until the approval.

- A **waiver** (`waive_fee`) takes the late fees of the account's bills issued before the
  first day not recorded, for every day through its last day (that first day at the earliest:
  what accrued so far, and more days if asked). Approved, it becomes an account-relief row of
  kind `waive_fee` (the engines read it as they read a plan's pause), the account is marked to
  be derived again from the first day its bills accrued, and its ledger is booked again: the
  fees already booked are reversed and booked anew, the waived part as relief.
- A **write-off** settles what the account owes overdue (principal past due and fees, oldest
  first) without cash: approved, it is posted as a settlement booked to `bad_debt`
  (`payments.service.post_write_off`). It is refused if what is owed changed since it was
  asked (a payment came in): ask again.

The amount asked is what the account's position shows (`relief.position`): a waiver's on the
first day not recorded (where it begins), a write-off's on the day it is asked and approved
(the day its settlement is dated). Every query is scoped by the company; the caller audits
(with the reason and notes).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.desk.holds import MOST_DAYS, InvalidHold, first_open_day
from sanbuting.domain import WRITE_OFF_PREFIX, BillingMode, local_date
from sanbuting.errors import Conflict, Forbidden, NotFound
from sanbuting.io.contract import HOLD_REASONS
from sanbuting.ledger.service import book_accounts
from sanbuting.payments.service import post_write_off
from sanbuting.relief.position import Position, account_position
from sanbuting.store import checkpoints
from sanbuting.store.models import Account, AccountHold, Bill, Company
from sanbuting.store.plans import forget_books
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.web_models import FeeAdjustment, Staff

KINDS = ("waive_fee", "write_off")
ASKERS = ("supervisor", "agent")
APPROVERS = ("supervisor",)
NOTE_LIMIT = 200


@dataclass(frozen=True)
class AdjustmentRequest:
    account_id: str
    kind: str
    reason: str
    note: str = ""
    until: date | None = None
    """A waiver's last day without fees (default and earliest: the first day not recorded)."""


def _account(session: Session, company: Company, account_id: str) -> Account:
    account = session.scalar(
        select(Account).where(Account.company_id == company.id, Account.account_id == account_id)
    )
    if account is None:
        raise NotFound(f"no account {account_id} in {company.code}")
    return account


def _position(session: Session, account: Account, on: date, now: datetime) -> Position:
    return account_position(session=session, account=account, on=on, now=now)


def fees_to_waive(position: Position, first: date) -> int:
    """The late fees of the bills issued before `first`: charged, or accrued so far."""
    return sum(b.fee_fen for b in position.bills if b.issued_on < first)


def owed_overdue(position: Position) -> int:
    """What settles the bills overdue or with a fee owed, oldest first: their principal and
    fee, as the account's position says a payment that day would clear them."""
    return sum(b.due_fen for b in position.open_bills if b.overdue or b.open_fen == 0)


def ask(
    *, session: Session, company: Company, request: AdjustmentRequest, by: Staff, now: datetime
) -> FeeAdjustment:
    """Record a waiver or write-off for another supervisor to decide (module docstring)."""
    account = _account(session, company, request.account_id)
    if request.kind not in KINDS:
        raise InvalidHold(f"unknown kind {request.kind!r}: waive_fee or write_off", "kind")
    if request.reason not in HOLD_REASONS:
        raise InvalidHold(f"unknown reason {request.reason!r}", "reason")
    if account.billing_mode != BillingMode.POSTPAID.value:
        raise InvalidHold("a prepaid account owes no bills to waive or write off", "prepaid")
    pending = session.scalar(
        select(FeeAdjustment.number).where(
            FeeAdjustment.company_id == company.id,
            FeeAdjustment.account == account.id,
            FeeAdjustment.kind == request.kind,
            FeeAdjustment.status == "pending",
        )
    )
    if pending is not None:
        raise InvalidHold(f"{pending} waits for approval already", "pending", number=pending)
    first = first_open_day(session, company)
    until = request.until or first
    if request.kind == "waive_fee":
        if until < first:
            raise InvalidHold(f"a waiver runs through {first} at the earliest", "until_before")
        if (until - first).days >= MOST_DAYS:
            raise InvalidHold(f"a waiver runs at most {MOST_DAYS} days ahead", "too_long")
        amount = fees_to_waive(_position(session, account, first, now), first)
    else:
        amount = owed_overdue(_position(session, account, local_date(now), now))
    if amount <= 0:
        raise InvalidHold("there is nothing of that kind to waive or write off", "nothing")
    adjustment = FeeAdjustment(
        company_id=company.id,
        number=f"ADJ-{secrets.token_hex(4).upper()}",
        account=account.id,
        kind=request.kind,
        amount_fen=amount,
        until_on=until if request.kind == "waive_fee" else None,
        reason=request.reason,
        note=request.note.strip()[:NOTE_LIMIT],
        status="pending",
        requested_by=by.id,
        requested_at=now,
        decision_note="",
    )
    session.add(adjustment)
    session.flush()
    return adjustment


def decide(
    *,
    session: Session,
    company: Company,
    number: str,
    approve: bool,
    by: Staff,
    now: datetime,
    note: str = "",
) -> FeeAdjustment:
    """Approve (and carry out) or reject a pending waiver or write-off of `company`: never by
    the person who asked."""
    adjustment = session.scalar(
        select(FeeAdjustment)
        .where(FeeAdjustment.company_id == company.id, FeeAdjustment.number == number)
        .with_for_update()
    )
    if adjustment is None:
        raise NotFound(f"no waiver or write-off {number} in {company.code}")
    if adjustment.status != "pending":
        raise Conflict(f"{number} was {adjustment.status} already")
    if adjustment.requested_by == by.id:
        raise Forbidden("a second person approves or rejects what you asked (four eyes)")
    if approve:
        adjustment.made = _carry_out(session, company, adjustment, by, now)
    adjustment.status = "approved" if approve else "rejected"
    adjustment.decided_by, adjustment.decided_at = by.id, now
    adjustment.decision_note = note.strip()[:NOTE_LIMIT]
    session.flush()
    return adjustment


def _carry_out(
    session: Session, company: Company, adjustment: FeeAdjustment, by: Staff, now: datetime
) -> str:
    account = session.get(Account, adjustment.account)
    assert account is not None and account.company_id == company.id
    if adjustment.kind == "write_off":
        owed = owed_overdue(_position(session, account, local_date(now), now))
        if owed != adjustment.amount_fen:
            raise Conflict(
                f"what {account.account_id} owes overdue changed since it was asked "
                f"({adjustment.amount_fen} fen then, {owed} now): ask again"
            )
        number = adjustment.number
        post_write_off(
            session=session, account_id=account.account_id, company=company.code,
            amount_fen=owed, number=number, now=now,
        )  # fmt: skip
        return f"{WRITE_OFF_PREFIX}{number}"
    return _waive(session, company, account, adjustment, by, now)


def _waive(
    session: Session,
    company: Company,
    account: Account,
    adjustment: FeeAdjustment,
    by: Staff,
    now: datetime,
) -> str:
    first = first_open_day(session, company)
    assert adjustment.until_on is not None and company.origin is not None
    asker = session.get(Staff, adjustment.requested_by)
    hold = AccountHold(
        company_id=company.id,
        account=account.id,
        hold_id=f"WF-{secrets.token_hex(5)}",
        kind="waive_fee",
        start_on=first,
        until_on=max(adjustment.until_on, first),
        steps="all",
        amount_fen=None,
        instalments=None,
        reason=adjustment.reason,
        set_by=f"{asker.username if asker else '?'}/{by.username}"[:64],
        set_at=now,
    )
    session.add(hold)
    session.flush()
    forget_books(session, [account.id])
    earliest_due = session.scalar(
        select(Bill.due_on)
        .where(Bill.account == account.id, Bill.issued_on < first)
        .order_by(Bill.due_on)
        .limit(1)
    )
    since = max(company.origin, (earliest_due or company.origin) + timedelta(days=1))
    checkpoints.lock_company(session, company.id, exclusive=False)
    checkpoints.mark_dirty(
        session=session, company_id=company.id, accounts=[(account.account_id, since)]
    )
    book_accounts(
        session=session,
        company=company,
        accounts=[account.id],
        policies=policies_for(session=session, company_id=company.id),
        now=now,
    )
    return hold.hold_id


def pending(session: Session, company: Company) -> list[tuple[FeeAdjustment, str]]:
    """The company's waivers and write-offs waiting for a decision, oldest first, each with
    its account number."""
    rows = session.execute(
        select(FeeAdjustment, Account.account_id)
        .join(Account, Account.id == FeeAdjustment.account)
        .where(FeeAdjustment.company_id == company.id, FeeAdjustment.status == "pending")
        .order_by(FeeAdjustment.id)
    ).all()
    return [(adjustment, account_id) for adjustment, account_id in rows]


def of_account(session: Session, company: Company, account: Account) -> list[FeeAdjustment]:
    """The account's waivers and write-offs, newest first."""
    return list(
        session.scalars(
            select(FeeAdjustment)
            .where(FeeAdjustment.company_id == company.id, FeeAdjustment.account == account.id)
            .order_by(FeeAdjustment.id.desc())
        )
    )
