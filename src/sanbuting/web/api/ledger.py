"""GET /accounts/{account_id}/ledger: an account's ledger history, newest first — each posting
(a bill charged, a payment, a late fee, a waiver, a correction by reversal) with its lines."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import aliased

from sanbuting.customers import service as customers
from sanbuting.domain import read_utc
from sanbuting.store.models import Bill, LedgerLine, Posting
from sanbuting.web.api.common import SECURED, errors, paged
from sanbuting.web.api.schemas import LineOut, Paged, PostingOut
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.types import AccountId, Page, PageSize

router = APIRouter(tags=["ledger"], dependencies=SECURED)


@router.get(
    "/accounts/{account_id}/ledger",
    response_model=Paged[PostingOut],
    responses=errors(401, 404, 422),
    summary="An account's ledger postings with their lines",
)
def list_postings(
    account_id: AccountId,
    session: DB,
    customer: SignedInCustomer,
    page: Page = 1,
    size: PageSize = 20,
) -> Paged[PostingOut]:
    """Newest first (by the day a posting counts on, then by when it was written)."""
    account = customers.owned_account(session=session, customer=customer, account_id=account_id)
    reversed_posting = aliased(Posting)
    query = (
        select(Posting, reversed_posting.key)
        .outerjoin(reversed_posting, reversed_posting.id == Posting.reverses)
        .where(Posting.account == account.id)
        .order_by(Posting.effective_on.desc(), Posting.id.desc())
    )
    rows, total = paged(session, query, page, size)
    ids = [row[0].id for row in rows]
    lines: dict[int, list[LineOut]] = defaultdict(list)
    found = session.execute(
        select(LedgerLine.posting, LedgerLine.book, LedgerLine.amount_fen, Bill.bill_id)
        .outerjoin(Bill, Bill.id == LedgerLine.bill)
        .where(LedgerLine.posting.in_(ids))
        .order_by(LedgerLine.id)
    ).all()
    for posting, book, amount, bill_id in found:
        lines[posting].append(LineOut(book=book, amount_fen=amount, bill_id=bill_id))
    items = [
        PostingOut(
            key=posting.key,
            kind=posting.kind,
            effective_on=posting.effective_on,
            created_at=read_utc(posting.created_at),
            reverses=reverses,
            lines=lines[posting.id],
        )
        for posting, reverses in rows
    ]
    return Paged[PostingOut](items=items, page=page, size=size, total=total)
