"""Paying online from an account's page: the amount due or a chosen amount (a bill), a prepaid
top-up, or an IC-card gas top-up (圈存: paid first, then written to the card at a kiosk or card
reader, confirmed by a second step). The browser goes to the sandbox provider's checkout and
comes back to the result page, which shows the outcome whether the provider's notification
came first or not (if not, it asks the provider and posts the same idempotent payment)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from sanbuting.checkout import service as checkout
from sanbuting.customers import service as customers
from sanbuting.domain import BillingMode, Utility, format_yuan
from sanbuting.errors import NotFound, SanbutingError
from sanbuting.relief.status import account_position
from sanbuting.store.models import Account
from sanbuting.store.web_models import CheckoutOrder, Customer
from sanbuting.web.deps import DB, SignedInCustomer, writes
from sanbuting.web.portal.common import (
    CsrfToken,
    FormShort,
    OrderNumber,
    amount_fen,
    business_now,
    check_form,
    committed,
    page,
    settings_of,
    today,
    wall_now,
)
from sanbuting.web.types import AccountId

router = APIRouter()
DEFAULT_TOP_UP_FEN = 10_000


def purpose_for(account: Account) -> str:
    """bill (postpaid), topup (a prepaid meter), ic_card (a prepaid gas IC-card meter)."""
    if account.billing_mode != BillingMode.PREPAID.value:
        return "bill"
    return "ic_card" if account.utility == Utility.GAS.value else "topup"


def suggested_fen(due_fen: int, purpose: str) -> int:
    return due_fen if due_fen > 0 or purpose == "bill" else DEFAULT_TOP_UP_FEN


def outcome(session: Session, order: CheckoutOrder) -> dict[str, Any]:
    """What the result page shows: the order, its payment's result (posted now from the
    provider's answer if no notification came yet), and the IC-card step."""
    result = checkout.confirm_with_provider(session=session, order=order, now=wall_now())
    return {
        "order": order,
        "result": result,
        "status": order.status,
        "card_pending": order.purpose == "ic_card"
        and order.status == "paid"
        and order.card_written_at is None,
    }


def _owned(session: Session, customer: Customer, account_id: str) -> Account:
    return customers.owned_account(session=session, customer=customer, account_id=account_id)


def _order_of(session: Session, account: Account, number: str) -> CheckoutOrder:
    """The order `number` if it pays `account` (a 404 otherwise, as for any other order)."""
    order = checkout.order_by_number(session=session, number=number)
    if order.account != account.id:
        raise NotFound(f"no payment order {number}")
    return order


def _pay_page(
    request: Request,
    session: Session,
    account: Account,
    *,
    error: str = "",
    entered: str | None = None,
    status_code: int = 200,
) -> Response:
    position = account_position(session=session, account=account, on=today(request), now=wall_now())
    purpose = purpose_for(account)
    return page(
        request,
        "portal/pay.html",
        signed_in=True,
        provider=settings_of(request).demo,
        account=account,
        position=position,
        purpose=purpose,
        amount=entered
        if entered is not None
        else format_yuan(suggested_fen(position.due_fen, purpose)),
        error=error,
        status_code=status_code,
    )


@router.get("/accounts/{account_id}/pay")
def pay_form(
    request: Request, account_id: AccountId, session: DB, customer: SignedInCustomer
) -> Response:
    return committed(session, _pay_page(request, session, _owned(session, customer, account_id)))


@router.post("/accounts/{account_id}/pay")
def pay(
    request: Request,
    account_id: AccountId,
    session: DB,
    customer: SignedInCustomer,
    amount: FormShort = "",
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    account = _owned(session, customer, account_id)
    settings = settings_of(request)
    try:
        checkout.require_provider(configured=settings.demo)
        order = checkout.create_order(
            session=session,
            account=account,
            amount_fen=amount_fen(amount),
            purpose=purpose_for(account),
            customer=customer,
            now=business_now(request),
            limit_fen=settings.online_limit_fen,
        )
    except SanbutingError as exc:
        return _pay_page(request, session, account, error=str(exc), entered=amount, status_code=400)
    return RedirectResponse(f"/sandbox-pay/checkout/{order.number}", status_code=303)


@router.get("/accounts/{account_id}/paid/{number}")
@writes  # the provider's return posts the payment if no notification came
def paid(
    request: Request,
    account_id: AccountId,
    number: OrderNumber,
    session: DB,
    customer: SignedInCustomer,
) -> Response:
    account = _owned(session, customer, account_id)
    order = _order_of(session, account, number)
    shown = page(
        request,
        "portal/paid.html",
        signed_in=True,
        quick=False,
        account=account,
        back=f"/accounts/{account.account_id}",
        card_action=f"/accounts/{account.account_id}/paid/{number}/card",
        **outcome(session, order),
    )
    return committed(session, shown)


@router.post("/accounts/{account_id}/paid/{number}/card")
def card_written(
    request: Request,
    account_id: AccountId,
    number: OrderNumber,
    session: DB,
    customer: SignedInCustomer,
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    account = _owned(session, customer, account_id)
    order = _order_of(session, account, number)
    checkout.confirm_card_written(session=session, order=order, now=wall_now())
    back = RedirectResponse(f"/accounts/{account.account_id}/paid/{number}", status_code=303)
    return committed(session, back)
