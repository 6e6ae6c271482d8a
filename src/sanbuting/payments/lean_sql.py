"""The statements of the driver's way of posting (`payments.lean`), for one payment (from
`post_payment`) or a batch (from a bank file's): `lock` locks the accounts, `read` reads what
their walks need, `write` writes what they booked; and `send`, which sends them.

A batch's statements take its payments as arrays, one per column, position by position (the
payment's number `n` in the batch, from 1). One payment's take scalars where a batch's take
arrays of one: the planner then plans for one row and caches the plan, which an array of
unknown length does not let it do (it cost 0.15 ms more for the lock and the read and 0.6 ms
more for the write of each single payment). See `payments.lean` for the order they run in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import Connection
from sqlalchemy.exc import DBAPIError

from sanbuting.domain import BillingMode
from sanbuting.payments.orders import STATE_AFTER

# The payments' accounts (an account number, and its company's code when the payer named one)
# and keys, each matched to the accounts of that number (one, unless the number is used in
# several companies and no company was named: the caller then gives way to the ORM).
MANY = (
    "unnest(%(accounts)s::text[], %(companies)s::text[], %(keys)s::text[]) "
    "WITH ORDINALITY AS w(account, company, key, n)"
)
ONE = (
    "(VALUES (%(account)s::text, %(company)s::text, %(key)s::text, 1::bigint)) "
    "AS w(account, company, key, n)"
)
MATCH = (
    "JOIN accounts a ON a.account_id = w.account JOIN companies c ON c.id = a.company_id "
    "WHERE (w.company IS NULL OR c.code = w.company)"
)


def lock(wanted: str) -> str:
    """The accounts `FOR UPDATE` in store-id order (as the ORM way's batch locks them) and
    their companies `FOR SHARE` (so that no checkpoint is saved meanwhile)."""
    return (
        "SELECT w.n, a.id, a.company_id, a.account_id, a.utility, a.customer_class, a.region, "
        "a.billing_mode, a.tags, a.state, a.credit_limit_fen, a.opening_balance_fen, "
        f"a.booked_through, c.code, c.ruleset, c.origin FROM {wanted} {MATCH} "
        "ORDER BY a.id FOR UPDATE OF a FOR SHARE OF c"
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


def read(wanted: str) -> str:
    """The reads, after the lock, with a snapshot of their own (the lock may have waited for
    another payment): one row for each payment's postpaid account (none for a prepaid one: the
    ORM way books its meter's days), each collection as one array per column.

    Each row is joined to another table's by that table's index (`LATERAL ... OFFSET 0`, which
    the planner cannot turn into a hash join over the whole table), so that the read costs the
    same on a store whose statistics were never gathered (a fresh import, autovacuum off).
    Payments are read from 08:00 of the open book's day: every payment after its end and a few
    of its own day, which `records_after` leaves out. The key: posted anywhere, or imported into
    the account's company."""
    return (
        f"WITH me AS (SELECT w.n, w.key, a.id, a.company_id FROM {wanted} {MATCH} "
        f"AND a.billing_mode = '{BillingMode.POSTPAID}') "
        "SELECT me.n, me.id, (SELECT max(day) FROM checkpoints WHERE company_id = me.company_id), "
        "used.key IS NOT NULL, o.kind, o.status, "
        "k.as_of, k.credit_fen, k.fingerprint, i.*, nb.*, np.*, q.* FROM me "
        "LEFT JOIN open_books k ON k.account = me.id "
        "LEFT JOIN LATERAL (SELECT key FROM payments WHERE key = me.key AND (posted OR "
        "company_id = me.company_id) OFFSET 0 LIMIT 1) used ON true "
        "LEFT JOIN LATERAL (SELECT kind, status FROM outbox WHERE account = me.id AND kind IN "
        f"({', '.join(repr(k) for k in STATE_AFTER)}) AND status IN ('held', 'pending', 'done') "
        "ORDER BY day DESC, id DESC LIMIT 1) o ON true "
        f"LEFT JOIN LATERAL (SELECT {_arrays(ITEM_COLUMNS)} FROM open_items o "
        "CROSS JOIN LATERAL (SELECT * FROM bills WHERE id = o.bill OFFSET 0) b "
        "WHERE o.account = me.id) i ON true "
        f"LEFT JOIN LATERAL (SELECT {_arrays(BILL_COLUMNS)} FROM bills b "
        "WHERE b.account = me.id AND b.issued_on > k.as_of) nb ON true "
        f"LEFT JOIN LATERAL (SELECT {_arrays(PAYMENT_COLUMNS)} FROM payments p "
        "WHERE p.account = me.id AND p.paid_at >= (k.as_of::timestamp AT TIME ZONE 'UTC')) np "
        "ON true "
        f"LEFT JOIN LATERAL (SELECT {_arrays(POSTING_COLUMNS, ' ORDER BY p.id, l.id')} "
        "FROM postings p CROSS JOIN LATERAL (SELECT * FROM ledger_lines WHERE posting = p.id "
        "OFFSET 0) l LEFT JOIN LATERAL (SELECT bill_id FROM bills WHERE id = l.bill OFFSET 0) b "
        "ON true "
        "WHERE p.account = me.id AND p.effective_on > k.as_of) q ON true"
    )


LOCK_MANY, READ_MANY = lock(MANY), read(MANY)
LOCK_ONE, READ_ONE = lock(ONE), read(ONE)


PAYMENT_TYPES = (
    ("company_id", "int"), ("key", "text"), ("content", "text"), ("account", "int"),
    ("paid_at", "timestamptz"), ("amount", "bigint"), ("channel", "text"), ("result", "text"),
)  # fmt: skip
"""The payments' columns, each a parameter of its name (one payment) or an array of it with an
`s` (a batch)."""


def _payments(one: bool) -> str:
    """The payments to write, as rows `u`: one row of scalars, or the arrays unnested."""
    names = ", ".join(name for name, _ in PAYMENT_TYPES)
    if one:
        values = ", ".join(f"%({name})s::{kind}" for name, kind in PAYMENT_TYPES)
        return f"(VALUES ({values})) AS u({names})"
    arrays = ", ".join(f"%({name}s)s::{kind}[]" for name, kind in PAYMENT_TYPES)
    return f"unnest({arrays}) AS u({names})"


def write(one: bool) -> str:
    """The writes, for one payment or a batch: the payments by key (`ON CONFLICT DO
    NOTHING`); every other write is joined to the payment rows inserted (`pay`, by account), so
    an account whose key another account's payment took meanwhile gets nothing written. The
    watermark and the dirty mark are the payment's day (in Asia/Shanghai)."""
    return (
        "WITH pay AS (INSERT INTO payments (company_id, key, content, account, paid_at, "
        "amount_fen, channel, posted, result) SELECT u.company_id, u.key, u.content, "
        f"u.account, u.paid_at, u.amount, u.channel, true, u.result FROM {_payments(one)} "
        "ON CONFLICT DO NOTHING RETURNING account, company_id, "
        "(paid_at AT TIME ZONE 'Asia/Shanghai')::date AS day), "
        "heads AS (SELECT * FROM unnest(%(head_accounts)s::int[], %(head_keys)s::text[], "
        "%(kinds)s::text[], %(effective)s::date[], %(reverses)s::int[]) "
        "WITH ORDINALITY AS h(account, key, kind, effective_on, reverses, n)), "
        "added AS (INSERT INTO postings (company_id, key, kind, account, effective_on, reverses, "
        "created_at) SELECT pay.company_id, h.key, h.kind, h.account, h.effective_on, h.reverses, "
        "%(now)s FROM heads h JOIN pay ON pay.account = h.account ORDER BY h.n "
        "RETURNING id, account, key), "
        "lines AS (INSERT INTO ledger_lines (posting, book, amount_fen, bill) SELECT added.id, "
        "l.book, l.amount, l.bill FROM added JOIN unnest(%(line_accounts)s::int[], "
        "%(line_keys)s::text[], %(books)s::text[], %(line_amounts)s::bigint[], "
        "%(line_bills)s::int[]) WITH ORDINALITY AS l(account, key, book, amount, bill, n) "
        "ON l.account = added.account AND l.key = added.key ORDER BY l.n), "
        "watermark AS (UPDATE accounts a SET booked_through = pay.day FROM pay "
        "WHERE a.id = pay.account), "
        "book AS (INSERT INTO open_books (account, as_of, credit_fen, fingerprint) SELECT u.* FROM "
        "unnest(%(book_accounts)s::int[], %(as_ofs)s::date[], %(credits)s::bigint[], "
        "%(fingerprints)s::text[]) AS u(account, as_of, credit, fingerprint) "
        "JOIN pay ON pay.account = u.account ON CONFLICT (account) DO "
        "UPDATE SET as_of = EXCLUDED.as_of, credit_fen = EXCLUDED.credit_fen, "
        "fingerprint = EXCLUDED.fingerprint), "
        "kept AS (SELECT * FROM unnest(%(item_accounts)s::int[], %(item_bills)s::int[], "
        "%(principal)s::bigint[], %(accrued)s::bigint[], %(waived)s::bigint[], "
        "%(item_days)s::int[], %(waived_days)s::int[], %(charged)s::bigint[], "
        "%(fee_paid)s::bigint[]) AS u(account, bill, principal, accrued, waived, days, "
        "waived_days, charged, fee_paid) WHERE u.account IN (SELECT account FROM pay)), "
        "gone AS (DELETE FROM open_items o WHERE o.account = ANY(%(book_accounts)s::int[]) "
        "AND o.account IN (SELECT account FROM pay) "
        "AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.account = o.account "
        "AND kept.bill = o.bill)), "
        "items AS (INSERT INTO open_items (account, bill, principal_fen, accrued_units, "
        "waived_units, days, waived_days, charged_fen, fee_paid_fen) SELECT * FROM kept "
        "ON CONFLICT (account, bill) DO UPDATE SET "
        "principal_fen = EXCLUDED.principal_fen, accrued_units = EXCLUDED.accrued_units, "
        "waived_units = EXCLUDED.waived_units, days = EXCLUDED.days, "
        "waived_days = EXCLUDED.waived_days, charged_fen = EXCLUDED.charged_fen, "
        "fee_paid_fen = EXCLUDED.fee_paid_fen), "
        "dirty AS (INSERT INTO checkpoint_dirty (company_id, account_id, since, cleared) "
        "SELECT pay.company_id, u.account_id, pay.day, false FROM unnest(%(marked)s::int[], "
        "%(marked_ids)s::text[]) AS u(account, account_id) JOIN pay ON pay.account = u.account) "
        "SELECT account FROM pay"
    )


WRITE_ONE, WRITE_MANY = write(True), write(False)
RESULT = (
    "UPDATE payments p SET result = u.result FROM unnest(%(keys)s::text[], %(results)s::text[]) "
    "AS u(key, result) WHERE p.key = u.key AND p.posted"
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
