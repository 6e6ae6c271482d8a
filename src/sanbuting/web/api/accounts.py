"""The customer's accounts: those bound to them (GET /me/accounts), binding one by region,
number and the holder's name (POST /me/accounts), and where one stands (GET
/accounts/{account_id}: state, arrears, balance and what to pay as of today, the holder's
name and phone number masked)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from sanbuting.customers import service as customers
from sanbuting.domain import local_date
from sanbuting.relief.status import account_position
from sanbuting.store.models import Account
from sanbuting.web.api.common import (
    SECURED,
    Now,
    RateLimits,
    account_out,
    company_of,
    errors,
    masked_phone,
)
from sanbuting.web.api.schemas import AccountList, AccountOut, BindRequest, PositionOut
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.types import AccountId

router = APIRouter(tags=["accounts"], dependencies=SECURED)


@router.get(
    "/me/accounts",
    response_model=AccountList,
    responses=errors(401),
    summary="The accounts bound to me",
)
def my_accounts(session: DB, customer: SignedInCustomer) -> AccountList:
    bound = customers.bound_accounts(session=session, customer=customer)
    return AccountList(items=[account_out(a, company_of(session, a)) for a in bound])


@router.post(
    "/me/accounts",
    status_code=201,
    response_model=AccountOut,
    responses=errors(400, 401, 404, 422, 429),
    summary="Bind an account (region, number, holder's name and latest bill amount)",
)
def bind(
    body: BindRequest, session: DB, customer: SignedInCustomer, limits: RateLimits, now: Now
) -> AccountOut:
    """Binding an account already bound answers the same; a mismatch is 404 without saying
    which part was wrong."""
    account = customers.bind_account(
        session=session,
        customer=customer,
        region=body.region,
        account_id=body.account_id,
        holder_name=body.holder_name,
        last_bill_fen=body.last_bill_fen,
        on=local_date(now),
        now=now,
        limits=limits,
    )
    return account_out(account, company_of(session, account))


@router.get(
    "/accounts/{account_id}",
    response_model=PositionOut,
    responses=errors(401, 404, 422),
    summary="Where an account stands today",
)
def position_of_mine(
    account_id: AccountId,
    session: DB,
    customer: SignedInCustomer,
    now: Now,
) -> PositionOut:
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    return position(session, account, now, personal=False)


def position(session: Session, account: Account, now: datetime, *, personal: bool) -> PositionOut:
    """The account as of today; the holder's name and phone number masked unless
    `personal`."""
    on = local_date(now)
    found = account_position(session=session, account=account, on=on, now=now)
    name = customers.holder_name(session=session, account=account) or ""
    return PositionOut(
        **account_out(account, company_of(session, account)).model_dump(),
        as_of=on,
        state=found.state.value,
        cut_off=found.cut_off,
        arrears_fen=found.arrears_fen,
        balance_fen=found.balance_fen,
        due_fen=found.due_fen,
        holder=name if personal else customers.masked_name(name),
        phone=(account.phone or "") if personal else masked_phone(account.phone),
    )
