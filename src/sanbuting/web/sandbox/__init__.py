"""The built-in sandbox payment provider's pages and endpoints, under `/sandbox-pay`.

- `GET /checkout/{number}`: the provider's checkout page (merchant, amount, 「确认支付」 and
  「取消」).
- `POST /checkout/{number}/confirm`: the buyer pays. The provider records the trade in its own
  transaction (committed before anything else happens), schedules its signed notification(s)
  to the merchant as a background task (`delivery`), and redirects the browser back to the
  merchant's result page — so the notification may arrive before the browser, or after it.
- `POST /checkout/{number}/cancel`: the buyer gives up; back to the merchant.
- `POST /notify`: the merchant's notification endpoint (the portal's, kept here beside the
  provider it serves): the signature is checked first (a bad one is a 400 problem and nothing
  is posted), then the payment is posted once; the answer is `success`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sanbuting.checkout import service as checkout
from sanbuting.checkout.signing import SIGN_FIELD
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import CheckoutOrder
from sanbuting.web.deps import DB
from sanbuting.web.pages import render
from sanbuting.web.portal.common import (
    CsrfToken,
    FormShort,
    OrderNumber,
    business_now,
    check_form,
    committed,
    settings_of,
    wall_now,
)
from sanbuting.web.sandbox.delivery import LATE_SECONDS, behaviour, deliver_all
from sanbuting.web.sandbox.messages import MESSAGES

router = APIRouter(prefix="/sandbox-pay", include_in_schema=False)
NOTIFY_MODES = ("once", "twice", "late")

Field = Annotated[str, Form(max_length=80)]


def return_url(session: Session, order: CheckoutOrder) -> str:
    """Where the provider sends the browser back: the merchant's result page."""
    if order.customer_id is None:
        return f"/quickpay/paid/{order.number}"
    account = session.get(Account, order.account)
    assert account is not None
    return f"/accounts/{account.account_id}/paid/{order.number}"


@router.get("/checkout/{number}")
def checkout_page(request: Request, number: OrderNumber, session: DB) -> Response:
    order = checkout.order_by_number(session=session, number=number)
    company = session.get(Company, order.company_id)
    assert company is not None
    return render(
        request,
        "sandbox/checkout.html",
        order=order,
        merchant=company.name,
        back=return_url(session, order),
        modes=NOTIFY_MODES,
    )


@router.post("/checkout/{number}/confirm")
def confirm(
    request: Request,
    number: OrderNumber,
    background: BackgroundTasks,
    notify: FormShort = "once",
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    secret = settings_of(request).provider_secret
    mode = behaviour(request.app)
    count = max(mode.repeat, 2 if notify == "twice" else 1)
    with request.app.state.sessions.begin() as session:  # committed before the notification
        order = checkout.confirm(session=session, number=number, now=business_now(request))
        notes = [
            checkout.notification(session=session, number=number, secret=secret, now=wall_now())
            for _ in range(count)
        ]
        back = return_url(session, order)
    if mode.hold:
        mode.held.extend(notes)
    else:
        delay = LATE_SECONDS if notify == "late" else 0.0
        background.add_task(deliver_all, request.app, notes, delay)
    return RedirectResponse(back, status_code=303)


@router.post("/checkout/{number}/cancel")
def cancel(request: Request, number: OrderNumber, session: DB, csrf: CsrfToken = None) -> Response:
    check_form(request, csrf)
    order = checkout.cancel(session=session, number=number)
    return committed(session, RedirectResponse(return_url(session, order), status_code=303))


@router.post("/notify")
def notify(
    request: Request,
    session: DB,
    out_trade_no: Field = "",
    trade_no: Field = "",
    trade_status: Field = "",
    total_fen: Field = "",
    paid_at: Field = "",
    notify_id: Field = "",
    notify_time: Field = "",
    sign_type: Field = "",
    sign: Annotated[str, Form(alias=SIGN_FIELD, max_length=128)] = "",
) -> Response:
    fields = {
        "out_trade_no": out_trade_no,
        "trade_no": trade_no,
        "trade_status": trade_status,
        "total_fen": total_fen,
        "paid_at": paid_at,
        "notify_id": notify_id,
        "notify_time": notify_time,
        "sign_type": sign_type,
        SIGN_FIELD: sign,
    }
    settings = settings_of(request)
    checkout.handle_notification(
        session=session,
        fields=fields,
        secret=settings.provider_secret,
        now=wall_now(),
        window=timedelta(hours=settings.notification_window_hours),
    )
    return committed(session, PlainTextResponse("success"))


__all__ = ["MESSAGES", "router"]
