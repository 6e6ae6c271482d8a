"""GET /accounts/{account_id}/bills: a customer's bills, newest first, each with its open
principal and its late fee as of today — charged once the bill was paid in full, else accrued
so far and what it would be if paid today — told day range by day range in zh-CN and English
(the account's position, `relief.status.account_position`, as the portal shows it)."""

from __future__ import annotations

from fastapi import APIRouter

from sanbuting.customers import service as customers
from sanbuting.domain import local_date
from sanbuting.relief.status import BillLine, account_position
from sanbuting.web.api.common import SECURED, Now, errors
from sanbuting.web.api.schemas import BillOut, BillPage
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.types import AccountId, Page, PageSize

router = APIRouter(tags=["bills"], dependencies=SECURED)


@router.get(
    "/accounts/{account_id}/bills",
    response_model=BillPage,
    responses=errors(401, 404, 422),
    summary="An account's bills with their late fees",
)
def list_bills(
    account_id: AccountId,
    session: DB,
    customer: SignedInCustomer,
    now: Now,
    page: Page = 1,
    size: PageSize = 20,
) -> BillPage:
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    on = local_date(now)
    found = account_position(session=session, account=account, on=on, now=now)
    shown = found.bills[(page - 1) * size : page * size]
    return BillPage(
        items=[bill_out(b) for b in shown],
        page=page,
        size=size,
        total=len(found.bills),
        as_of=on,
    )


def bill_out(bill: BillLine) -> BillOut:
    return BillOut(
        bill_id=bill.bill_id,
        period=bill.period,
        issued_on=bill.issued_on,
        due_on=bill.due_on,
        amount_fen=bill.amount_fen,
        open_fen=bill.open_fen,
        fee_fen=bill.fee_fen,
        fee_due_fen=bill.fee_due_fen,
        due_fen=bill.due_fen,
        waived_fen=bill.waived_fen,
        fee_days=bill.fee_days,
        waived_days=bill.waived_days,
        finalized=bill.finalized,
        overdue=bill.overdue,
        explain_zh=list(bill.explain_zh),
        explain_en=list(bill.explain_en),
    )
