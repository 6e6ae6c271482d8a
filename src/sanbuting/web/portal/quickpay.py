"""Quick pay without signing in (as utilities allow): the account number (and its region when
the number is not enough) gives only the kind of service and the amount due — no part of the
holder's name, which binding an account must not let a stranger learn — and the payment goes
through the payment provider like any other. Nothing else of the account is shown, here or on
the result page; lookups are rate-limited per address against enumeration.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from sanbuting.checkout import service as checkout
from sanbuting.customers import service as customers
from sanbuting.domain import format_yuan
from sanbuting.errors import NotFound, SanbutingError, TooMany
from sanbuting.relief.status import account_position
from sanbuting.store.models import Account
from sanbuting.store.web_models import CheckoutOrder
from sanbuting.web.deps import DB, MaybeCaller, writes
from sanbuting.web.portal.common import (
    CsrfToken,
    FormShort,
    FormText,
    OrderNumber,
    amount_fen,
    business_now,
    check_form,
    client_ip,
    committed,
    limits_of,
    page,
    settings_of,
    today,
    wall_now,
)
from sanbuting.web.portal.pay import outcome, purpose_for, suggested_fen

router = APIRouter()


def _signed_in(who: MaybeCaller) -> bool:
    return who is not None and who.customer is not None


def _lookup(request: Request, session: Session, account_id: str, region: str) -> Account:
    limits = limits_of(request)
    limits.hit(limits.sign_in, "quickpay", client_ip(request), what="quick-pay lookups")
    return customers.quick_pay_account(session=session, account_id=account_id, region=region)


def _quickpay_page(
    request: Request,
    session: Session,
    who: MaybeCaller,
    *,
    account: Account | None = None,
    account_id: str = "",
    region: str = "",
    error: str = "",
    amount: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, object] = {
        "account_id": account_id,
        "region": region,
        "error": error,
        "found": account is not None,
    }
    if account is not None:
        position = account_position(
            session=session, account=account, on=today(request), now=wall_now()
        )
        purpose = purpose_for(account)
        context |= {
            "utility": account.utility,
            "due": position.due_fen,
            "purpose": purpose,
            "amount": amount
            if amount is not None
            else format_yuan(suggested_fen(position.due_fen, purpose)),
        }
    fragment = request.headers.get("HX-Request") == "true"
    shown = page(
        request,
        "portal/_quickpay_result.html" if fragment else "portal/quickpay.html",
        signed_in=_signed_in(who),
        status_code=200 if fragment else status_code,
        **context,
    )
    return committed(session, shown)


@router.get("/quickpay")
def quickpay_form(request: Request, session: DB, who: MaybeCaller) -> Response:
    return _quickpay_page(request, session, who)


@router.post("/quickpay/lookup")
def lookup(
    request: Request,
    session: DB,
    who: MaybeCaller,
    account_id: FormText = "",
    region: FormShort = "",
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    try:
        account = _lookup(request, session, account_id, region)
    except TooMany as exc:
        return _quickpay_page(request, session, who, error=str(exc), status_code=429)
    except NotFound as exc:
        return _quickpay_page(
            request,
            session,
            who,
            account_id=account_id,
            region=region,
            error=str(exc),
            status_code=404,
        )
    except SanbutingError as exc:
        return _quickpay_page(
            request,
            session,
            who,
            account_id=account_id,
            region=region,
            error=str(exc),
            status_code=400,
        )
    return _quickpay_page(
        request, session, who, account=account, account_id=account_id, region=region
    )


@router.post("/quickpay/pay")
def quickpay(
    request: Request,
    session: DB,
    who: MaybeCaller,
    account_id: FormText = "",
    region: FormShort = "",
    amount: FormShort = "",
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    try:
        account = _lookup(request, session, account_id, region)
    except SanbutingError as exc:
        return _quickpay_page(request, session, who, error=str(exc), status_code=400)
    try:
        settings = settings_of(request)
        checkout.require_provider(configured=settings.demo)
        order = checkout.create_order(
            session=session,
            account=account,
            amount_fen=amount_fen(amount),
            purpose=purpose_for(account),
            customer=None,
            now=business_now(request),
            limit_fen=settings.online_limit_fen,
        )
    except SanbutingError as exc:
        return _quickpay_page(
            request,
            session,
            who,
            account=account,
            account_id=account_id,
            region=region,
            error=str(exc),
            amount=amount,
            status_code=400,
        )
    return committed(
        session, RedirectResponse(f"/sandbox-pay/checkout/{order.number}", status_code=303)
    )


def _quick_order(session: Session, number: str) -> CheckoutOrder:
    order = checkout.order_by_number(session=session, number=number)
    if order.customer_id is not None:  # a signed-in customer's order has its own page
        raise NotFound(f"no payment order {number}")
    return order


@router.get("/quickpay/paid/{number}")
@writes  # the provider's return posts the payment if no notification came
def quickpay_paid(request: Request, number: OrderNumber, session: DB, who: MaybeCaller) -> Response:
    order = _quick_order(session, number)
    account = session.get(Account, order.account)
    assert account is not None
    shown = page(
        request,
        "portal/paid.html",
        signed_in=_signed_in(who),
        quick=True,
        utility=account.utility,
        back="/",
        card_action=f"/quickpay/paid/{number}/card",
        **outcome(session, order),
    )
    return committed(session, shown)


@router.post("/quickpay/paid/{number}/card")
def quickpay_card(
    request: Request, number: OrderNumber, session: DB, csrf: CsrfToken = None
) -> Response:
    check_form(request, csrf)
    order = _quick_order(session, number)
    checkout.confirm_card_written(session=session, order=order, now=wall_now())
    return committed(session, RedirectResponse(f"/quickpay/paid/{number}", status_code=303))
