"""Staff reading accounts (bearer staff token): search their company's accounts by number or
phone, and see where one stands. Personal data (holder's name, phone number) is masked unless
the member's role may see it (`staff.service.can_see_personal_data`); another company's
accounts are not found; every call is audited."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import or_, select

from sanbuting.customers import service as customers
from sanbuting.payments.orders import state_of
from sanbuting.staff.service import can_see_personal_data
from sanbuting.store.models import Account, Company
from sanbuting.web.api.accounts import position
from sanbuting.web.api.common import (
    REFUSALS,
    SECURED,
    Now,
    account_out,
    audit,
    errors,
    masked_phone,
    paged,
    refused,
    staff_account,
)
from sanbuting.web.api.schemas import Paged, PositionOut, SearchText, StaffAccountOut
from sanbuting.web.deps import DB, SignedInStaff
from sanbuting.web.types import AccountId, Page, PageSize

router = APIRouter(prefix="/staff", tags=["staff"], dependencies=SECURED)


@router.get(
    "/accounts",
    response_model=Paged[StaffAccountOut],
    responses=errors(401, 422),
    summary="Search my company's accounts",
)
def search_accounts(
    session: DB,
    staff: SignedInStaff,
    now: Now,
    q: SearchText | None = None,
    page: Page = 1,
    size: PageSize = 20,
) -> Paged[StaffAccountOut]:
    """By the beginning of the account number, or a whole phone number; all without `q`."""
    query = (
        select(Account, Company)
        .join(Company, Company.id == Account.company_id)
        .where(Account.company_id == staff.company_id)
        .order_by(Account.account_id)
    )
    if q is not None:
        query = query.where(
            or_(Account.account_id.startswith(q, autoescape=True), Account.phone == q)
        )
    rows, total = paged(session, query, page, size)
    personal = can_see_personal_data(staff)
    audit(session, staff, "api.accounts.search", q or "", now)
    items = []
    for account, company in rows:
        name = customers.holder_name(session=session, account=account) or ""
        items.append(
            StaffAccountOut(
                **account_out(account, company).model_dump(),
                state=state_of(session=session, account=account).state.value,
                holder=name if personal else customers.masked_name(name),
                phone=(account.phone or "") if personal else masked_phone(account.phone),
            )
        )
    return Paged[StaffAccountOut](items=items, page=page, size=size, total=total)


@router.get(
    "/accounts/{account_id}",
    response_model=PositionOut,
    responses=errors(401, 404, 422),
    summary="Where one of my company's accounts stands today",
)
def account_detail(
    account_id: AccountId, session: DB, staff: SignedInStaff, now: Now
) -> PositionOut | JSONResponse:
    try:
        account = staff_account(session, staff, account_id)
    except REFUSALS as exc:
        return refused(session, staff, "api.accounts.read", account_id, now, exc)
    audit(session, staff, "api.accounts.read", account_id, now)
    return position(session, account, now, personal=can_see_personal_data(staff))
