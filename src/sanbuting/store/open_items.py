"""Open books in the store (`ledger.open_items`): read, replaced and forgotten by account.

An open book is a cache of the replay from the origin and never the record: the rows are.
It is written by a payment (in the payment's transaction, under the account's row lock) and
forgotten when a row dated on or before it arrives by another door (an import), so that the
next payment derives the account again from its history and writes a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from sanbuting.engine.records import Bill as BillRecord
from sanbuting.ledger.open_items import OpenBook, OpenItem
from sanbuting.store.bulk import bulk_insert
from sanbuting.store.models import Bill, OpenBookRow, OpenItemRow

ITEMS = cast(Table, OpenItemRow.__table__)
BOOKS = cast(Table, OpenBookRow.__table__)
CHUNK = 1_000


def load(session: Session, account: int) -> tuple[OpenBook, dict[str, int]] | None:
    """The open book of the account with this store id, if it has one, with its bills' store
    ids by bill id."""
    head = session.execute(
        select(BOOKS.c.as_of, BOOKS.c.credit_fen, BOOKS.c.fingerprint).where(
            BOOKS.c.account == account
        )
    ).first()
    if head is None:
        return None
    rows = session.execute(
        select(
            Bill.id,
            Bill.bill_id,
            Bill.period,
            Bill.issued_on,
            Bill.due_on,
            Bill.amount_fen,
            OpenItemRow.principal_fen,
            OpenItemRow.accrued_units,
            OpenItemRow.waived_units,
            OpenItemRow.days,
            OpenItemRow.waived_days,
            OpenItemRow.charged_fen,
            OpenItemRow.fee_paid_fen,
        )
        .join(Bill, Bill.id == OpenItemRow.bill)
        .where(OpenItemRow.account == account)
    ).all()
    items = tuple(
        OpenItem(
            BillRecord(r[1], r[2], r[3], r[4], r[5]), r[6], r[7], r[8], r[9], r[10], r[11], r[12]
        )
        for r in sorted(rows, key=lambda r: r[1])
    )
    book = OpenBook(head.as_of, head.credit_fen, items, head.fingerprint)
    return book, {r[1]: r[0] for r in rows}


def save(session: Session, account: int, book: OpenBook, bills: dict[str, int]) -> None:
    """Replace the account's open book with `book` (`bills`: store ids by bill id)."""
    session.execute(delete(OpenItemRow).where(OpenItemRow.account == account))
    values = {"as_of": book.as_of, "credit_fen": book.credit, "fingerprint": book.fingerprint}
    moved = session.execute(update(BOOKS).where(BOOKS.c.account == account).values(**values))
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(BOOKS).values(account=account, **values))
    bulk_insert(
        session,
        ITEMS,
        (
            "account",
            "bill",
            "principal_fen",
            "accrued_units",
            "waived_units",
            "days",
            "waived_days",
            "charged_fen",
            "fee_paid_fen",
        ),
        (
            (
                account,
                bills[item.bill.bill_id],
                item.principal,
                item.accrued_units,
                item.waived_units,
                item.days,
                item.waived_days,
                item.charged,
                item.fee_paid,
            )
            for item in book.items
        ),
    )


def forget(session: Session, accounts: Iterable[tuple[int, date]]) -> None:
    """Forget the open books of these accounts (store id, the earliest day of a row that
    arrived) that stand at the end of that day or later."""
    if session.scalar(select(OpenBookRow.account).limit(1)) is None:
        return
    by_day: dict[date, list[int]] = {}
    for account, since in accounts:
        by_day.setdefault(since, []).append(account)
    for since, ids in sorted(by_day.items()):
        for offset in range(0, len(ids), CHUNK):
            stale = select(OpenBookRow.account).where(
                OpenBookRow.account.in_(ids[offset : offset + CHUNK]), OpenBookRow.as_of >= since
            )
            gone = list(session.scalars(stale))
            if gone:
                session.execute(delete(OpenItemRow).where(OpenItemRow.account.in_(gone)))
                session.execute(delete(OpenBookRow).where(OpenBookRow.account.in_(gone)))
