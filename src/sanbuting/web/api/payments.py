"""Payments in the API.

`POST /accounts/{account_id}/payments` posts money directly, once per `Idempotency-Key`, and
only for those who hold money: a bank's or collection agent's channel (its API key as bearer
token) or a cashier (a staff token). The account is looked up in the caller's company, the
channel label comes from the credential, and the caller's limit applies. The same key with the
same body returns the first result (200), with another body 409; keys are the caller's own.
A customer's token is refused (403): customers pay through the provider.

`POST /accounts/{account_id}/checkout` is the customer's way: an order with the payment
provider and the address to send the buyer to; `GET /accounts/{account_id}/checkout/{order}`
says whether the provider was paid and, once posted, what the payment did.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.checkout import service as checkout
from sanbuting.customers import service as customers
from sanbuting.domain import as_utc, local_date
from sanbuting.errors import Forbidden, NotFound, SanbutingError, Unauthorized
from sanbuting.payments import channels
from sanbuting.payments.bulk import post_all
from sanbuting.payments.service import PaymentIn, PaymentResult, post_payment, scoped_key
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import ChannelCredential, CheckoutOrder, Staff
from sanbuting.web import deps
from sanbuting.web.api.common import SECURED, Now, errors
from sanbuting.web.api.schemas import (
    BatchOut,
    BatchRequest,
    BatchResult,
    CheckoutOut,
    CheckoutRequest,
    PaymentOut,
    PaymentRequest,
)
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.portal.common import OrderNumber
from sanbuting.web.portal.pay import purpose_for
from sanbuting.web.types import AccountId, IdempotencyKey

router = APIRouter(tags=["payments"], dependencies=SECURED)

REPORTED_WITHIN = timedelta(days=90)
"""How far back a channel may date a payment it reports."""


def money_holder(request: Request, session: DB, who: deps.MaybeCaller) -> ChannelCredential | Staff:
    """Who may post: a channel's API key, or a signed-in member of staff (a cashier, checked
    by `channels.cashier_payer`); a customer or nobody is refused."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if token.startswith(channels.KEY_PREFIX):
        credential = channels.credential_for_key(session=session, key=token)
        if credential is None:
            raise Unauthorized("this channel key is unknown or withdrawn: ask for a new key")
        return credential
    if who is None:
        raise Unauthorized("sign in first (a cashier), or use your channel's key")
    if who.staff is None:
        raise Forbidden(
            "customers pay through the payment provider: POST /api/v1/accounts/{id}/checkout"
        )
    return who.staff


MoneyHolder = Annotated[ChannelCredential | Staff, Depends(money_holder)]


@router.post(
    "/accounts/{account_id}/payments",
    status_code=201,
    response_model=PaymentOut,
    responses={
        200: {"model": PaymentOut, "description": "A repeat of the key: the first result."},
        **errors(400, 401, 403, 404, 409, 422),
    },
    summary="Post a payment (bank or agent channel, or cashier; idempotent by key)",
)
def pay(
    account_id: AccountId,
    body: PaymentRequest,
    key: IdempotencyKey,
    response: Response,
    session: DB,
    holder: MoneyHolder,
    settings: deps.Configured,
    now: Now,
) -> PaymentOut:
    limit = settings.cashier_limit_fen
    payment = _payment_in(session, holder, limit, account_id, key, body, now)
    result = post_payment(session=session, payment=payment, now=now)
    if result.repeated:
        response.status_code = 200
    return _out(result, key)


def _payment_in(
    session: Session,
    holder: ChannelCredential | Staff,
    cashier_limit_fen: int,
    account_id: str,
    key: str,
    body: PaymentRequest,
    now: datetime,
) -> PaymentIn:
    """One payment as the holder posts it: its payer's label and limit, the account in its
    company, the instant, the key in its namespace."""
    who = channels.payer_for(holder, body.channel, cashier_limit_fen)
    channels.check_limit(who, body.amount_fen)
    account, company = _company_account(session, who.company_id, account_id)
    paid_at, given = _paid_at(body.paid_at, who, now, company)
    return PaymentIn(
        account_id=account.account_id,
        amount_fen=body.amount_fen,
        key=scoped_key(who.scope, key),
        paid_at=paid_at,
        channel=who.channel,
        company=company.code,
        at_given=given,
    )


@router.post(
    "/payments/batch",
    response_model=BatchOut,
    responses=errors(400, 401, 403, 422),
    summary="Post up to 1,000 payments (a bank's file): each once by its key, each with a result",
)
def pay_batch(
    body: BatchRequest, session: DB, holder: MoneyHolder, settings: deps.Configured, now: Now
) -> BatchOut:
    """Posted as a bank file is (`payments.bulk.post_all`: set-based where the open items
    allow, else one by one in a savepoint each): a refused payment (unknown account, over the
    limit, a key used for another payment) is answered with its reason and undoes nothing
    else. The same batch sent again answers `repeated` for every payment posted."""
    results: list[BatchResult | None] = []
    wanted: list[PaymentIn] = []
    for item in body.payments:
        request = PaymentRequest(
            amount_fen=item.amount_fen, channel=item.channel, paid_at=item.paid_at
        )
        try:
            limit = settings.cashier_limit_fen
            wanted.append(
                _payment_in(session, holder, limit, item.account_id, item.key, request, now)
            )
        except SanbutingError as exc:
            results.append(BatchResult(key=item.key, status="refused", detail=str(exc)))
            continue
        results.append(None)
    outcomes = iter(post_all(session=session, payments=wanted, now=now))
    for n, (item, found) in enumerate(zip(body.payments, results, strict=True)):
        if found is not None:
            continue
        outcome = next(outcomes)
        if isinstance(outcome, SanbutingError):
            results[n] = BatchResult(key=item.key, status="refused", detail=str(outcome))
        else:
            results[n] = BatchResult(
                key=item.key,
                status="repeated" if outcome.repeated else "posted",
                payment=_out(outcome, item.key),
            )
    return BatchOut(results=[r for r in results if r is not None])


def _paid_at(
    reported: datetime | None, who: channels.Payer, now: datetime, company: Company
) -> tuple[datetime, bool]:
    """When the payment counts: now, or (a channel only) the instant it reports, within the
    last `REPORTED_WITHIN` and not before the company's books begin."""
    if reported is None:
        return now, False
    if not who.reports_time:
        raise Forbidden("a cashier's payment is dated now: leave paid_at out")
    if reported.tzinfo is None:
        raise SanbutingError("paid_at needs a UTC offset, e.g. 2020-02-03T10:15:00+08:00")
    moment = as_utc(reported)
    if not as_utc(now) - REPORTED_WITHIN <= moment <= as_utc(now) + timedelta(minutes=5):
        raise SanbutingError(
            "paid_at must be within the last 90 days and not in the future: post older "
            "payments through the payments file"
        )
    if company.origin is not None and local_date(moment) < company.origin:
        raise SanbutingError(
            f"paid_at is before {company.code}'s books begin ({company.origin}): "
            "it cannot be posted"
        )
    return moment, True


def _company_account(session: Session, company_id: int, account_id: str) -> tuple[Account, Company]:
    found = session.execute(
        select(Account, Company)
        .join(Company, Company.id == Account.company_id)
        .where(Account.company_id == company_id, Account.account_id == account_id)
    ).first()
    if found is None:
        raise NotFound(f"no account {account_id!r} in your company")
    return found[0], found[1]


def _out(result: PaymentResult, key: str) -> PaymentOut:
    fields = asdict(result)
    fields.update(key=key)
    return PaymentOut.model_validate(fields)


# The customer's way: an order with the payment provider ------------------------------------


@router.post(
    "/accounts/{account_id}/checkout",
    status_code=201,
    response_model=CheckoutOut,
    responses=errors(400, 401, 404, 422, 503),
    summary="Start an online payment: an order with the payment provider (customers)",
)
def start_checkout(
    request: Request,
    account_id: AccountId,
    body: CheckoutRequest,
    session: DB,
    customer: SignedInCustomer,
    now: Now,
) -> CheckoutOut:
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    settings = deps.settings(request)
    checkout.require_provider(configured=settings.demo)
    order = checkout.create_order(
        session=session,
        account=account,
        amount_fen=body.amount_fen,
        purpose=purpose_for(account),
        customer=customer,
        now=now,
        limit_fen=settings.online_limit_fen,
    )
    return _checkout_out(session, account, order)


@router.get(
    "/accounts/{account_id}/checkout/{order}",
    response_model=CheckoutOut,
    responses=errors(401, 404, 422),
    summary="An online payment's state, and what it did once posted (customers)",
)
def checkout_state(
    account_id: AccountId,
    order: OrderNumber,
    session: DB,
    customer: SignedInCustomer,
) -> CheckoutOut:
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    found = checkout.order_by_number(session=session, number=order)
    if found.account != account.id:
        raise NotFound(f"no payment order {order}")
    return _checkout_out(session, account, found)


def _checkout_out(session: Session, account: Account, order: CheckoutOrder) -> CheckoutOut:
    result = checkout.payment_result(session=session, order=order)
    return CheckoutOut.model_validate(
        {
            "order": order.number,
            "account_id": account.account_id,
            "amount_fen": order.amount_fen,
            "status": order.status,
            "checkout_url": f"/sandbox-pay/checkout/{order.number}",
            "payment": _out(result, order.number) if result is not None else None,
        }
    )
