"""Open books brought forward after the daily run, so that a payment walks at most about a
quarter of days, whatever the account's history and however long since it last paid.

A postpaid account's open book (`ledger.open_items`) is left where its last payment, its
import or a policy activation booked it. An account that does not pay keeps an old one, and its
next payment walks every day since. After a company's days are recorded, the accounts whose open
book is more than `HORIZON` days older than the last recorded day are brought forward to `LAG`
days before it (a bank's file of those days, arriving late, still starts from the book): the
days since the book are walked as a payment walks them (`ledger.open_items.forward`), their
entries booked (`ledger.service.book_days_after_many`: what the ledger lacks is posted, nothing
changes that a payment would not change), the watermark moved and the book replaced. An account
the book cannot vouch for (made under other rates or waivers, or a fee the ledger holds from
before it) is booked from its history instead, as its next payment would be. What the ledger
holds afterwards is what a payment's booking would hold (`tests/test_books_forward.py`).

At most one account in `SHARE` is brought forward a run (the oldest books first), so that a
whole company's books, all made by one import, are spread over the nights of a quarter, and a
night brings forward about one account in 90 (a walk of a quarter's days costs a payment about
0.2 ms, of eleven months 0.7 ms: `benchmarks/forward_bench.py`). Accounts with
no open book (imported with `--no-book`) are not chosen: they are left to their next payment
(one whose book an import forgets between the choice and its turn is booked from its history).
Each chunk is a transaction of its own holding its accounts' rows, locked in store-id order as
payments lock them.

An import books the postpaid accounts it gave new rows the same way (`book_from_open_books`,
through each account's last row), so that a month's bills cost the month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode
from sanbuting.engine.records import Account as AccountRecord
from sanbuting.engine.relief import relief_for
from sanbuting.fees.latefee import rates_for
from sanbuting.ledger.entries import Entry
from sanbuting.ledger.open_items import OpenBook, forward
from sanbuting.ledger.service import book_accounts, book_walks
from sanbuting.payments.booking import fingerprint_of, held_from_before
from sanbuting.rules import load_ruleset
from sanbuting.store import open_items
from sanbuting.store.database import sessions
from sanbuting.store.models import Account, Company, OpenBookRow
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.records import record_of, rows_after_many

HORIZON = 92
"""Days: an open book older than this (before the last recorded day) is brought forward."""
LAG = 3
"""Days: books are brought to this many days before the last recorded day."""
SHARE = 84
"""At most one account in this many is brought forward a run (at least `FLOOR`)."""
FLOOR = 500
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What `bring_forward` did for one company: the accounts whose books it brought to
    `through` (or later: to the day their ledger was already booked through), and the postings
    it added."""

    company: str
    through: date
    accounts: int
    postings: int


def bring_forward(
    *,
    engine: Engine,
    company: Company,
    last: date,
    now: Callable[[], datetime],
    on_chunk: Callable[[int, int], None] | None = None,
    horizon: int = HORIZON,
    lag: int = LAG,
) -> Forwarded:
    """Bring forward the open books of `company` that are older than `horizon` days after its
    day `last` was recorded, to `lag` days before it (see the module docstring); `on_chunk`
    hears the accounts done so far and in all after each chunk."""
    assert company.origin is not None
    through = last - timedelta(days=lag)
    if through <= company.origin:
        return Forwarded(company.code, through, 0, 0)
    with sessions(engine).begin() as session:
        ids = stale_accounts(session, company.id, last - timedelta(days=horizon))
    accounts = postings = 0
    if on_chunk is not None:
        on_chunk(0, len(ids))
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        with sessions(engine).begin() as session:
            moved, added = book_from_open_books(session, company, chunk, through, now())
        accounts += moved
        postings += added
        if on_chunk is not None:
            on_chunk(offset + len(chunk), len(ids))
    return Forwarded(company.code, through, accounts, postings)


def stale_accounts(session: Session, company_id: int, before: date) -> list[int]:
    """The postpaid accounts of the company whose open book stands before `before`, oldest
    book first, at most one in `SHARE` (at least `FLOOR`); in store-id order."""
    postpaid = session.scalar(
        select(func.count())
        .select_from(Account)
        .where(
            Account.company_id == company_id,
            Account.billing_mode == BillingMode.POSTPAID.value,
        )
    )
    budget = max(FLOOR, -(-int(postpaid or 0) // SHARE))
    found = session.scalars(
        select(Account.id)
        .join(OpenBookRow, OpenBookRow.account == Account.id)
        .where(
            Account.company_id == company_id,
            Account.billing_mode == BillingMode.POSTPAID.value,
            OpenBookRow.as_of < before,
        )
        .order_by(OpenBookRow.as_of, Account.id)
        .limit(budget)
    ).all()
    return sorted(found)


@dataclass(frozen=True, slots=True)
class _Walked:
    account: Account
    start: OpenBook
    entries: list[Entry]
    kept: OpenBook
    bills: dict[str, int]


def book_from_open_books(
    session: Session, company: Company, ids: list[int], through: date | None, now: datetime
) -> tuple[int, int]:
    """Book these postpaid accounts of `company` (store ids) from their open books, in the
    caller's transaction, holding their rows: each through `through`, or when None through its
    last row after the book, or through its watermark if later; the book left at that day. An
    account with no open book, or one that cannot vouch for it, is booked from its history
    (`ledger.service.book_accounts`, through `through` or its last row). Returns (accounts
    booked, postings added)."""
    assert company.origin is not None
    locked = session.scalars(
        select(Account)
        .where(Account.id.in_(ids), Account.company_id == company.id)
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    policies = policies_for(session=session, company_id=company.id)
    ruleset = load_ruleset(company.ruleset)
    books = open_items.load_many(session, [account.id for account in locked])
    usable = []
    from_history: list[int] = []
    for account in locked:
        loaded = books.get(account.id)
        relief = relief_for(record_of(account), policies)
        if (
            loaded is None
            or fingerprint_of(account, ruleset, relief) != loaded[0].fingerprint
            or loaded[0].as_of < company.origin
        ):
            from_history.append(account.id)
            continue
        usable.append((account, loaded, relief))
    later = rows_after_many(session, [(account, loaded[0].as_of) for account, loaded, _ in usable])
    walked: list[_Walked] = []
    for account, (start, bills), relief in usable:
        rows, later_bills = later[account.id]
        to = max(_target(through, start, rows), account.booked_through or start.as_of)
        if start.as_of >= to:  # nothing after the book to walk
            continue
        rates = rates_for(ruleset, rows.customer_class)
        entries, kept = forward(start, rows, rates, relief, company.origin, to)
        walked.append(_Walked(account, start, entries, kept, {**bills, **later_bills}))
    held = held_from_before(
        session, company, [(w.account.id, w.entries, w.start.as_of) for w in walked]
    )
    from_history += [w.account.id for w in walked if w.account.id in held]
    walked = [w for w in walked if w.account.id not in held]
    added = _book_walked(session, company, walked, now)
    if from_history:
        added += book_accounts(
            session=session,
            company=company,
            accounts=sorted(from_history),
            policies=policies,
            now=now,
            through=through,
            keep_books=True,
        )
    return len(walked) + len(from_history), added


def _target(through: date | None, start: OpenBook, rows: AccountRecord) -> date:
    """The day to book through: `through`, or the last row after the book (its day when
    there is none)."""
    if through is not None:
        return through
    days = [b.issued_on for b in rows.bills] + [p.paid_on for p in rows.payments]
    return max(days, default=start.as_of)


def _book_walked(session: Session, company: Company, walked: list[_Walked], now: datetime) -> int:
    """Post the walked days' entries, move the watermarks, replace the open books."""
    if not walked:
        return 0
    bills: dict[str, int] = {}
    for w in walked:
        bills.update(w.bills)
    return book_walks(
        session=session,
        company=company,
        walks=[(w.account.id, w.entries, w.start.as_of, w.kept.as_of, w.kept) for w in walked],
        bills=bills,
        now=now,
    )
