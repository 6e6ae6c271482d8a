"""Orders to the outbox (their rows: `store.outbox`), and an account's state as the store knows it.

Every action a daily run decides (a reminder, a notice, a suspension or cut-off, a
termination, a reconnection, a 保電 switch, a low-balance alert) is an order someone must carry
out: it goes to the outbox in the run's transaction, under a key that names it for good
(`company:action:account:day`, plus the bill for reminders). A payment that clears a cut-off
account's arrears queues its reconnection under the same key the run would give it that day,
so the two never make two orders. A company that requires approval has its enforcement orders
(notice, suspension, cut-off, termination) written `held`: they stand (the decision is made)
but are not sent until a supervisor releases the day (`release_day`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import AccountState, Action, as_utc
from sanbuting.store.models import CANCELLED, DONE, HELD, PENDING, Account, Company, OutboxItem
from sanbuting.store.outbox import order_row, queue

STATE_AFTER = {
    Action.SUSPEND.value: AccountState.SUSPENDED,
    Action.DISCONNECT.value: AccountState.DISCONNECTED,
    Action.TERMINATE.value: AccountState.TERMINATED,
    Action.RECONNECT.value: AccountState.ACTIVE,
}
CUT_OFF = {AccountState.SUSPENDED, AccountState.DISCONNECTED}


@dataclass(frozen=True, slots=True)
class StoredState:
    state: AccountState

    @property
    def cut_off(self) -> bool:
        return self.state in CUT_OFF


def last_state_order(
    *, session: Session, account: Account, carried_out: bool = False
) -> OutboxItem | None:
    """The account's last state-changing order (suspend, disconnect, terminate, reconnect) still
    standing: held, pending or done, not cancelled at dispatch nor given up; only the done ones
    (the field has carried them out) with `carried_out`."""
    statuses = [DONE] if carried_out else [HELD, PENDING, DONE]
    return session.scalar(
        select(OutboxItem)
        .where(
            OutboxItem.account == account.id,
            OutboxItem.kind.in_(list(STATE_AFTER)),
            OutboxItem.status.in_(statuses),
        )
        .order_by(OutboxItem.day.desc(), OutboxItem.id.desc())
        .limit(1)
    )


def state_of(*, session: Session, account: Account, carried_out: bool = False) -> StoredState:
    """The account's state after its last standing state-changing order (`last_state_order`),
    its imported state before any. A cut-off cancelled at dispatch (the account paid) never
    happened, so it does not count; with `carried_out`, neither does an order not yet sent."""
    last = last_state_order(session=session, account=account, carried_out=carried_out)
    return StoredState(STATE_AFTER[last.kind] if last else AccountState(account.state))


def cancel_pending_cut_off(*, session: Session, account: Account, now: datetime, key: str) -> bool:
    """A payment (`key`) that cleared the arrears cancels the account's cut-off order not sent
    yet, so that it is neither carried out nor followed by a needless reconnection. A row a
    dispatcher holds is skipped: its re-check, waiting for this payment's account lock, sees
    the arrears at 0 and cancels it. True if an order was cancelled here."""
    last = last_state_order(session=session, account=account)
    unsent = (PENDING, HELD)
    if last is None or last.status not in unsent or STATE_AFTER[last.kind] not in CUT_OFF:
        return False
    claimed = session.scalar(
        select(OutboxItem)
        .where(OutboxItem.id == last.id, OutboxItem.status.in_(unsent))
        .with_for_update(skip_locked=True)
    )
    if claimed is None:
        return False
    claimed.status, claimed.done_at = CANCELLED, as_utc(now)
    claimed.last_error = f"cancelled before dispatch: payment {key} cleared the arrears"
    return True


def queue_reconnect(
    *,
    session: Session,
    company: Company,
    account: Account,
    day: date,
    now: datetime,
    key: str,
) -> bool:
    """Queue the reconnection a payment (`key`) earned; False if that day's was queued."""
    row = order_row(
        company=company,
        account=account.id,
        account_id=account.account_id,
        day=day,
        action=Action.RECONNECT.value,
        step=Action.RECONNECT.value,
        now=now,
        source=f"payment:{key}",
    )
    return queue(session, [row]) == 1


def settle(
    *, session: Session, company: Company, account: Account, day: date, now: datetime, key: str
) -> bool:
    """What a payment (`key`, of `day`) that cleared the account's arrears does to its orders: its
    cut-off not sent yet is cancelled, and an account cut off gets its reconnection queued
    (True when one was)."""
    cancel_pending_cut_off(session=session, account=account, now=now, key=key)
    if state_of(session=session, account=account, carried_out=True).cut_off:
        return queue_reconnect(
            session=session, company=company, account=account, day=day, now=now, key=key
        )
    return False
