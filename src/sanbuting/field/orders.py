"""Field work orders made from the outbox: when the dispatcher sends a cut-off, reconnection
or meter-closing order to the field, one `FieldOrder` is written in the same transaction, with
the service address, the arrears, the deadline and its source; and the clock of an order at a
given `now` (computed on read, like the tickets' clock).

- **Kind**: a suspension or disconnection is a `cut_off`, except the ruleset's `meter_closed`
  step (a gas meter's valve), a `meter_close`; a reconnection is a `reconnect`. Other orders
  (notices, reminders, SMS, terminations, 保电 switches) are no field work.
- **Address**: the store keeps no street address, so the account's region by name (GB/T 2260:
  ``广东省 广州市 越秀区``), its code when the table does not know it.
- **Deadline**: a cut-off or meter closing by the end of its day (24:00 Asia/Shanghai); a
  reconnection within the ruleset's promised hours (`rules.schema.Reconnection`) of the payment
  that earned it (the payment the order names, else the account's last payment made by the end
  of the order's day, else the time the order was queued: a relief policy's reconnection).
- **Clock**: an open or assigned order is `overdue` once `now` is past its deadline (at 12:00
  one due at 12:00 is not overdue yet, at 12:01 it is); a done order `met` or `missed` its
  deadline; one not done or paid at the door is `closed`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import SHANGHAI, Action, as_utc, local_midnight, read_utc
from sanbuting.errors import UnknownRegion
from sanbuting.ledger.service import arrears
from sanbuting.payments.orders import state_of
from sanbuting.regions import full_name
from sanbuting.rules import load_ruleset
from sanbuting.store.models import Account, Company, OutboxItem, Payment
from sanbuting.store.web_models import FieldOrder

Kind = Literal["cut_off", "reconnect", "meter_close"]
KINDS: tuple[Kind, ...] = ("cut_off", "reconnect", "meter_close")
OPEN = ("open", "assigned")
METER_CLOSED_STEP = "meter_closed"
CUT_OFF_SOURCE = "三不停规定：停电（停机、停气）指令当日 24:00 前执行完毕"
"""Where a cut-off's deadline comes from (no published rule sets one: ours)."""
State = Literal["running", "overdue", "met", "missed", "closed"]


def kind_of(item: OutboxItem) -> Kind | None:
    """The field work an outbox order is (None: no field work)."""
    if item.kind == Action.RECONNECT.value:
        return "reconnect"
    if item.kind not in (Action.SUSPEND.value, Action.DISCONNECT.value):
        return None
    step = json.loads(item.payload).get("step", "")
    return "meter_close" if step == METER_CLOSED_STEP else "cut_off"


def address_of(account: Account) -> str:
    """The account's service address: its region by name (see the module docstring)."""
    try:
        return full_name(account.region)
    except UnknownRegion:
        return account.region


@dataclass(frozen=True, slots=True)
class Deadline:
    at: datetime
    source: str


def deadline_of(*, session: Session, item: OutboxItem, kind: Kind, company: Company) -> Deadline:
    """The deadline of the field work `kind` of `item` (see the module docstring)."""
    assert item.day is not None and item.account is not None
    if kind != "reconnect":
        return Deadline(local_midnight(item.day + timedelta(days=1)), CUT_OFF_SOURCE)
    promise = load_ruleset(company.ruleset).reconnect_promise
    return Deadline(
        _earned_at(session, item) + timedelta(hours=promise.within_hours), promise.source
    )


def _earned_at(session: Session, item: OutboxItem) -> datetime:
    """The moment the reconnection was earned: the payment it names, else the account's last
    payment by the end of its day, else when it was queued."""
    assert item.day is not None
    source = str(json.loads(item.payload).get("source", ""))
    query = select(Payment.paid_at).where(Payment.account == item.account)
    if source.startswith("payment:"):
        query = query.where(Payment.key == source.removeprefix("payment:"))
    else:
        end = as_utc(local_midnight(item.day + timedelta(days=1)))
        query = query.where(Payment.paid_at < end)
    paid = session.scalar(query.order_by(Payment.paid_at.desc()).limit(1))
    return read_utc(paid if paid is not None else item.created_at).astimezone(SHANGHAI)


def open_for(*, session: Session, item: OutboxItem, now: datetime) -> FieldOrder | None:
    """The field work order of the outbox order `item`, written now (in the caller's
    transaction) if it is field work and has none yet; None when it is no field work."""
    kind = kind_of(item)
    if kind is None or item.account is None or item.day is None:
        return None
    found = session.scalar(select(FieldOrder).where(FieldOrder.outbox_id == item.id))
    if found is not None:
        return found
    account = session.get(Account, item.account)
    company = session.get(Company, item.company_id)
    assert account is not None and company is not None  # foreign keys
    deadline = deadline_of(session=session, item=item, kind=kind, company=company)
    order = FieldOrder(
        company_id=company.id,
        outbox_id=item.id,
        account=account.id,
        kind=kind,
        action=item.kind,
        day=item.day,
        address=address_of(account)[:200],
        arrears_fen=max(0, arrears(session=session, account=account, on=item.day)),
        deadline=as_utc(deadline.at),
        deadline_source=deadline.source[:300],
        status="open",
        note="",
        created_at=as_utc(now),
    )
    session.add(order)
    session.flush()
    return order


def on_sent(session: Session, item: OutboxItem, moment: datetime) -> None:
    """The dispatcher's hook (`dispatch_once(on_sent=...)`): an order sent to the field gets
    its work order in the transaction that marks it sent."""
    open_for(session=session, item=item, now=moment)


@dataclass(frozen=True, slots=True)
class FieldClock:
    """A work order's clock at one moment."""

    deadline: datetime
    state: State
    seconds_left: int | None
    """Until the deadline at `now` (or at the report, for a done order); negative when late;
    None when closed."""

    @property
    def overdue(self) -> bool:
        return self.state in ("overdue", "missed")


def clock_of(order: FieldOrder, now: datetime) -> FieldClock:
    """The clock of `order` at `now` (aware; see the module docstring)."""
    deadline = read_utc(order.deadline).astimezone(SHANGHAI)
    state: State
    if order.status in OPEN:
        state = "overdue" if now > deadline else "running"
        return FieldClock(deadline, state, int((deadline - now).total_seconds()))
    if order.status == "done" and order.reported_at is not None:
        reported = read_utc(order.reported_at)
        state = "met" if reported <= deadline else "missed"
        return FieldClock(deadline, state, int((deadline - reported).total_seconds()))
    return FieldClock(deadline, "closed", None)


@dataclass(frozen=True, slots=True)
class Promise:
    """When a cut-off account's reconnection is promised, and by what."""

    by: datetime
    source: str


def promised_reconnection(*, session: Session, account: Account) -> Promise | None:
    """The reconnection promised to the account: its open reconnection work order's deadline,
    or, for a reconnection queued and not sent yet to an account cut off in the field, the
    deadline it will have."""
    order = session.scalar(
        select(FieldOrder)
        .where(
            FieldOrder.account == account.id,
            FieldOrder.kind == "reconnect",
            FieldOrder.status.in_(OPEN),
        )
        .order_by(FieldOrder.deadline.desc())
        .limit(1)
    )
    if order is not None:
        return Promise(read_utc(order.deadline).astimezone(SHANGHAI), order.deadline_source)
    queued = session.scalar(
        select(OutboxItem)
        .where(
            OutboxItem.account == account.id,
            OutboxItem.kind == Action.RECONNECT.value,
            OutboxItem.status == "pending",
        )
        .order_by(OutboxItem.id.desc())
        .limit(1)
    )
    company = session.get(Company, account.company_id)
    if queued is None or queued.day is None or company is None:
        return None
    if not state_of(session=session, account=account, carried_out=True).cut_off:
        return None  # the dispatcher will cancel it: nothing to reconnect
    deadline = deadline_of(session=session, item=queued, kind="reconnect", company=company)
    return Promise(deadline.at, deadline.source)
