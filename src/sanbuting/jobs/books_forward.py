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
no open book (imported with `--no-book`, or forgotten by an import since) are left to their
next payment. Each chunk is a transaction of its own holding its accounts' rows, locked in
store-id order as payments lock them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode
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
    on_chunk: Callable[[int], None] | None = None,
    horizon: int = HORIZON,
    lag: int = LAG,
) -> Forwarded:
    """Bring forward the open books of `company` that are older than `horizon` days after its
    day `last` was recorded, to `lag` days before it (see the module docstring)."""
    assert company.origin is not None
    through = last - timedelta(days=lag)
    if through <= company.origin:
        return Forwarded(company.code, through, 0, 0)
    with sessions(engine).begin() as session:
        ids = stale_accounts(session, company.id, last - timedelta(days=horizon))
    accounts = postings = 0
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        with sessions(engine).begin() as session:
            moved, added = _forward_chunk(session, company, chunk, through, now())
        accounts += moved
        postings += added
        if on_chunk is not None:
            on_chunk(len(chunk))
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


def _forward_chunk(
    session: Session, company: Company, ids: list[int], through: date, now: datetime
) -> tuple[int, int]:
    """Bring these accounts' books forward in one transaction: (accounts, postings added)."""
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
    todo = []
    from_history: list[int] = []
    for account in locked:
        loaded = books.get(account.id)
        if loaded is None:  # forgotten meanwhile: left to the next payment
            continue
        start = loaded[0]
        to = max(through, account.booked_through or through)
        if start.as_of >= to:  # brought forward meanwhile
            continue
        relief = relief_for(record_of(account), policies)
        if fingerprint_of(account, ruleset, relief) != start.fingerprint or (
            start.as_of < company.origin
        ):
            from_history.append(account.id)
            continue
        todo.append((account, loaded, to, relief))
    later = rows_after_many(session, [(account, loaded[0].as_of) for account, loaded, _, _ in todo])
    walked: list[_Walked] = []
    for account, (start, bills), to, relief in todo:
        rows, later_bills = later[account.id]
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
