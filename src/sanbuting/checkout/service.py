"""Online payment through the sandbox provider, which behaves like a real one.

The merchant (the portal) makes an order (`create_order`: its number is also the idempotency
key its payment is posted under) and sends the browser to the provider's checkout page. When
the buyer confirms, the provider records the trade (`confirm`: status `confirmed`, with the
trade time), sends a signed asynchronous notification to the merchant (`notification`, from a
background task: it may come twice, and before or after the browser returns), and redirects
the browser back. The merchant posts the payment when whichever comes first — the notification
(`handle_notification`, which refuses a bad signature before anything else) or the return page
asking the provider's order-query API (`provider_query`, then `confirm_with_provider`) — and
every later arrival finds it posted: `settle` goes through `payments.service.post_payment`
under the order's key, with the provider's trade time, so it is posted exactly once and a
repeat returns the first result. An IC-card gas top-up (圈存) is paid first and then written to
the card at a kiosk: `confirm_card_written` records that second step.

Statuses: `created` → `confirmed` (the provider took the money) → `paid` (posted by the
merchant); `created` → `cancelled`. Keyword-only; the caller owns the transaction.

What the merchant believes of a notification: its signature, under the provider's own key
(never the sign-in key); that the provider confirmed the trade (its order-query answers
`TRADE_SUCCESS`: a validly signed notification of an order nobody paid posts nothing); the
amount; and a trade time within a bounded window after the order was made (never back-dated
before it). The order's times are on the business clock, as the payment's day is.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.checkout.signing import signed, verified
from sanbuting.domain import SHANGHAI, as_utc, format_yuan, parse_timestamp, read_utc
from sanbuting.errors import Conflict, NotFound, SanbutingError
from sanbuting.payments.service import PaymentIn, PaymentResult, post_payment
from sanbuting.policy import Policy
from sanbuting.store.models import Account, Company, Payment
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.web_models import CheckoutOrder, Customer

Purpose = Literal["bill", "topup", "ic_card"]
PURPOSES: tuple[str, ...] = ("bill", "topup", "ic_card")
CHANNEL = "sandbox-pay"
CLOCK_SKEW = timedelta(minutes=5)
"""How far before its order a trade time may be (the provider's clock and ours differ)."""
SUCCESS = "TRADE_SUCCESS"
WAITING = "WAIT_BUYER_PAY"
CLOSED = "TRADE_CLOSED"


class CheckoutError(SanbutingError):
    """A payment request or notification that cannot be taken (400)."""


class BadSignature(CheckoutError):
    """A notification whose signature does not match: nothing is posted."""


class ProviderUnavailable(CheckoutError):
    """No payment provider is configured: online payment cannot be offered."""


def require_provider(*, configured: bool) -> None:
    """Refuse to start an online payment when no provider is configured (the built-in
    sandbox provider is served only in demo mode; a real provider is configured by the
    deployment)."""
    if not configured:
        raise ProviderUnavailable(
            "online payment is not available on this site yet: pay at a service hall, "
            "through your bank or at a self-service kiosk"
        )


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """What the provider's order-query API answers."""

    number: str
    trade_status: str
    amount_fen: int
    paid_at: datetime | None


@dataclass(frozen=True, slots=True)
class Settled:
    """A paid order and its payment's result (`result.repeated`: posted before)."""

    number: str
    result: PaymentResult


def create_order(
    *,
    session: Session,
    account: Account,
    amount_fen: int,
    purpose: str,
    customer: Customer | None,
    now: datetime,
    limit_fen: int,
) -> CheckoutOrder:
    """A new order to pay `amount_fen` to `account` (`customer` None for quick pay), at most
    `limit_fen` (the online channel's limit)."""
    if purpose not in PURPOSES:
        raise CheckoutError(f"purpose {purpose!r}: use one of {', '.join(PURPOSES)}")
    if type(amount_fen) is not int or not 0 < amount_fen <= limit_fen:
        raise CheckoutError(
            f"an online payment is between 0.01 and {format_yuan(limit_fen)} yuan, "
            f"not {format_yuan(amount_fen) if type(amount_fen) is int else amount_fen!r}: "
            "pay a larger sum at a service hall or through your bank"
        )
    moment = as_utc(now)
    number = f"SP{moment.astimezone(SHANGHAI):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"
    order = CheckoutOrder(
        number=number,
        company_id=account.company_id,
        account=account.id,
        customer_id=customer.id if customer is not None else None,
        amount_fen=amount_fen,
        purpose=purpose,
        status="created",
        payment_key=number,
        created_at=moment,
        paid_at=None,
        notifications=0,
        card_written_at=None,
    )
    session.add(order)
    session.flush()
    return order


def order_by_number(*, session: Session, number: str, lock: bool = False) -> CheckoutOrder:
    query = select(CheckoutOrder).where(CheckoutOrder.number == number)
    order = session.scalar(query.with_for_update() if lock else query)
    if order is None:
        raise NotFound(f"no payment order {number}")
    return order


# The provider's side ------------------------------------------------------------------------


def confirm(*, session: Session, number: str, now: datetime) -> CheckoutOrder:
    """The buyer confirmed on the provider's page: the provider records the trade (once)."""
    order = order_by_number(session=session, number=number, lock=True)
    if order.status == "cancelled":
        raise Conflict("this payment was cancelled: start a new payment")
    if order.status == "created":
        order.status = "confirmed"
        order.paid_at = as_utc(now).replace(microsecond=0)
        session.flush()
    return order


def cancel(*, session: Session, number: str) -> CheckoutOrder:
    """The buyer cancelled on the provider's page (a paid order cannot be cancelled)."""
    order = order_by_number(session=session, number=number, lock=True)
    if order.status in ("confirmed", "paid"):
        raise Conflict("this payment was already made and cannot be cancelled")
    order.status = "cancelled"
    session.flush()
    return order


def provider_query(*, session: Session, number: str) -> ProviderStatus:
    """The provider's order-query API: the trade's status as the provider knows it."""
    order = order_by_number(session=session, number=number)
    paid_at = read_utc(order.paid_at) if order.paid_at is not None else None
    if order.status in ("confirmed", "paid"):
        trade = SUCCESS
    elif order.status == "cancelled":
        trade = CLOSED
    else:
        trade = WAITING
    return ProviderStatus(order.number, trade, order.amount_fen, paid_at)


def notification(*, session: Session, number: str, secret: str, now: datetime) -> dict[str, str]:
    """The signed notification the provider sends for a confirmed trade (`notify_id` differs
    at each delivery, as a real provider's does)."""
    status = provider_query(session=session, number=number)
    if status.trade_status != SUCCESS or status.paid_at is None:
        raise CheckoutError(f"order {number} is not paid: no notification to send")
    fields = {
        "out_trade_no": status.number,
        "trade_no": f"T{status.number[2:]}",
        "trade_status": status.trade_status,
        "total_fen": str(status.amount_fen),
        "paid_at": status.paid_at.isoformat(),
        "notify_id": secrets.token_hex(8),
        "notify_time": as_utc(now).isoformat(timespec="seconds"),
        "sign_type": "HMAC-SHA256",
    }
    return signed(fields, secret)


# The merchant's side ------------------------------------------------------------------------


def handle_notification(
    *,
    session: Session,
    fields: Mapping[str, str],
    secret: str,
    now: datetime,
    window: timedelta,
    policies: Sequence[Policy] | None = None,
) -> Settled | None:
    """Take a provider notification: a bad signature is `BadSignature` (nothing posted); a
    successful trade the provider confirmed, of the order's amount, dated within `window`
    after the order, is posted once (a duplicate returns the first result); another status
    is acknowledged and nothing is done (None)."""
    if not verified(fields, secret):
        raise BadSignature("the notification's signature does not match: refused")
    if fields.get("trade_status") != SUCCESS:
        return None
    number = fields.get("out_trade_no", "")
    order = order_by_number(session=session, number=number, lock=True)
    if fields.get("total_fen") != str(order.amount_fen):
        raise CheckoutError(
            f"the notification's amount {fields.get('total_fen')} fen is not the order's "
            f"{order.amount_fen} fen: refused"
        )
    if provider_query(session=session, number=number).trade_status != SUCCESS:
        raise CheckoutError(f"the provider has not confirmed order {number}: refused")
    try:
        paid_at = parse_timestamp(fields.get("paid_at", ""))
    except SanbutingError as exc:
        raise CheckoutError(f"the notification's paid_at: {exc}") from None
    ordered = read_utc(order.created_at)
    if not ordered - CLOCK_SKEW <= as_utc(paid_at) <= ordered + window:
        raise CheckoutError(
            f"the notification dates order {number}'s trade {paid_at.isoformat()}, outside "
            f"the order's window ({ordered.isoformat()} plus {window}): refused"
        )
    order.notifications += 1
    result = settle(session=session, order=order, paid_at=paid_at, now=now, policies=policies)
    return Settled(order.number, result)


def confirm_with_provider(
    *,
    session: Session,
    order: CheckoutOrder,
    now: datetime,
    policies: Sequence[Policy] | None = None,
) -> PaymentResult | None:
    """The return page's check: the order's payment, posted now if the provider says it is
    paid and no notification came yet; None while the provider has not been paid."""
    session.execute(select(CheckoutOrder.id).where(CheckoutOrder.id == order.id).with_for_update())
    session.refresh(order)
    if order.status == "paid":
        return payment_result(session=session, order=order)
    status = provider_query(session=session, number=order.number)
    if status.trade_status != SUCCESS or status.paid_at is None:
        return None
    return settle(session=session, order=order, paid_at=status.paid_at, now=now, policies=policies)


def settle(
    *,
    session: Session,
    order: CheckoutOrder,
    paid_at: datetime,
    now: datetime,
    policies: Sequence[Policy] | None = None,
) -> PaymentResult:
    """Post the order's payment under its key (once; a repeat returns the first result) and
    mark the order paid. The caller holds the order's row lock."""
    if order.status == "cancelled":
        raise Conflict(f"order {order.number} was cancelled: its payment is not taken")
    account = session.get(Account, order.account)
    company = session.get(Company, order.company_id)
    assert account is not None and company is not None
    chosen = list(
        policies_for(session=session, company_id=company.id) if policies is None else policies
    )
    result = post_payment(
        session=session,
        payment=PaymentIn(
            account_id=account.account_id,
            amount_fen=order.amount_fen,
            key=order.payment_key,
            paid_at=paid_at,
            channel=CHANNEL,
            company=company.code,
        ),
        policies=chosen,
        now=now,
    )
    if order.status != "paid":
        order.status = "paid"
        if order.paid_at is None:
            order.paid_at = as_utc(paid_at)
    session.flush()
    return result


def payment_result(*, session: Session, order: CheckoutOrder) -> PaymentResult | None:
    """The posted payment's first result, if the order is paid."""
    stored = session.scalar(
        select(Payment.result).where(
            Payment.company_id == order.company_id, Payment.key == order.payment_key
        )
    )
    return PaymentResult.from_json(stored) if stored else None


def confirm_card_written(*, session: Session, order: CheckoutOrder, now: datetime) -> CheckoutOrder:
    """The kiosk wrote a paid IC-card top-up to the card (圈存): recorded once."""
    if order.purpose != "ic_card":
        raise CheckoutError("only an IC-card top-up is written to a card")
    if order.status != "paid":
        raise Conflict("the top-up is not paid yet: pay first, then write it to the card")
    if order.card_written_at is None:
        order.card_written_at = as_utc(now)
        session.flush()
    return order
