"""The last look before an order leaves: is the account still in arrears?

A daily run decides from what the store held when it read it; a payment may land after that
read, or after the run, and before the order is dispatched. So an enforcement order (a notice,
a suspension, a cut-off, a termination) is checked again at dispatch against the ledger, booked
with every payment received so far: an account whose arrears are now 0 (prepaid: whose
balance is back above its floor) is not cut off, and the order is cancelled with the reason.
A reconnection is sent only to an account that is cut off in the field (its cut-off was
carried out, or it came in cut off): one whose cut-off was cancelled is connected already.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.domain import Action, BillingMode, local_date, read_utc
from sanbuting.ledger.service import arrears, balances, book_accounts
from sanbuting.payments.orders import state_of
from sanbuting.policy import Policy
from sanbuting.rules import load_ruleset
from sanbuting.store.models import Account, Company, OutboxItem, Payment
from sanbuting.store.policy_versions import policies_for

ENFORCEMENT = {
    Action.NOTICE.value,
    Action.SUSPEND.value,
    Action.DISCONNECT.value,
    Action.TERMINATE.value,
}

Recheck = Callable[[Session, OutboxItem], str | None]


def make_recheck(now: Callable[[], datetime], policies: Sequence[Policy] | None = None) -> Recheck:
    """A recheck for the dispatcher that books with `policies` (default: those in force for
    each order's company)."""

    def recheck(session: Session, item: OutboxItem) -> str | None:
        return recheck_order(session=session, item=item, policies=policies, now=now())

    return recheck


def recheck_order(
    *, session: Session, item: OutboxItem, now: datetime, policies: Sequence[Policy] | None = None
) -> str | None:
    """None when the order still stands; otherwise why it is cancelled."""
    if item.kind == Action.RECONNECT.value and item.account is not None:
        return _recheck_reconnect(session, item.account)
    if item.kind not in ENFORCEMENT or item.account is None or item.day is None:
        return None
    account = session.get(Account, item.account, with_for_update=True)
    company = session.get(Company, item.company_id)
    assert account is not None and company is not None
    day = max(item.day, _last_paid(session, account) or item.day)
    if policies is None:
        policies = policies_for(session=session, company_id=company.id)
    book_accounts(
        session=session,
        company=company,
        accounts=[account.id],
        policies=policies,
        now=now,
        through=day,
    )
    if account.billing_mode == BillingMode.PREPAID.value:
        balance = -balances(session=session, account=account.id, on=day).get("credit", 0)
        floor = -account.credit_limit_fen
        trigger = load_ruleset(company.ruleset).prepaid.trigger
        still = balance <= floor if trigger == "at_or_below" else balance < floor
        if not still:
            return f"balance {balance} fen is back above the floor {floor} fen (topped up)"
        return None
    owed = arrears(session=session, account=account, on=day)
    if owed == 0:
        return f"arrears are 0 on {day} (paid after the order was decided)"
    return None


def _recheck_reconnect(session: Session, account_id: int) -> str | None:
    """A reconnection stands only if the account is cut off in the field: its last
    state-changing order carried out cut it off (or it was imported cut off). One whose cut-off
    was cancelled (the customer paid before it was sent) is connected already."""
    account = session.get(Account, account_id, with_for_update=True)
    assert account is not None
    field = state_of(session=session, account=account, carried_out=True)
    if field.cut_off:
        return None
    return f"the account is not cut off (its state is {field.state.value}): nothing to reconnect"


def _last_paid(session: Session, account: Account) -> date | None:
    last = session.scalar(select(func.max(Payment.paid_at)).where(Payment.account == account.id))
    if last is None:
        return None
    return local_date(read_utc(last))
