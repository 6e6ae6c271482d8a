"""The open-item way of posting on PostgreSQL, in three statements sent by the driver, for one
payment (`post`, from `post_payment`) or a batch of payments of distinct accounts at once
(`post_many`, from a bank file's batch): the same statements either way.

The domain work is the open-item way's (`payments.booking.from_open_book`: the days since the
account's open book walked without and with the payment; `ledger.difference`: what the
ledger lacks of them; `payments.model.result_of`: the result). Only the talking to the database
differs: instead of about seventeen statements a payment through the ORM, one after another
(`payments.lean_sql` has them):

1. **the lock** (`lock`): the accounts' rows `FOR UPDATE`, in store-id order, and their
   companies' `FOR SHARE` (so that no checkpoint is saved meanwhile);
2. **the reads** (`read`), pipelined with the lock in one round trip but with a snapshot of
   their own taken once the locks are held: whether each key was used, the newest checkpoint's
   day, each account's last standing state-changing order, its open book and items, its bills
   and payments after the book and the ledger's postings after it, each collection as arrays;
3. **the writes** (`write`), one statement for the batch: the payments by key (`ON CONFLICT DO
   NOTHING`), the postings and their lines, the watermarks, the open books, the dirty marks.
   Every write after the payments' is joined to the payment rows inserted, so an account whose
   key another account's payment took meanwhile gets nothing written; the ORM way then
   answers it (the first result, or a refusal).

A payment gets `None` (nothing written: the ORM way posts it) whenever the ORM way would not
take the open-item way (no open book, a prepaid account, a back-dated payment, later rows, a
fee of those days held from before), for an account number in several companies, a key used
before, and an account named twice in the batch. A payment that clears the arrears of an
account with a standing state-changing order, or one imported cut off, settles its orders
through `payments.orders.settle` after the writes. `tests/test_lean_payments.py` holds the two
ways equal posting by posting, one payment at a time and in batches.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from psycopg import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from sanbuting.domain import AccountState, as_utc, local_date
from sanbuting.engine.records import Payment as PaymentRecord
from sanbuting.engine.relief import relief_for
from sanbuting.ledger.difference import Head, Lines, current_postings, difference, posting_rows
from sanbuting.ledger.open_items import OpenBook
from sanbuting.payments import booking
from sanbuting.payments.lean_sql import (
    LOCK_MANY,
    LOCK_ONE,
    READ_MANY,
    READ_ONE,
    RESULT,
    WRITE_MANY,
    WRITE_ONE,
    send,
)
from sanbuting.payments.model import PaymentIn, PaymentResult, content_of, result_of
from sanbuting.payments.orders import CUT_OFF, settle
from sanbuting.policy import Policy
from sanbuting.rules import load_ruleset
from sanbuting.store.models import Account, Company, OpenBookRow
from sanbuting.store.open_items import books_of
from sanbuting.store.records import payment_record, record_of, records_after

__all__ = ["post", "post_many", "send", "usable"]


@dataclass(frozen=True, slots=True)
class Read:
    """What the reads found of one payment's account."""

    account: Account
    company: Company
    newest: date | None
    """The day of the company's newest checkpoint."""
    order: tuple[str, str] | None
    """The account's last standing state-changing order: its kind and status."""
    book: list[tuple[Any, ...]]
    """The open book's head (account, as_of, credit, fingerprint), if it has one."""
    items: list[tuple[Any, ...]]
    bills: list[tuple[Any, ...]]
    payments: list[tuple[Any, ...]]
    postings: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One payment walked from its account's open book, ready to write."""

    index: int
    payment: PaymentIn
    found: Read
    paid: PaymentRecord
    start: OpenBook
    prepared: booking.Prepared
    result: PaymentResult
    settles: bool


def _rows(arrays: Sequence[list[Any] | None], *first: Any) -> list[tuple[Any, ...]]:
    """Rows from one array per column (none for an empty collection), each led by `first`."""
    if arrays[0] is None:
        return []
    return [(*first, *row) for row in zip(*arrays, strict=True)]


def read(connection: Connection[Any], payments: Sequence[PaymentIn]) -> dict[int, Read]:
    """The reads (see the module docstring), by the payment's index in `payments`: none for a
    payment whose account number is not exactly one account, whose account another payment of
    `payments` names too, or whose key was used before (the ORM way answers those)."""
    if len(payments) == 1:
        one = payments[0]
        params: dict[str, Any] = {"account": one.account_id, "company": one.company, "key": one.key}
        statements = [(LOCK_ONE, params), (READ_ONE, params)]
    else:
        params = {
            "accounts": [p.account_id for p in payments],
            "companies": [p.company for p in payments],
            "keys": [p.key for p in payments],
        }
        statements = [(LOCK_MANY, params), (READ_MANY, params)]
    locked, found = send(connection, statements)
    matches = Counter(row[0] for row in locked)
    named = Counter(row[1] for row in locked)
    heads = {row[0]: row for row in locked if matches[row[0]] == 1 and named[row[1]] == 1}
    companies: dict[int, Company] = {}
    reads: dict[int, Read] = {}
    for got in found:
        row = heads.get(got[0])
        if row is None or got[3]:
            continue
        company = companies.setdefault(
            row[2], Company(id=row[2], code=row[13], ruleset=row[14], origin=row[15])
        )
        pk = row[1]
        reads[got[0] - 1] = Read(
            account=_account(row[1:13]),
            company=company,
            newest=got[2],
            order=None if got[4] is None else (got[4], got[5]),
            book=[] if got[6] is None else [(pk, got[6], got[7], got[8])],
            items=_rows(got[9:22]),
            bills=_rows(got[22:28], pk),
            payments=_rows(got[28:31], pk),
            postings=[(r[0], pk, *r[1:]) for r in _rows(got[31:39])],
        )
    return reads


def _account(row: Sequence[Any]) -> Account:
    return Account(
        id=row[0],
        company_id=row[1],
        account_id=row[2],
        utility=row[3],
        customer_class=row[4],
        region=row[5],
        billing_mode=row[6],
        tags=row[7],
        state=row[8],
        credit_limit_fen=row[9],
        opening_balance_fen=row[10],
        booked_through=row[11],
    )


def usable(session: Session) -> bool:
    """The driver's way runs on PostgreSQL through psycopg."""
    return session.get_bind().dialect.driver == "psycopg"


def post(
    *,
    session: Session,
    payment: PaymentIn,
    now: datetime,
    policies: Callable[[int], Sequence[Policy]],
) -> PaymentResult | None:
    """Post a checked `payment` the open-item way through the driver, with `policies(company
    id)` in force; None when the ORM way must (nothing written)."""
    return post_many(session=session, payments=[payment], now=now, policies=policies)[0]


def post_many(
    *,
    session: Session,
    payments: Sequence[PaymentIn],
    now: datetime,
    policies: Callable[[int], Sequence[Policy]],
) -> list[PaymentResult | None]:
    """Post checked `payments` (each key once in them) the open-item way through the driver,
    with `policies(company id)` in force: each one's result, or None where the ORM way must
    post it (nothing of that payment written)."""
    if not payments:
        return []
    if session.new or session.dirty or session.deleted:
        session.flush()
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, Connection)
    reads = read(connection, payments)
    plans = [
        plan
        for index, found in reads.items()
        if (plan := _plan(index, payments[index], found, policies)) is not None
    ]
    plans = _not_held(session, plans)
    results: list[PaymentResult | None] = [None] * len(payments)
    if not plans:
        return results
    statement = WRITE_ONE if len(plans) == 1 else WRITE_MANY
    written = {row[0] for row in send(connection, [(statement, _write(plans, now))])[0]}
    settled: list[PaymentResult] = []
    for plan in plans:
        if plan.found.account.id not in written:
            continue  # the key was taken meanwhile: nothing else was written
        _forget_cached(session, plan.found.account.id)
        result = plan.result
        if plan.settles and _settled(session, plan.found.account.id, plan.payment, now):
            result = replace(result, reconnect_queued=True)
            settled.append(result)
        results[plan.index] = result
    if settled:
        keys = {"keys": [r.key for r in settled], "results": [r.to_json() for r in settled]}
        send(connection, [(RESULT, keys)])
    return results


def _plan(
    index: int,
    payment: PaymentIn,
    found: Read,
    policies: Callable[[int], Sequence[Policy]],
) -> _Plan | None:
    """`payment` walked from its account's open book, or None when the ORM way must post it."""
    account, company = found.account, found.company
    if company.origin is None:
        return None
    ruleset = load_ruleset(company.ruleset)
    relief = relief_for(record_of(account), policies(company.id))
    fingerprint = booking.fingerprint_of(account, ruleset, relief)
    loaded = books_of(found.book, {account.id: found.items}).get(account.id)
    if fingerprint is None or loaded is None:
        return None
    start = loaded[0]
    later = records_after([(account, start.as_of)], found.bills, found.payments)
    paid = payment_record(payment.key, payment.paid_at, payment.amount_fen)
    prepared = booking.from_open_book(
        company=company,
        account=account,
        paid=paid,
        fingerprint=fingerprint,
        loaded=loaded,
        later=later[account.id],
        relief=relief,
        ruleset=ruleset,
    )
    if prepared is None or prepared.walked is None:
        return None
    walked = prepared.walked
    before, after = prepared.before, walked.arrears
    settles = before > 0 and after == 0
    settles = settles and (found.order is not None or AccountState(account.state) in CUT_OFF)
    result = result_of(
        payment, account.account_id, company.code, walked.entries, walked.order, before, after,
        queued=False,
    )  # fmt: skip
    return _Plan(index, payment, found, paid, start, prepared, result, settles)


def _not_held(session: Session, plans: list[_Plan]) -> list[_Plan]:
    """The plans but those whose account's ledger holds one of their entries from before
    (`booking.held_from_before`), one query a company."""
    by_company: dict[int, list[_Plan]] = defaultdict(list)
    for plan in plans:
        by_company[plan.found.company.id].append(plan)
    held: set[int] = set()
    for mine in by_company.values():
        wanted = [
            (plan.found.account.id, plan.prepared.walked.entries, plan.start.as_of)
            for plan in mine
            if plan.prepared.walked is not None
        ]
        held |= booking.held_from_before(session, mine[0].found.company, wanted)
    return [plan for plan in plans if plan.found.account.id not in held]


def _write(plans: Sequence[_Plan], now: datetime) -> dict[str, Any]:
    """`write`'s parameters for the plans."""
    heads: list[Head] = []
    legs: list[Lines] = []
    bills: dict[str, int] = {}
    kept: list[tuple[int, OpenBook]] = []
    for plan in plans:
        walked = plan.prepared.walked
        assert walked is not None
        pk = plan.found.account.id
        posted, versions = current_postings(plan.found.postings)
        new, undo = difference(walked.entries, posted.get(pk, {}), versions.get(pk, {}))
        mine = posting_rows([(pk, e) for e in new], [(pk, p) for p in undo])
        heads.extend(mine[0])
        legs.extend(mine[1])
        bills.update(plan.prepared.bills)
        if walked.kept is not plan.start:
            kept.append((pk, walked.kept))
    marked = [
        plan
        for plan in plans
        if plan.found.newest is not None and plan.paid.paid_on <= plan.found.newest
    ]
    payments: dict[str, list[Any]] = {
        "company_id": [plan.found.company.id for plan in plans],
        "key": [plan.payment.key for plan in plans],
        "content": [content_of(plan.payment) for plan in plans],
        "account": [plan.found.account.id for plan in plans],
        "paid_at": [as_utc(plan.payment.paid_at) for plan in plans],
        "amount": [plan.payment.amount_fen for plan in plans],
        "channel": [plan.payment.channel for plan in plans],
        "result": [plan.result.to_json() for plan in plans],
    }
    if len(plans) == 1:  # WRITE_ONE's scalars
        columns = {name: values[0] for name, values in payments.items()}
    else:  # WRITE_MANY's arrays
        columns = {f"{name}s": values for name, values in payments.items()}
    return {
        **columns,
        "now": as_utc(now),
        "marked": [plan.found.account.id for plan in marked],
        "marked_ids": [plan.found.account.account_id for plan in marked],
        **_postings(heads, legs, bills),
        **_books(kept, bills),
    }


def _postings(heads: list[Head], legs: list[Lines], bills: dict[str, int]) -> dict[str, Any]:
    """The postings' columns (`write`'s heads and lines)."""
    return {
        "head_accounts": [h[2] for h in heads],
        "head_keys": [h[0] for h in heads],
        "kinds": [h[1] for h in heads],
        "effective": [h[3] for h in heads],
        "reverses": [h[4] for h in heads],
        "line_accounts": [h[2] for h, leg in zip(heads, legs, strict=True) for _ in leg],
        "line_keys": [h[0] for h, leg in zip(heads, legs, strict=True) for _ in leg],
        "books": [book for leg in legs for book, _, _ in leg],
        "line_amounts": [amount for leg in legs for _, amount, _ in leg],
        "line_bills": [bills[bill] if bill else None for leg in legs for _, _, bill in leg],
    }


def _books(kept: list[tuple[int, OpenBook]], bills: dict[str, int]) -> dict[str, Any]:
    """The open books' columns (`write`'s books and items): each account's book `kept`, its
    bills by store id."""
    items = [(pk, item) for pk, book in kept for item in book.items]
    return {
        "book_accounts": [pk for pk, _ in kept],
        "as_ofs": [book.as_of for _, book in kept],
        "credits": [book.credit for _, book in kept],
        "fingerprints": [book.fingerprint for _, book in kept],
        "item_accounts": [pk for pk, _ in items],
        "item_bills": [bills[i.bill.bill_id] for _, i in items],
        "principal": [i.principal for _, i in items],
        "accrued": [i.accrued_units for _, i in items],
        "waived": [i.waived_units for _, i in items],
        "item_days": [i.days for _, i in items],
        "waived_days": [i.waived_days for _, i in items],
        "charged": [i.charged for _, i in items],
        "fee_paid": [i.fee_paid for _, i in items],
    }


def _forget_cached(session: Session, account: int) -> None:
    """Expire what the session may hold of the rows written behind its back."""
    for model in (Account, OpenBookRow):
        held = session.identity_map.get(identity_key(model, account))
        if held is not None:
            session.expire(held)


def _settled(session: Session, account: int, payment: PaymentIn, now: datetime) -> bool:
    """`payments.orders.settle` for a payment that cleared the arrears; True if it queued a
    reconnection."""
    row = session.get(Account, account, populate_existing=True)
    assert row is not None
    company = session.get(Company, row.company_id)
    assert company is not None
    day = local_date(payment.paid_at)
    return settle(session=session, company=company, account=row, day=day, now=now, key=payment.key)
