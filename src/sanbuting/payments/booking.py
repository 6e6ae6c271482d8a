"""How a payment is booked: from the account's open items when it has a good open book
(`ledger.open_items`), else from its history; the same entries and arrears either way.

`prepare` reads (nothing is written): the arrears on the payment's day without it, and what
booking it will take. `book` runs after the payment's row is stored, in the same transaction
and under the account's row lock: it posts what the ledger lacks, reverses what changed, moves
the account's watermark and leaves the account's open book at the end of the day before the
payment's, where the next payment starts.

The open-item path walks only the days since the open book, over the rows dated after it; it
gives way to the history when it cannot be sure to agree with it: a prepaid account (its
meter's days are the engine's), no open book or one made under other rates or waivers, a
payment dated on or before the open book (back-dated), rows or bookings dated after the
payment's day, or an entry of those days that the ledger already holds from before them (a
fee finalized, reversed and finalized again).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode, CustomerClass
from sanbuting.engine.billbook import BillBook
from sanbuting.engine.records import Account as AccountRecord
from sanbuting.engine.records import Payment as PaymentRecord
from sanbuting.engine.relief import relief_for
from sanbuting.fees.latefee import rates_for
from sanbuting.ledger.entries import Entry, account_entries
from sanbuting.ledger.open_items import (
    ONE_DAY,
    OpenBook,
    Walked,
    book_fingerprint,
    open_book_of,
    walk,
)
from sanbuting.ledger.service import ACCOUNTS, book_days_after, book_records, entries_arrears
from sanbuting.policy import Policy
from sanbuting.rules.schema import Ruleset
from sanbuting.store import open_items
from sanbuting.store.models import Account, Bill, Company, Posting
from sanbuting.store.records import load_records, record_of, rows_after

Order = dict[str, tuple[date, date, str]]


@dataclass(frozen=True)
class Prepared:
    """What `prepare` found: the arrears before, and one of the two ways to book."""

    before: int
    walked: Walked | None
    """The open-item way: the days since the open book walked with the payment."""
    start: OpenBook | None
    bills: dict[str, int]
    """The store ids of the bills the walk touched."""
    record: AccountRecord | None
    """The history's way: the account's record without the payment."""
    kept: OpenBook | None
    """The book at the end of the day before the payment's, to leave as the open book."""


@dataclass(frozen=True)
class Booked:
    entries: list[Entry]
    after: int
    order: Order


def prepare(
    *,
    session: Session,
    company: Company,
    account: Account,
    paid: PaymentRecord,
    ruleset: Ruleset,
    policies: list[Policy],
) -> Prepared:
    """Read what booking `paid` takes (see the module docstring)."""
    assert company.origin is not None
    day = paid.paid_on
    facts = record_of(account)
    relief = relief_for(facts, policies)
    fingerprint = None
    if account.billing_mode == BillingMode.POSTPAID.value:
        rates = rates_for(ruleset, CustomerClass(account.customer_class))
        fingerprint = book_fingerprint(rates, relief)
        found = _open_items_way(session, company, account, paid, fingerprint, policies, ruleset)
        if found is not None:
            return found
    record = load_records(session, [account.id])[0]
    kept: list[OpenBook] = []
    origin = company.origin

    def keep(at: date, book: BillBook) -> None:
        if at == day - ONE_DAY and fingerprint is not None and at >= origin:
            kept.append(open_book_of(book, at, fingerprint))

    so_far = account_entries(record, ruleset, relief, company.origin, day, at_end_of=keep)
    before = entries_arrears(so_far, record, day)
    return Prepared(before, None, None, {}, record, kept[0] if kept else None)


def _open_items_way(
    session: Session,
    company: Company,
    account: Account,
    paid: PaymentRecord,
    fingerprint: str,
    policies: list[Policy],
    ruleset: Ruleset,
) -> Prepared | None:
    assert company.origin is not None
    day = paid.paid_on
    if account.booked_through is not None and account.booked_through > day:
        return None
    loaded = open_items.load(session, account.id)
    if loaded is None:
        return None
    start, bills = loaded
    if start.fingerprint != fingerprint or not company.origin <= start.as_of < day:
        return None
    later, later_bills = rows_after(session, account, start.as_of)
    if any(b.issued_on > day for b in later.bills) or any(p.paid_on > day for p in later.payments):
        return None
    rates = rates_for(ruleset, later.customer_class)
    relief = relief_for(later, policies)
    before = walk(start, later, rates, relief, company.origin, day).arrears
    with_payment = replace(
        later, payments=tuple(sorted((*later.payments, paid), key=lambda p: p.sequence))
    )
    walked = walk(start, with_payment, rates, relief, company.origin, day)
    if _held_from_before(session, company, account, walked.entries, start.as_of):
        return None
    return Prepared(before, walked, start, {**bills, **later_bills}, None, walked.kept)


def _held_from_before(
    session: Session, company: Company, account: Account, entries: list[Entry], after: date
) -> bool:
    """Whether the ledger holds one of these entries' keys (or its reversal) dated on or
    before `after`: then only the history knows its versions. Only a late fee or a waiver of
    a bill issued before can be (finalized, reversed by a back-dated payment, finalized
    again); every other entry of these days is dated by a row after `after`."""
    keys = [e.key for e in entries if e.kind in ("late_fee", "waiver")]
    if not keys:
        return False
    keys += [f"reversal:{key}" for key in keys]
    held = session.scalar(
        select(Posting.id)
        .where(
            Posting.company_id == company.id,
            Posting.key.in_(keys),
            Posting.account == account.id,
            Posting.effective_on <= after,
        )
        .limit(1)
    )
    return held is not None


def book(
    *,
    session: Session,
    company: Company,
    account: Account,
    prepared: Prepared,
    paid: PaymentRecord,
    policies: list[Policy],
    now: datetime,
) -> Booked:
    """Book the account with `paid` stored (see the module docstring)."""
    day = paid.paid_on
    if prepared.walked is not None and prepared.start is not None:
        walked = prepared.walked
        book_days_after(
            session=session,
            company=company,
            account=account.id,
            entries=walked.entries,
            after=prepared.start.as_of,
            bills=prepared.bills,
            now=now,
        )
        session.connection().execute(
            update(ACCOUNTS).where(ACCOUNTS.c.id == account.id).values(booked_through=day)
        )
        _keep(session, account, prepared.kept, prepared.bills)
        return Booked(walked.entries, walked.arrears, walked.order)
    assert prepared.record is not None
    record = prepared.record
    with_payment = replace(
        record, payments=tuple(sorted((*record.payments, paid), key=lambda p: p.sequence))
    )
    booked = book_records(
        session=session,
        company=company,
        records={account.id: with_payment},
        policies=policies,
        now=now,
        through=day,
    )
    entries = booked.entries[account.id]
    after = entries_arrears(entries, with_payment, day)
    order = {bill.bill_id: bill.order for bill in with_payment.bills}
    if prepared.kept is not None:
        ids = dict(
            session.execute(
                select(Bill.bill_id, Bill.id).where(
                    Bill.account == account.id,
                    Bill.bill_id.in_([item.bill.bill_id for item in prepared.kept.items]),
                )
            ).all()
        )
        _keep(session, account, prepared.kept, ids)
    return Booked(entries, after, order)


def _keep(session: Session, account: Account, kept: OpenBook | None, bills: dict[str, int]) -> None:
    if kept is not None:
        open_items.save(session, account.id, kept, bills)
