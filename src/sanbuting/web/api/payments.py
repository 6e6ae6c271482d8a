"""POST /accounts/{account_id}/payments: pay into an account, once per `Idempotency-Key`.

The payment is posted now through the idempotent payment service and booked at once; the
answer is its allocation (201). The same key again with the same body returns the first
result (200) — even much later, though the first payment's instant is not the retry's — and
the same key with another body (or for another of the customer's accounts) is refused (409).
Keys are the customer's own: two customers using the same key never meet (the store keeps
`api:CUSTOMER:KEY`)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict

from fastapi import APIRouter, Response
from sqlalchemy import select

from sanbuting.customers import service as customers
from sanbuting.errors import Conflict
from sanbuting.payments.service import PaymentIn, PaymentResult, post_payment
from sanbuting.store.models import Account, Payment
from sanbuting.web.api.common import SECURED, ActivePolicies, Now, company_of, errors
from sanbuting.web.api.schemas import PaymentOut, PaymentRequest
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.types import AccountId, IdempotencyKey

router = APIRouter(tags=["payments"], dependencies=SECURED)

CHANNEL = "online"
"""The channel of a payment whose body names none."""
KEY_LIMIT = 128
"""The store's limit on a payment key."""


def store_key(customer_id: int, key: str) -> str:
    """The key the store keeps for a customer's `key` (a digest when it would be too long)."""
    kept = f"api:{customer_id}:{key}"
    if len(kept) <= KEY_LIMIT:
        return kept
    return f"api:{customer_id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


@router.post(
    "/accounts/{account_id}/payments",
    status_code=201,
    response_model=PaymentOut,
    responses={
        200: {"model": PaymentOut, "description": "A repeat of the key: the first result."},
        **errors(400, 401, 404, 409, 422),
    },
    summary="Pay into an account (idempotent by key)",
)
def pay(
    account_id: AccountId,
    body: PaymentRequest,
    key: IdempotencyKey,
    response: Response,
    session: DB,
    customer: SignedInCustomer,
    policies: ActivePolicies,
    now: Now,
) -> PaymentOut:
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    company = company_of(session, account)
    # Payments of one account one at a time (PostgreSQL; SQLite holds its write lock).
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    kept = store_key(customer.id, key)
    channel = body.channel or CHANNEL
    first = session.scalar(select(Payment).where(Payment.key == kept).limit(1))
    if first is not None:
        if (first.account, first.amount_fen, first.channel) != (
            account.id,
            body.amount_fen,
            channel,
        ) or first.result is None:
            raise Conflict(
                f"the key {key!r} was already used for another payment: "
                "use a new key for a new payment"
            )
        result = PaymentResult.from_json(first.result)
        response.status_code = 200
        return _out(result, key, repeated=True)
    result = post_payment(
        session=session,
        payment=PaymentIn(account.account_id, body.amount_fen, kept, now, channel, company.code),
        policies=policies,
        now=now,
    )
    if result.repeated:
        response.status_code = 200
    return _out(result, key, repeated=result.repeated)


def _out(result: PaymentResult, key: str, *, repeated: bool) -> PaymentOut:
    fields = asdict(result)
    fields.update(key=key, repeated=repeated)
    return PaymentOut.model_validate(fields)
