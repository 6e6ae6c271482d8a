"""The signed-in customer's accounts: the list with the binding form (region, account number,
holder's name), and one account's page — its money and state, "Am I protected?", bills with
their late fees explained day range by day range, a prepaid meter's usage, the ledger
history, and when a reconnection is promised (`field.orders.promised_reconnection`). Every
account is read through `owned_account`: another customer's account is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.customers import service as customers
from sanbuting.customers.statement import ledger_history, recent_usage
from sanbuting.errors import NotFound, SanbutingError, TooMany, UnknownRegion
from sanbuting.field.orders import promised_reconnection
from sanbuting.regions import full_name
from sanbuting.relief.status import Position, account_position, protection_status
from sanbuting.store.models import Account
from sanbuting.store.web_models import Customer
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.portal.common import (
    CsrfToken,
    FormShort,
    FormText,
    amount_fen,
    check_form,
    committed,
    limits_of,
    page,
    today,
    wall_now,
)
from sanbuting.web.portal.pay import purpose_for
from sanbuting.web.types import AccountId

router = APIRouter()
REGION_CHOICES = 1000


@dataclass(frozen=True)
class AccountRow:
    account: Account
    position: Position
    region: str
    holder: str


def region_name(code: str) -> str:
    try:
        return full_name(code)
    except UnknownRegion:
        return code


def holder_shown(session: Session, account: Account) -> str:
    name = customers.holder_name(session=session, account=account)
    return customers.masked_name(name) if name else ""


def _accounts_page(
    request: Request,
    session: Session,
    customer: Customer,
    *,
    error: str = "",
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    on = today(request)
    rows = [
        AccountRow(
            account,
            account_position(session=session, account=account, on=on, now=wall_now()),
            region_name(account.region),
            holder_shown(session, account),
        )
        for account in customers.bound_accounts(session=session, customer=customer)
    ]
    codes = session.scalars(
        select(Account.region).distinct().order_by(Account.region).limit(REGION_CHOICES)
    ).all()
    return page(
        request,
        "portal/accounts.html",
        signed_in=True,
        rows=rows,
        regions=[(code, region_name(code)) for code in codes],
        error=error,
        entered=entered or {},
        on=on,
        status_code=status_code,
    )


@router.get("/accounts")
def accounts(request: Request, session: DB, customer: SignedInCustomer) -> Response:
    return committed(session, _accounts_page(request, session, customer))


@router.post("/accounts/bind")
def bind(
    request: Request,
    session: DB,
    customer: SignedInCustomer,
    region: FormShort = "",
    account_id: FormText = "",
    holder_name: FormText = "",
    last_bill: FormShort = "",
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    entered = {"region": region, "account_id": account_id}
    try:
        account = customers.bind_account(
            session=session,
            customer=customer,
            region=region,
            account_id=account_id,
            holder_name=holder_name,
            last_bill_fen=amount_fen(last_bill),
            on=today(request),
            now=wall_now(),
            limits=limits_of(request),
        )
    except (NotFound, TooMany, SanbutingError) as exc:
        status = 404 if isinstance(exc, NotFound) else 429 if isinstance(exc, TooMany) else 400
        refused = _accounts_page(
            request, session, customer, error=str(exc), entered=entered, status_code=status
        )
        return committed(session, refused)
    done = RedirectResponse(f"/accounts/{account.account_id}?bound=1", status_code=303)
    return committed(session, done)


@router.get("/accounts/{account_id}")
def account_page(
    request: Request, account_id: AccountId, session: DB, customer: SignedInCustomer
) -> Response:
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    on = today(request)
    position = account_position(session=session, account=account, on=on, now=wall_now())
    usage = recent_usage(session=session, account=account, through=on) if position.prepaid else []
    shown = page(
        request,
        "portal/account.html",
        signed_in=True,
        account=account,
        position=position,
        protections=protection_status(session=session, account=account, on=on),
        reconnection=promised_reconnection(session=session, account=account),
        history=ledger_history(session=session, account=account, through=on),
        usage=usage,
        region=region_name(account.region),
        holder=holder_shown(session, account),
        purpose=purpose_for(account),
        bound=request.query_params.get("bound") == "1",
        on=on,
    )
    return committed(session, shown)
