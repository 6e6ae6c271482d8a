"""Open books in the store (`ledger.open_items`): read, replaced and forgotten by account.

An open book is a cache of the replay from the origin and never the record: the rows are.
It is written wherever the ledger replays an account: by an import's booking and a policy
activation's rebooking (at the day each account is booked through), and by a payment (in the
payment's transaction, under the account's row lock, at the day before the payment's). It is
forgotten when a row dated on or before it arrives by another door (an import), so that the
next payment derives the account again from its history and writes a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, select
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
    return load_many(session, [account]).get(account)


def load_many(
    session: Session, accounts: Sequence[int]
) -> dict[int, tuple[OpenBook, dict[str, int]]]:
    """`load` for many accounts: those that have an open book."""
    heads = {
        row.account: row
        for chunk in _chunks(accounts)
        for row in session.execute(
            select(BOOKS.c.account, BOOKS.c.as_of, BOOKS.c.credit_fen, BOOKS.c.fingerprint).where(
                BOOKS.c.account.in_(chunk)
            )
        )
    }
    found: dict[int, list[Any]] = {account: [] for account in heads}
    for chunk in _chunks(list(heads)):
        for r in session.execute(
            select(
                OpenItemRow.account,
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
            .where(OpenItemRow.account.in_(chunk))
        ):
            found[r[0]].append(r[1:])
    return books_of(heads.values(), found)


def books_of(
    heads: Iterable[Sequence[Any]], items: Mapping[int, Sequence[Sequence[Any]]]
) -> dict[int, tuple[OpenBook, dict[str, int]]]:
    """Open books from their rows: `heads` (account, as_of, credit, fingerprint) and each
    account's `items` (bill store id, bill id, period, issued, due, amount, principal, accrued
    units, waived units, days, waived days, charged, fee paid)."""
    books: dict[int, tuple[OpenBook, dict[str, int]]] = {}
    for head in heads:
        account = head[0]
        rows = sorted(items.get(account, ()), key=lambda r: r[1])
        opened = tuple(
            OpenItem(BillRecord(*r[1:6]), r[6], r[7], r[8], r[9], r[10], r[11], r[12]) for r in rows
        )
        book = OpenBook(head[1], head[2], opened, head[3])
        books[account] = book, {r[1]: r[0] for r in rows}
    return books


def save(session: Session, account: int, book: OpenBook, bills: dict[str, int]) -> None:
    """Replace the account's open book with `book` (`bills`: store ids by bill id)."""
    save_many(session, [(account, book)], bills)


def save_many(
    session: Session, books: Sequence[tuple[int, OpenBook]], bills: dict[str, int]
) -> None:
    """Replace the open books of these accounts (`bills`: store ids of their bills by bill id,
    bill ids being unique in a company)."""
    accounts = [account for account, _ in books]
    for chunk in _chunks(accounts):
        session.execute(delete(OpenItemRow).where(OpenItemRow.account.in_(chunk)))
        session.execute(delete(BOOKS).where(BOOKS.c.account.in_(chunk)))
    bulk_insert(
        session,
        BOOKS,
        ("account", "as_of", "credit_fen", "fingerprint"),
        ((account, book.as_of, book.credit, book.fingerprint) for account, book in books),
    )
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
            for account, book in books
            for item in book.items
        ),
    )


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for offset in range(0, len(ids), CHUNK):
        yield ids[offset : offset + CHUNK]


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
