"""How a payment is booked: from the account's open items when it has a good open book
(`ledger.open_items`), else from its history; the same entries and arrears either way.

`prepare` reads (nothing is written): the arrears on the payment's day without it, and what
booking it will take. `book` runs after the payment's row is stored, in the same transaction
and under the account's row lock: it posts what the ledger lacks, reverses what changed, moves
the account's watermark and leaves the account's open book at the end of the day before the
payment's, where the next payment starts (when that day is before the books begin, it
forgets an open book the payment made wrong: one standing at the end of its day or later).

The open-item path walks only the days since the open book, over the rows dated after it; it
gives way to the history when it cannot be sure to agree with it: no open book or one made
under other rates or waivers, a payment dated on or before the open book (back-dated), rows or
bookings dated after the payment's day, or an entry of those days that the ledger already holds
from before them (a fee finalized, reversed and finalized again).

A prepaid account's top-up (its meter's days are the engine's, so it has no open book) is
booked alone when its ledger is booked through a day on or before the payment's and nothing of
the account is dated after that day: then the top-up's own entry is all the history would add
(the days before it cannot change and no usage on or after it is known yet). Otherwise it
replays the history.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode, CustomerClass
from sanbuting.engine.billbook import BillBook
from sanbuting.engine.holds import Hold
from sanbuting.engine.records import Account as AccountRecord
from sanbuting.engine.records import Payment as PaymentRecord
from sanbuting.engine.relief import AccountRelief, relief_for
from sanbuting.fees.latefee import rates_for
from sanbuting.ledger.entries import Entry, account_entries, top_up
from sanbuting.ledger.open_items import (
    ONE_DAY,
    OpenBook,
    Walked,
    book_fingerprint,
    open_book_of,
    walk,
)
from sanbuting.ledger.service import (
    balances,
    book_records,
    book_walks,
    entries_arrears,
)
from sanbuting.payments.model import Order
from sanbuting.policy import Policy
from sanbuting.rules.schema import Ruleset
from sanbuting.store import open_items
from sanbuting.store.models import Account, Bill, Company, Posting
from sanbuting.store.plans import plans_of, with_plans
from sanbuting.store.records import has_rows_after, load_records, record_of, rows_after


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
    plans = plans_of(session, [account.id]).get(account.id, [])
    if plans:
        return _with_plans(session, company, account, plans, day, ruleset, policies)
    relief = relief_for(record_of(account), policies)
    fingerprint = fingerprint_of(account, ruleset, relief)
    if fingerprint is not None:
        found = _open_items_way(session, company, account, paid, fingerprint, relief, ruleset)
        if found is not None:
            return found
    elif (top_up_found := _top_up_way(session, company, account, paid)) is not None:
        return top_up_found
    record = load_records(session, [account.id])[0]
    kept: list[OpenBook] = []
    origin = company.origin

    def keep(at: date, book: BillBook) -> None:
        if at == day - ONE_DAY and fingerprint is not None and at >= origin:
            kept.append(open_book_of(book, at, fingerprint))

    so_far = account_entries(record, ruleset, relief, company.origin, day, at_end_of=keep)
    before = entries_arrears(so_far, record, day)
    return Prepared(before, None, None, {}, record, kept[0] if kept else None)


def _with_plans(
    session: Session,
    company: Company,
    account: Account,
    plans: list[Hold],
    day: date,
    ruleset: Ruleset,
    policies: list[Policy],
) -> Prepared:
    """The history's way for an account with an instalment plan (`store.plans`): whether the
    plan is kept on `day` may depend on the payment, so no open book is walked or left."""
    assert company.origin is not None
    record = load_records(session, [account.id])[0]
    relief = relief_for(with_plans(record, plans, ruleset.account_relief), policies)
    so_far = account_entries(record, ruleset, relief, company.origin, day)
    return Prepared(entries_arrears(so_far, record, day), None, None, {}, record, None)


def fingerprint_of(account: Account, ruleset: Ruleset, relief: AccountRelief) -> str | None:
    """The fingerprint an open book of this account must carry to be used (None: a prepaid
    account has none); `relief`: the account's (`relief_for`)."""
    if account.billing_mode != BillingMode.POSTPAID.value:
        return None
    rates = rates_for(ruleset, CustomerClass(account.customer_class))
    return book_fingerprint(rates, relief)


def _open_items_way(
    session: Session,
    company: Company,
    account: Account,
    paid: PaymentRecord,
    fingerprint: str,
    relief: AccountRelief,
    ruleset: Ruleset,
) -> Prepared | None:
    if account.booked_through is not None and account.booked_through > paid.paid_on:
        return None
    loaded = open_items.load(session, account.id)
    if loaded is None:
        return None
    later = rows_after(session, account, loaded[0].as_of)
    prepared = from_open_book(
        company=company,
        account=account,
        paid=paid,
        fingerprint=fingerprint,
        loaded=loaded,
        later=later,
        relief=relief,
        ruleset=ruleset,
    )
    if prepared is None or prepared.walked is None:
        return None
    wanted = [(account.id, prepared.walked.entries, loaded[0].as_of)]
    if held_from_before(session, company, wanted):
        return None
    return prepared


def _top_up_way(
    session: Session, company: Company, account: Account, paid: PaymentRecord
) -> Prepared | None:
    """A prepaid account's top-up dated on or after the day its ledger is booked through,
    when nothing of the account is dated after that day nor on the payment's own (its usage
    that day comes after its top-ups): the days before the payment's are booked and cannot
    change, and no usage on or after it is known, so the only entry it adds is its own
    (`ledger.entries.top_up`); the arrears are the credit book's balance before and after it.
    None (the history's way) otherwise."""
    assert company.origin is not None
    watermark = account.booked_through
    if (
        account.billing_mode != BillingMode.PREPAID.value
        or watermark is None
        or not company.origin <= watermark <= paid.paid_on
        or has_rows_after(session, account.id, min(watermark, paid.paid_on - ONE_DAY))
    ):
        return None
    entry = top_up(paid, paid.paid_on)
    assert entry is not None  # a payment is above 0
    held = balances(session=session, account=account.id).get("credit", 0)
    start = OpenBook(watermark, 0, (), "")
    walked = Walked([entry], max(0, held - paid.amount_fen), start, {})
    return Prepared(max(0, held), walked, start, {}, None, None)


def from_open_book(
    *,
    company: Company,
    account: Account,
    paid: PaymentRecord,
    fingerprint: str,
    loaded: tuple[OpenBook, dict[str, int]],
    later: tuple[AccountRecord, dict[str, int]],
    relief: AccountRelief,
    ruleset: Ruleset,
) -> Prepared | None:
    """The open-item way from the account's open book (`loaded`) and its rows after it
    (`later`), with the account's `relief`, or None when it cannot be sure (see the module
    docstring); the caller still checks `held_from_before`."""
    assert company.origin is not None
    day = paid.paid_on
    if account.booked_through is not None and account.booked_through > day:
        return None
    start, bills = loaded
    if start.fingerprint != fingerprint or not company.origin <= start.as_of < day:
        return None
    rows, later_bills = later
    if any(b.issued_on > day for b in rows.bills) or any(p.paid_on > day for p in rows.payments):
        return None
    rates = rates_for(ruleset, rows.customer_class)
    before = walk(start, rows, rates, relief, company.origin, day).arrears
    with_payment = replace(
        rows, payments=tuple(sorted((*rows.payments, paid), key=lambda p: p.sequence))
    )
    walked = walk(start, with_payment, rates, relief, company.origin, day)
    return Prepared(before, walked, start, {**bills, **later_bills}, None, walked.kept)


def held_from_before(
    session: Session, company: Company, wanted: list[tuple[int, list[Entry], date]]
) -> set[int]:
    """The accounts (of `wanted`: store id, walked entries, the open book's day) whose ledger
    holds one of their entries' keys (or its reversal) dated on or before that day: then only
    the history knows its versions. Only a late fee or a waiver of a bill issued before can be
    (finalized, reversed by a back-dated payment, finalized again); every other entry of these
    days is dated by a row after the open book."""
    keys: dict[int, set[str]] = {}
    for account, entries, _ in wanted:
        mine = [e.key for e in entries if e.kind in ("late_fee", "waiver")]
        if mine:
            keys[account] = {*mine, *(f"reversal:{key}" for key in mine)}
    if not keys:
        return set()
    afters = {account: after for account, _, after in wanted if account in keys}
    rows = session.execute(
        select(Posting.account, Posting.key, Posting.effective_on).where(
            Posting.company_id == company.id,
            Posting.key.in_(sorted(set().union(*keys.values()))),
            Posting.account.in_(sorted(keys)),
            Posting.effective_on <= max(afters.values()),
        )
    ).all()
    return {
        r.account for r in rows if r.key in keys[r.account] and r.effective_on <= afters[r.account]
    }


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
    if prepared.walked is not None:
        book_open_items(
            session=session, company=company, booked=[(account, prepared, day)], now=now
        )
        return Booked(prepared.walked.entries, prepared.walked.arrears, prepared.walked.order)
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
    else:  # an open book standing at the end of the payment's day or later no longer holds
        open_items.forget(session, [(account.id, day)])
    return Booked(entries, after, order)


def book_open_items(
    *,
    session: Session,
    company: Company,
    booked: list[tuple[Account, Prepared, date]],
    now: datetime,
) -> None:
    """`book` the open-item way (each `Prepared` walked from its open book) for accounts of
    `company`, each with its payment's day, set-based: one read of their postings, one write of
    the new ones, of their watermarks and of their open books."""
    bills: dict[str, int] = {}
    for _, prepared, _ in booked:
        bills.update(prepared.bills)
    book_walks(
        session=session,
        company=company,
        walks=[
            (account.id, prepared.walked.entries, prepared.start.as_of, day, prepared.kept)
            for account, prepared, day in booked
            if prepared.walked is not None and prepared.start is not None
        ],
        bills=bills,
        now=now,
    )


def _keep(session: Session, account: Account, kept: OpenBook | None, bills: dict[str, int]) -> None:
    if kept is not None:
        open_items.save(session, account.id, kept, bills)
