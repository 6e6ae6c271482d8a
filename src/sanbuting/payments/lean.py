"""`post_payment`'s open-item way on PostgreSQL, in three statements sent by the driver.

The domain work is the open-item way's (`payments.booking.from_open_book`: the days since the
account's open book walked without and with the payment; `ledger.service.difference`: what the
ledger lacks of them; `payments.model.result_of`: the result). Only the talking to the database
differs: instead of about seventeen statements through the ORM, one after another,

1. **the lock** (`LOCK`): the account's row `FOR UPDATE` and its company's `FOR SHARE` (as the
   ORM way takes them: the account, then the company, so that no checkpoint is saved meanwhile);
2. **the reads** (`READ`), pipelined with the lock in one round trip but with a snapshot of
   their own taken once the lock is held: whether the key was used, the newest checkpoint's
   day, the last standing state-changing order, the open book and its items, the bills and
   payments after it and the ledger's postings after it, each collection as arrays;
3. **the writes** (`WRITE`), one statement: the payment by key (`ON CONFLICT DO NOTHING`), the
   postings and their lines, the watermark, the open book, the dirty mark. Every write after
   the payment's is made from the payment's new row, so a key taken meanwhile by another
   account's payment writes nothing; the ORM way then answers (the first result, or a
   refusal).

It gives way to the ORM (`None`, nothing written) whenever the ORM way would not take the
open-item way (no open book, a prepaid account, a back-dated payment, later rows, a fee of those
days held from before), for an account number in several companies and for a key used before.
A payment that clears the arrears of an account with a standing state-changing order, or one
imported cut off, settles its orders through `payments.orders.settle` after the writes.
`tests/test_lean_payments.py` holds the two ways equal, posting by posting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from sanbuting.domain import AccountState, BillingMode, as_utc
from sanbuting.engine.relief import relief_for
from sanbuting.ledger.open_items import OpenBook
from sanbuting.ledger.service import Head, Lines, current_postings, difference, posting_rows
from sanbuting.payments import booking
from sanbuting.payments.model import PaymentIn, PaymentResult, result_of
from sanbuting.payments.orders import CUT_OFF, STATE_AFTER, settle
from sanbuting.policy import Policy
from sanbuting.rules import load_ruleset
from sanbuting.store.models import Account, Company, OpenBookRow
from sanbuting.store.open_items import books_of
from sanbuting.store.records import payment_record, record_of, records_after

ACCOUNT = "a.account_id = %(account)s AND (%(company)s::text IS NULL OR c.code = %(company)s)"
LOCK = (
    "SELECT a.id, a.company_id, a.account_id, a.utility, a.customer_class, a.region, "
    "a.billing_mode, a.tags, a.state, a.credit_limit_fen, a.opening_balance_fen, "
    "a.booked_through, c.code, c.ruleset, c.origin FROM accounts a "
    f"JOIN companies c ON c.id = a.company_id WHERE {ACCOUNT} FOR UPDATE OF a FOR SHARE OF c"
)
ITEM_COLUMNS = (
    "b.id", "b.bill_id", "b.period", "b.issued_on", "b.due_on", "b.amount_fen", "o.principal_fen",
    "o.accrued_units", "o.waived_units", "o.days", "o.waived_days", "o.charged_fen",
    "o.fee_paid_fen",
)  # fmt: skip
BILL_COLUMNS = ("b.id", "b.bill_id", "b.period", "b.issued_on", "b.due_on", "b.amount_fen")
PAYMENT_COLUMNS = ("p.key", "p.paid_at", "p.amount_fen")
POSTING_COLUMNS = (
    "p.id", "p.key", "p.kind", "p.reverses", "p.effective_on", "l.book", "l.amount_fen",
    "b.bill_id",
)  # fmt: skip


def _arrays(columns: Sequence[str], order: str = "") -> str:
    return ", ".join(f"array_agg({column}{order})" for column in columns)


# Each row joined to another table's by that table's index (`LATERAL ... OFFSET 0`, which the
# planner cannot turn into a hash join over the whole table), so that the read costs the same
# on a store whose statistics were never gathered (a fresh import, autovacuum off).
# After the lock, with a snapshot of its own (the lock may have waited for another payment):
# each collection comes as one array per column; nothing for a prepaid account (the ORM way
# books its meter's days). Payments are read from 08:00 of the open
# book's day: every payment after its end and a few of its own day, which `records_after`
# leaves out. The key: posted anywhere, or imported into the account's company.
READ = (
    "WITH me AS (SELECT a.id, a.company_id FROM accounts a JOIN companies c "
    f"ON c.id = a.company_id WHERE {ACCOUNT} AND a.billing_mode = '{BillingMode.POSTPAID}') "
    "SELECT me.id, (SELECT max(day) FROM checkpoints WHERE company_id = me.company_id), "
    "EXISTS (SELECT 1 FROM payments WHERE key = %(key)s AND posted) OR EXISTS (SELECT 1 "
    "FROM payments WHERE key = %(key)s AND company_id = me.company_id), o.kind, o.status, "
    "k.as_of, k.credit_fen, k.fingerprint, i.*, nb.*, np.*, q.* FROM me "
    "LEFT JOIN open_books k ON k.account = me.id "
    "LEFT JOIN LATERAL (SELECT kind, status FROM outbox WHERE account = me.id AND kind IN "
    f"({', '.join(repr(k) for k in STATE_AFTER)}) AND status IN ('held', 'pending', 'done') "
    "ORDER BY day DESC, id DESC LIMIT 1) o ON true "
    f"LEFT JOIN LATERAL (SELECT {_arrays(ITEM_COLUMNS)} FROM open_items o "
    "CROSS JOIN LATERAL (SELECT * FROM bills WHERE id = o.bill OFFSET 0) b "
    "WHERE o.account = me.id) i ON true "
    f"LEFT JOIN LATERAL (SELECT {_arrays(BILL_COLUMNS)} FROM bills b "
    "WHERE b.account = me.id AND b.issued_on > k.as_of) nb ON true "
    f"LEFT JOIN LATERAL (SELECT {_arrays(PAYMENT_COLUMNS)} FROM payments p "
    "WHERE p.account = me.id AND p.paid_at >= (k.as_of::timestamp AT TIME ZONE 'UTC')) np ON true "
    f"LEFT JOIN LATERAL (SELECT {_arrays(POSTING_COLUMNS, ' ORDER BY p.id, l.id')} "
    "FROM postings p CROSS JOIN LATERAL (SELECT * FROM ledger_lines WHERE posting = p.id "
    "OFFSET 0) l LEFT JOIN LATERAL (SELECT bill_id FROM bills WHERE id = l.bill OFFSET 0) b "
    "ON true "
    "WHERE p.account = me.id AND p.effective_on > k.as_of) q ON true"
)
# Every write after the payment's is made from its row (`pay`): none if the key was taken.
WRITE = (
    "WITH pay AS (INSERT INTO payments (company_id, key, content, account, paid_at, amount_fen, "
    "channel, posted, result) VALUES (%(company_id)s, %(key)s, %(content)s, %(pk)s, "
    "%(paid_at)s, %(amount)s, %(channel)s, true, %(result)s) ON CONFLICT DO NOTHING "
    "RETURNING id), "
    "heads AS (SELECT * FROM unnest(%(keys)s::text[], %(kinds)s::text[], %(days)s::date[], "
    "%(reverses)s::int[]) WITH ORDINALITY AS h(key, kind, effective_on, reverses, n)), "
    "added AS (INSERT INTO postings (company_id, key, kind, account, effective_on, reverses, "
    "created_at) SELECT %(company_id)s, h.key, h.kind, %(pk)s, h.effective_on, h.reverses, "
    "%(now)s FROM heads h, pay ORDER BY h.n RETURNING id, key), "
    "lines AS (INSERT INTO ledger_lines (posting, book, amount_fen, bill) SELECT added.id, "
    "l.book, l.amount, l.bill FROM added JOIN unnest(%(line_keys)s::text[], %(books)s::text[], "
    "%(amounts)s::bigint[], %(line_bills)s::int[]) AS l(key, book, amount, bill) "
    "ON l.key = added.key), "
    "watermark AS (UPDATE accounts SET booked_through = %(day)s WHERE id = %(pk)s "
    "AND EXISTS (SELECT 1 FROM pay)), "
    "book AS (INSERT INTO open_books (account, as_of, credit_fen, fingerprint) SELECT %(pk)s, "
    "%(as_of)s, %(credit)s, %(fingerprint)s FROM pay WHERE %(keep)s ON CONFLICT (account) DO "
    "UPDATE SET as_of = EXCLUDED.as_of, credit_fen = EXCLUDED.credit_fen, "
    "fingerprint = EXCLUDED.fingerprint), "
    "gone AS (DELETE FROM open_items WHERE account = %(pk)s AND %(keep)s "
    "AND NOT (bill = ANY(%(item_bills)s::int[])) AND EXISTS (SELECT 1 FROM pay)), "
    "items AS (INSERT INTO open_items (account, bill, principal_fen, accrued_units, "
    "waived_units, days, waived_days, charged_fen, fee_paid_fen) SELECT %(pk)s, u.* FROM "
    "unnest(%(item_bills)s::int[], %(principal)s::bigint[], %(accrued)s::bigint[], "
    "%(waived)s::bigint[], %(item_days)s::int[], %(waived_days)s::int[], %(charged)s::bigint[], "
    "%(fee_paid)s::bigint[]) AS u, pay WHERE %(keep)s ON CONFLICT (account, bill) DO UPDATE SET "
    "principal_fen = EXCLUDED.principal_fen, accrued_units = EXCLUDED.accrued_units, "
    "waived_units = EXCLUDED.waived_units, days = EXCLUDED.days, "
    "waived_days = EXCLUDED.waived_days, charged_fen = EXCLUDED.charged_fen, "
    "fee_paid_fen = EXCLUDED.fee_paid_fen), "
    "dirty AS (INSERT INTO checkpoint_dirty (company_id, account_id, since, cleared) "
    "SELECT %(company_id)s, %(account)s, %(day)s, false FROM pay WHERE %(mark)s) "
    "SELECT id FROM pay"
)


def send(
    connection: Connection[Any], statements: Sequence[tuple[str, dict[str, Any]]]
) -> list[list[Any]]:
    """Send `statements` in one round trip (pipelined when there are several); each one's rows
    ([] for those that return none). A database error is raised as SQLAlchemy raises the ORM
    way's (`sqlalchemy.exc.DBAPIError` and its kinds), so that callers retry a deadlock or a
    lost connection the same way."""
    try:
        return _send(connection, statements)
    except psycopg.Error as error:
        raise DBAPIError.instance(
            "; ".join(sql for sql, _ in statements), None, error, psycopg.Error
        ) from error


def _send(
    connection: Connection[Any], statements: Sequence[tuple[str, dict[str, Any]]]
) -> list[list[Any]]:
    if len(statements) == 1:
        cursor = connection.execute(*statements[0])
        return [cursor.fetchall() if cursor.description else []]
    with connection.pipeline() as pipe:
        cursors = []
        for sql, params in statements:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            cursors.append(cursor)
        pipe.sync()
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]


@dataclass(frozen=True, slots=True)
class Read:
    """What the reads found of one account of one company."""

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


def _rows(arrays: Sequence[list[Any] | None], *first: Any) -> list[tuple[Any, ...]]:
    """Rows from one array per column (none for an empty collection), each led by `first`."""
    if arrays[0] is None:
        return []
    return [(*first, *row) for row in zip(*arrays, strict=True)]


def read(
    connection: Connection[Any], account_id: str, company: str | None, key: str
) -> Read | None:
    """The reads (see the module docstring); None when the account is not one account, or the
    key was used before (the ORM way answers both)."""
    params = {"account": account_id, "company": company, "key": key}
    locked, found = send(connection, [(LOCK, params), (READ, params)])
    if len(locked) != 1 or len(found) != 1 or found[0][2]:
        return None
    row, got = locked[0], found[0]
    account = Account(
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
    held = Company(id=row[1], code=row[12], ruleset=row[13], origin=row[14])
    pk = row[0]
    postings = [(r[0], pk, *r[1:]) for r in _rows(got[30:38])]
    return Read(
        account=account,
        company=held,
        newest=got[1],
        order=None if got[3] is None else (got[3], got[4]),
        book=[] if got[5] is None else [(pk, got[5], got[6], got[7])],
        items=_rows(got[8:21]),
        bills=_rows(got[21:27], pk),
        payments=_rows(got[27:30], pk),
        postings=postings,
    )


def usable(session: Session) -> bool:
    """The driver's way runs on PostgreSQL through psycopg."""
    return session.get_bind().dialect.driver == "psycopg"


def post(
    *,
    session: Session,
    payment: PaymentIn,
    content: str,
    now: datetime,
    policies: Callable[[int], Sequence[Policy]],
) -> PaymentResult | None:
    """Post a checked `payment` (its `content` digest) the open-item way through the driver,
    with `policies(company id)` in force; None when the ORM way must (nothing written)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, Connection)
    found = read(connection, payment.account_id, payment.company, payment.key)
    if found is None or found.company.origin is None:
        return None
    account, company = found.account, found.company
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
    if booking.held_from_before(session, company, [(account.id, walked.entries, start.as_of)]):
        return None
    before, after = prepared.before, walked.arrears
    settles = before > 0 and after == 0
    settles = settles and (found.order is not None or AccountState(account.state) in CUT_OFF)
    result = result_of(
        payment, account.account_id, company.code, walked.entries, walked.order, before, after,
        queued=False,
    )  # fmt: skip
    params = {
        "company_id": company.id,
        "account": account.account_id,
        "key": payment.key,
        "pk": account.id,
        "content": content,
        "paid_at": as_utc(payment.paid_at),
        "amount": payment.amount_fen,
        "channel": payment.channel,
        "result": result.to_json(),
        "now": as_utc(now),
        "day": paid.paid_on,
    }
    posted, versions = current_postings(found.postings)
    new, undo = difference(walked.entries, posted.get(account.id, {}), versions.get(account.id, {}))
    heads, legs = posting_rows([(account.id, e) for e in new], [(account.id, p) for p in undo])
    keep = walked.kept is not start
    mark = found.newest is not None and paid.paid_on <= found.newest
    params |= {"keep": keep, "mark": mark}
    params |= _postings(heads, legs, prepared.bills) | _book(walked.kept, prepared.bills)
    if not send(connection, [(WRITE, params)])[0]:
        return None  # the key was taken meanwhile: nothing else was written
    _forget_cached(session, account.id)
    if settles and _settled(session, account.id, paid.paid_on, now, payment.key):
        result = replace(result, reconnect_queued=True)
        update = "UPDATE payments SET result = %(result)s WHERE key = %(key)s AND posted"
        send(connection, [(update, {"result": result.to_json(), "key": payment.key})])
    return result


def _postings(heads: list[Head], legs: list[Lines], bills: dict[str, int]) -> dict[str, Any]:
    """The postings' columns (`WRITE`'s heads and lines)."""
    return {
        "keys": [h[0] for h in heads],
        "kinds": [h[1] for h in heads],
        "days": [h[3] for h in heads],
        "reverses": [h[4] for h in heads],
        "line_keys": [h[0] for h, leg in zip(heads, legs, strict=True) for _ in leg],
        "books": [book for leg in legs for book, _, _ in leg],
        "amounts": [amount for leg in legs for _, amount, _ in leg],
        "line_bills": [bills[bill] if bill else None for leg in legs for _, _, bill in leg],
    }


def _book(kept: OpenBook, bills: dict[str, int]) -> dict[str, Any]:
    """The open book's columns (`WRITE`'s book and items): `kept`, its bills by store id."""
    items = kept.items
    return {
        "as_of": kept.as_of,
        "credit": kept.credit,
        "fingerprint": kept.fingerprint,
        "item_bills": [bills[i.bill.bill_id] for i in items],
        "principal": [i.principal for i in items],
        "accrued": [i.accrued_units for i in items],
        "waived": [i.waived_units for i in items],
        "item_days": [i.days for i in items],
        "waived_days": [i.waived_days for i in items],
        "charged": [i.charged for i in items],
        "fee_paid": [i.fee_paid for i in items],
    }


def _forget_cached(session: Session, account: int) -> None:
    """Expire what the session may hold of the rows written behind its back."""
    for model in (Account, OpenBookRow):
        held = session.identity_map.get(identity_key(model, account))
        if held is not None:
            session.expire(held)


def _settled(session: Session, account: int, day: date, now: datetime, key: str) -> bool:
    """`payments.orders.settle` for a payment that cleared the arrears; True if it queued a
    reconnection."""
    row = session.get(Account, account, populate_existing=True)
    assert row is not None
    company = session.get(Company, row.company_id)
    assert company is not None
    return settle(session=session, company=company, account=row, day=day, now=now, key=key)
