"""The statements of the driver's way of posting (`payments.lean`), for any number of payments
at once (one, from `post_payment`; a batch, from a bank file's), and `send`, which sends them.

Every statement takes its payments as arrays, one per column, position by position (the
payment's number `n` in the batch, from 1): `LOCK` locks the accounts, `READ` reads what their
walks need, `WRITE` writes what they booked. See `payments.lean` for the order they run in.
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
WANTED = (
    "unnest(%(accounts)s::text[], %(companies)s::text[], %(keys)s::text[]) "
    "WITH ORDINALITY AS w(account, company, key, n) "
    "JOIN accounts a ON a.account_id = w.account JOIN companies c ON c.id = a.company_id "
    "WHERE (w.company IS NULL OR c.code = w.company)"
)
# The accounts `FOR UPDATE` in store-id order (as the ORM way's batch locks them) and their
# companies `FOR SHARE` (so that no checkpoint is saved meanwhile).
LOCK = (
    "SELECT w.n, a.id, a.company_id, a.account_id, a.utility, a.customer_class, a.region, "
    "a.billing_mode, a.tags, a.state, a.credit_limit_fen, a.opening_balance_fen, "
    f"a.booked_through, c.code, c.ruleset, c.origin FROM {WANTED} "
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


# Each row joined to another table's by that table's index (`LATERAL ... OFFSET 0`, which the
# planner cannot turn into a hash join over the whole table), so that the read costs the same
# on a store whose statistics were never gathered (a fresh import, autovacuum off).
# After the lock, with a snapshot of its own (the lock may have waited for another payment):
# one row for each payment's postpaid account (none for a prepaid one: the ORM way books its
# meter's days), each collection as one array per column. Payments are read from 08:00 of the
# open book's day: every payment after its end and a few of its own day, which
# `records_after` leaves out. The key: posted anywhere, or imported into the account's company.
READ = (
    f"WITH me AS (SELECT w.n, w.key, a.id, a.company_id FROM {WANTED} "
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
    "WHERE p.account = me.id AND p.paid_at >= (k.as_of::timestamp AT TIME ZONE 'UTC')) np ON true "
    f"LEFT JOIN LATERAL (SELECT {_arrays(POSTING_COLUMNS, ' ORDER BY p.id, l.id')} "
    "FROM postings p CROSS JOIN LATERAL (SELECT * FROM ledger_lines WHERE posting = p.id "
    "OFFSET 0) l LEFT JOIN LATERAL (SELECT bill_id FROM bills WHERE id = l.bill OFFSET 0) b "
    "ON true "
    "WHERE p.account = me.id AND p.effective_on > k.as_of) q ON true"
)
# The payments by key (`ON CONFLICT DO NOTHING`); every other write is joined to the rows
# inserted (`pay`, by account), so an account whose key was taken meanwhile by another
# account's payment gets nothing written.
WRITE = (
    "WITH pay AS (INSERT INTO payments (company_id, key, content, account, paid_at, amount_fen, "
    "channel, posted, result) SELECT u.company_id, u.key, u.content, u.account, u.paid_at, "
    "u.amount, u.channel, true, u.result FROM unnest(%(company_ids)s::int[], "
    "%(keys)s::text[], %(contents)s::text[], %(pks)s::int[], %(paid_ats)s::timestamptz[], "
    "%(amounts)s::bigint[], %(channels)s::text[], %(results)s::text[]) "
    "AS u(company_id, key, content, account, paid_at, amount, channel, result) "
    "ON CONFLICT DO NOTHING RETURNING account, company_id), "
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
    "watermark AS (UPDATE accounts a SET booked_through = u.day FROM unnest(%(pks)s::int[], "
    "%(paid_days)s::date[]) AS u(account, day) JOIN pay ON pay.account = u.account "
    "WHERE a.id = u.account), "
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
    "AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.account = o.account AND kept.bill = o.bill)), "
    "items AS (INSERT INTO open_items (account, bill, principal_fen, accrued_units, "
    "waived_units, days, waived_days, charged_fen, fee_paid_fen) SELECT * FROM kept "
    "ON CONFLICT (account, bill) DO UPDATE SET "
    "principal_fen = EXCLUDED.principal_fen, accrued_units = EXCLUDED.accrued_units, "
    "waived_units = EXCLUDED.waived_units, days = EXCLUDED.days, "
    "waived_days = EXCLUDED.waived_days, charged_fen = EXCLUDED.charged_fen, "
    "fee_paid_fen = EXCLUDED.fee_paid_fen), "
    "dirty AS (INSERT INTO checkpoint_dirty (company_id, account_id, since, cleared) "
    "SELECT pay.company_id, u.account_id, u.day, false FROM unnest(%(marked)s::int[], "
    "%(marked_ids)s::text[], %(marked_days)s::date[]) AS u(account, account_id, day) "
    "JOIN pay ON pay.account = u.account) "
    "SELECT account FROM pay"
)
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
