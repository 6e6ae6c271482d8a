"""Booking accounts into the append-only ledger, and reading balances and arrears from it.

`book_accounts` derives each account's entries (`ledger.entries`) through a day and posts the
ones the ledger lacks. An entry already posted with other lines (a back-dated payment moved an
allocation, a policy changed a fee) is corrected the only way the ledger allows: a `reversal`
posting undoes it and the entry is posted again under a numbered key (`fee:B1#2`). Nothing is
updated or deleted except each account's `booked_through` watermark. Booking is idempotent; the
caller owns the transaction (and, to serialise with payments, holds the account's row lock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, case, func, select, text, true, update
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode, as_utc
from sanbuting.engine.records import Account as AccountRecord
from sanbuting.engine.relief import relief_for
from sanbuting.engine.simulate import accounts_from_frames
from sanbuting.fees.latefee import rates_for
from sanbuting.ledger.difference import (
    Posted,
    Versions,
    current_postings,
    difference,
    posting_rows,
)
from sanbuting.ledger.entries import Entry, account_entries
from sanbuting.ledger.open_items import OpenBook, keeper
from sanbuting.policy import Policy
from sanbuting.rules import load_ruleset
from sanbuting.store import open_items
from sanbuting.store.bulk import bulk_insert
from sanbuting.store.frames import load_frames
from sanbuting.store.models import Account, Bill, Company, LedgerLine, Posting
from sanbuting.store.plans import records_with_plans
from sanbuting.store.records import load_records

CHUNK = 2_000
FEW = 50
"""Up to this many accounts are read row by row (`store.records`), more as frames."""
POSTINGS = cast(Table, Posting.__table__)
LINES = cast(Table, LedgerLine.__table__)
ACCOUNTS = cast(Table, Account.__table__)


def book_accounts(
    *,
    session: Session,
    company: Company,
    accounts: Sequence[int],
    policies: Sequence[Policy],
    now: datetime,
    through: date | None = None,
    keep_books: bool = False,
) -> int:
    """Book `accounts` (store ids) of `company` through `through` (default: each account's
    last dated event, or its watermark if later); returns the postings added. `keep_books`:
    leave each postpaid account's open book at the day it is booked through (`book_records`)."""
    added = 0
    for offset in range(0, len(accounts), CHUNK):
        chunk = list(accounts[offset : offset + CHUNK])
        if len(chunk) <= FEW:
            records = load_records(session, chunk)
        else:
            records = accounts_from_frames(*load_frames(session, [company.id], chunk))
        ids = dict(
            session.execute(
                select(Account.account_id, Account.id).where(Account.id.in_(chunk))
            ).all()
        )
        booked = book_records(
            session=session,
            company=company,
            records={ids[record.account_id]: record for record in records},
            policies=policies,
            now=now,
            through=through,
            keep_books=keep_books,
        )
        added += booked.added
    return added


@dataclass(frozen=True, slots=True)
class Booked:
    """What `book_records` did: the postings it added and each account's entries (by store id)
    as the ledger now holds them."""

    added: int
    entries: dict[int, list[Entry]]


def book_records(
    *,
    session: Session,
    company: Company,
    records: dict[int, AccountRecord],
    policies: Sequence[Policy],
    now: datetime,
    through: date | None = None,
    keep_books: bool = False,
) -> Booked:
    """Book these accounts' records (by store id) as `book_accounts` does: post what the
    ledger lacks, reverse what changed, move each watermark; `keep_books`: replace each
    postpaid account's open book (`store.open_items`) with the one its replay leaves at the
    end of the day it is booked through, where its next payment starts."""
    assert company.origin is not None
    ruleset = load_ruleset(company.ruleset)
    chunk = list(records)
    watermarks = dict(
        session.execute(
            select(Account.id, Account.booked_through).where(Account.id.in_(chunk))
        ).all()
    )
    found = session.execute(select(Bill.bill_id, Bill.id).where(Bill.account.in_(chunk)))
    bills: dict[str, int] = dict(found.all())
    posted, versions = _posted(session, chunk)
    wanted: list[tuple[int, Entry]] = []
    reversing: list[tuple[int, Posted]] = []
    marks: dict[int, date] = {}
    derived: dict[int, list[Entry]] = {}
    kept: list[tuple[int, OpenBook]] = []
    for pk, record in records_with_plans(session, records, ruleset.account_relief).items():
        watermark = watermarks[pk]
        last = max(_last_event(record), watermark or company.origin, company.origin)
        day = max(through, last) if through is not None else last
        relief = relief_for(record, policies)
        books: list[OpenBook] = []
        keep = keeper(record, rates_for(ruleset, record.customer_class), relief, day, books)
        entries = account_entries(
            record, ruleset, relief, company.origin, day, at_end_of=keep if keep_books else None
        )
        kept.extend((pk, book) for book in books)
        derived[pk] = entries
        new, undo = difference(entries, posted.get(pk, {}), versions.get(pk, {}))
        wanted.extend((pk, e) for e in new)
        reversing.extend((pk, p) for p in undo)
        marks[pk] = day
    added = _post(session, company.id, wanted, reversing, bills, now)
    open_items.save_many(session, kept, bills)
    if marks:
        watermark_update = (
            update(ACCOUNTS)
            .where(ACCOUNTS.c.id == bindparam("pk"))
            .values(booked_through=bindparam("day"))
        )
        session.connection().execute(
            watermark_update, [{"pk": pk, "day": day} for pk, day in marks.items()]
        )
    return Booked(added, derived)


def arrears_of(lines: Iterable[tuple[str, date | None, int]], prepaid: bool, on: date) -> int:
    """`arrears` from an account's lines dated on or before `on`, each as (book, the due date
    of its bill or None, fen): the prepaid debt, or open principal of bills past due plus
    finalized fees."""
    if prepaid:
        return max(0, sum(amount for book, _, amount in lines if book == "credit"))
    return sum(
        amount
        for book, due, amount in lines
        if book == "fee" or (book == "principal" and due is not None and due < on)
    )


def book_days_after_many(
    *,
    session: Session,
    company: Company,
    booked: Sequence[tuple[int, list[Entry], date]],
    bills: dict[str, int],
    now: datetime,
) -> int:
    """Book accounts of `company` (each: its store id, its entries of the days after a day, that
    day) whose entries up to that day are booked and did not change: post what the ledger
    lacks of the days after, reverse what changed or is no longer derived; one read of their
    postings, one write. Returns the postings added."""
    afters = {account: after for account, _, after in booked}
    posted, versions = _posted(session, list(afters), after=afters)
    new: list[tuple[int, Entry]] = []
    undo: list[tuple[int, Posted]] = []
    for account, entries, _ in booked:
        added, gone = difference(entries, posted.get(account, {}), versions.get(account, {}))
        new += [(account, e) for e in added]
        undo += [(account, p) for p in gone]
    return _post(session, company.id, new, undo, bills, now)


def book_walks(
    *,
    session: Session,
    company: Company,
    walks: Sequence[tuple[int, list[Entry], date, date, OpenBook | None]],
    bills: dict[str, int],
    now: datetime,
) -> int:
    """Book accounts of `company` walked from their open books, each given as (store id, the
    entries of the days walked, the open book's day, the day now booked through, the open book
    to leave or None): post what the ledger lacks of those days (`book_days_after_many`), move
    the watermarks, replace the open books. Returns the postings added."""
    added = book_days_after_many(
        session=session,
        company=company,
        booked=[(account, entries, after) for account, entries, after, _, _ in walks],
        bills=bills,
        now=now,
    )
    session.connection().execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == bindparam("w_id"))
        .values(booked_through=bindparam("w_day")),
        [{"w_id": account, "w_day": day} for account, _, _, day, _ in walks],
    )
    kept = [(account, book) for account, _, _, _, book in walks if book is not None]
    open_items.save_many(session, kept, bills)
    return added


def entries_arrears(entries: Sequence[Entry], record: AccountRecord, on: date) -> int:
    """`arrears` computed from an account's entries instead of the ledger (equal once they
    are booked)."""
    due = {bill.bill_id: bill.due_on for bill in record.bills}
    lines = (
        (line.book, due.get(line.bill_id or ""), line.amount_fen)
        for entry in entries
        if entry.effective_on <= on
        for line in entry.lines
    )
    return arrears_of(lines, record.billing_mode is BillingMode.PREPAID, on)


def _last_event(record: AccountRecord) -> date:
    days = [b.issued_on for b in record.bills] + [p.paid_on for p in record.payments]
    days += [d for d, _ in record.usage]
    return max(days, default=date.min)


def _posted(
    session: Session, accounts: list[int], *, after: date | Mapping[int, date] | None = None
) -> tuple[dict[int, dict[str, Posted]], dict[int, Versions]]:
    """Each account's current postings by entry key (corrections replace, reversals drop), and
    the versions each key has used (a reversed entry that comes back takes the next one);
    with `after`, only the postings dated after that day (or after each account's own)."""
    each = after if isinstance(after, Mapping) else None
    since = min(each.values(), default=None) if each is not None else after
    rows = session.execute(
        select(
            Posting.id,
            Posting.account,
            Posting.key,
            Posting.kind,
            Posting.reverses,
            Posting.effective_on,
            LedgerLine.book,
            LedgerLine.amount_fen,
            Bill.bill_id,
        )
        .join(LedgerLine, LedgerLine.posting == Posting.id)
        .outerjoin(Bill, Bill.id == LedgerLine.bill)
        .where(
            Posting.account.in_(accounts),
            true() if since is None else Posting.effective_on > since,
        )
        .order_by(Posting.id)
    ).all()
    if each is not None:
        rows = [r for r in rows if r.effective_on > each[r.account]]
    return current_postings(rows)


def _post(
    session: Session,
    company_id: int,
    entries: list[tuple[int, Entry]],
    reversing: list[tuple[int, Posted]],
    bills: dict[str, int],
    now: datetime,
) -> int:
    """Insert the postings and their lines (reversals first)."""
    at = as_utc(now)
    heads, legs = posting_rows(entries, reversing)
    if not heads:
        return 0
    ids = _new_posting_ids(session, len(heads))
    bulk_insert(
        session,
        POSTINGS,
        ("id", "company_id", "key", "kind", "account", "effective_on", "reverses", "created_at"),
        (
            (pid, company_id, key, kind, account, day, reverses, at)
            for pid, (key, kind, account, day, reverses) in zip(ids, heads, strict=True)
        ),
    )
    bulk_insert(
        session,
        LINES,
        ("posting", "book", "amount_fen", "bill"),
        (
            (pid, book, amount, bills[bill] if bill else None)
            for pid, leg in zip(ids, legs, strict=True)
            for book, amount, bill in leg
        ),
    )
    return len(heads)


def _new_posting_ids(session: Session, count: int) -> list[int]:
    """Ids for `count` new postings, taken before inserting them so that their lines can be
    inserted in bulk too: from the id sequence on PostgreSQL; on SQLite after the largest id,
    which is safe because the transaction holds SQLite's single write lock."""
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence('postings', 'id')) "
            "FROM generate_series(1, :count)"
        )
        return sorted(int(i) for i in session.scalars(query, {"count": count}))
    last = session.scalar(select(func.coalesce(func.max(Posting.id), 0))) or 0
    return list(range(last + 1, last + 1 + count))


def balances(*, session: Session, account: int, on: date | None = None) -> dict[str, int]:
    """Each book's balance for one account (as of `on`, if given)."""
    query = (
        select(LedgerLine.book, func.sum(LedgerLine.amount_fen))
        .join(Posting, Posting.id == LedgerLine.posting)
        .where(Posting.account == account)
        .group_by(LedgerLine.book)
    )
    if on is not None:
        query = query.where(Posting.effective_on <= on)
    return {book: int(total) for book, total in session.execute(query) if total}


def arrears(*, session: Session, account: Account, on: date) -> int:
    """The contract's arrears at the end of day `on`, from the ledger: open principal of bills
    past their due date plus finalized unpaid fees (postpaid); max(0, -balance) (prepaid)."""
    if account.billing_mode == BillingMode.PREPAID.value:
        held = balances(session=session, account=account.id, on=on).get("credit", 0)
        return max(0, held)
    overdue = case(
        (LedgerLine.book == "fee", LedgerLine.amount_fen),
        ((LedgerLine.book == "principal") & (Bill.due_on < on), LedgerLine.amount_fen),
        else_=0,
    )
    total = session.scalar(
        select(func.coalesce(func.sum(overdue), 0))
        .select_from(LedgerLine)
        .join(Posting, Posting.id == LedgerLine.posting)
        .outerjoin(Bill, Bill.id == LedgerLine.bill)
        .where(Posting.account == account.id, Posting.effective_on <= on)
    )
    return int(total or 0)


def rebook_company(
    *, session: Session, company: Company, policies: Sequence[Policy], now: datetime
) -> int:
    """Book every account of `company` again with `policies` (a new policy set may waive fees
    or keep a prepaid meter on): what changed is corrected by reversal, and each postpaid
    account's open book is replaced by one made under the new waivers. Returns the postings
    added."""
    if company.origin is None:
        return 0
    ids = session.scalars(select(Account.id).where(Account.company_id == company.id)).all()
    return book_accounts(
        session=session,
        company=company,
        accounts=ids,
        policies=policies,
        now=now,
        keep_books=True,
    )
