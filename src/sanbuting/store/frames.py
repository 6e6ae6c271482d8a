"""The store's accounts, bills, payments and usage as the contract's checked frames, so that
the engine runs over the store exactly as it runs over an input folder.

The tables are large (a province's prepaid meters write a usage row a day), so they are read
through the driver's fast path, not row objects: `COPY (…) TO STDOUT` as CSV on PostgreSQL,
a plain cursor on SQLite, with dates and times as fixed-format text that Polars parses.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import ClauseElement, ColumnElement, false, func, select, true
from sqlalchemy.orm import Mapped, Session

from sanbuting.domain import as_utc, local_midnight
from sanbuting.engine.buckets import Frames
from sanbuting.io.contract import ACCOUNTS, BILLS, PAYMENTS, USAGE
from sanbuting.store.models import Account, Bill, Payment, Usage

UTC_MICROSECONDS = "%Y-%m-%d %H:%M:%S%.6f"
"""How a stored time is read back: UTC, with microseconds (as SQLAlchemy writes it to SQLite)."""


def load_frames(
    session: Session,
    company_ids: Sequence[int],
    accounts: Sequence[int] | None = None,
    *,
    after: date | None = None,
    until: date | None = None,
) -> Frames:
    """The frames of these companies' accounts (or of the accounts with these store ids).
    With `after`, only the rows dated after that day (bills issued, payments paid, usage
    used), and no accounts: what a run resumed from a checkpoint of that day reads. With
    `until`, no row dated after that day (a run through `until` never looks at them)."""

    def of(column: Mapped[int], company: Mapped[int]) -> ColumnElement[bool]:
        if accounts is not None:
            return column.in_(list(accounts))
        return company.in_(list(company_ids))

    since = local_midnight(after + timedelta(days=1)) if after is not None else None
    before = local_midnight(until + timedelta(days=1)) if until is not None else None

    postgres = session.get_bind().dialect.name == "postgresql"
    paid_at: Any = (
        func.to_char(func.timezone("UTC", Payment.paid_at), "YYYY-MM-DD HH24:MI:SS.US")
        if postgres
        else Payment.paid_at
    )
    account_frame = _fetch(
        session,
        select(
            Account.account_id,
            Account.utility,
            Account.customer_class,
            Account.region,
            Account.billing_mode,
            Account.tags,
            Account.state,
            Account.opening_balance_fen,
            Account.credit_limit_fen,
            Account.phone,
        ).where(of(Account.id, Account.company_id), true() if after is None else false()),
        {**ACCOUNTS.schema, "tags": pl.String()},
    ).with_columns(
        pl.when(pl.col("tags").fill_null("") == "")
        .then(pl.lit(None, dtype=pl.List(pl.String)))
        .otherwise(pl.col("tags").str.split(";"))
        .alias("tags")
    )
    bills = _fetch(
        session,
        select(
            Bill.bill_id,
            Account.account_id,
            Bill.period,
            Bill.issued_on,
            Bill.due_on,
            Bill.amount_fen,
        )
        .join(Account, Account.id == Bill.account)
        .where(
            of(Bill.account, Bill.company_id),
            true() if after is None else Bill.issued_on > after,
            true() if until is None else Bill.issued_on <= until,
        ),
        BILLS.schema,
    )
    payments = _fetch(
        session,
        select(Payment.key, Account.account_id, paid_at, Payment.amount_fen, Payment.channel)
        .join(Account, Account.id == Payment.account)
        .where(
            of(Payment.account, Payment.company_id),
            true() if since is None else Payment.paid_at >= as_utc(since),
            true() if before is None else Payment.paid_at < as_utc(before),
        ),
        {
            "payment_id": pl.String(),
            "account_id": pl.String(),
            "paid_at": pl.Datetime("us", "UTC"),
            "amount_fen": pl.Int64(),
            "channel": pl.String(),
        },
    )
    local = pl.col("paid_at").dt.convert_time_zone("Asia/Shanghai")
    payments = payments.with_columns(local.alias("paid_at"), local.dt.date().alias("paid_on"))
    usage = _fetch(
        session,
        select(Account.account_id, Usage.day, Usage.amount_fen)
        .join(Account, Account.id == Usage.account)
        .where(
            of(Usage.account, Usage.company_id),
            true() if after is None else Usage.day > after,
            true() if until is None else Usage.day <= until,
        ),
        USAGE.schema,
    )
    return (
        account_frame.cast(ACCOUNTS.schema).sort("account_id"),
        bills.sort("account_id", "bill_id"),
        payments.select(PAYMENTS.schema.names())
        .cast(PAYMENTS.schema)
        .sort("account_id", "paid_at", "payment_id"),
        usage.sort("account_id", "date"),
    )


def _fetch(session: Session, query: ClauseElement, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run `query` (its columns in the order of `schema`) into a frame of `schema`."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    raw: Any = connection.connection.driver_connection
    as_text = {name: pl.String() if _temporal(dtype) else dtype for name, dtype in schema.items()}
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy,
        ):
            for block in copy:
                buffer.write(block)
        frame = (
            pl.read_csv(buffer.getvalue(), has_header=False, schema=as_text)
            if buffer.tell()
            else pl.DataFrame(schema=as_text)
        )
    else:
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        frame = pl.DataFrame(rows, schema=as_text, orient="row")
    return frame.with_columns(
        _parsed(name, dtype) for name, dtype in schema.items() if _temporal(dtype)
    )


def _temporal(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Date | pl.Datetime)


def _parsed(name: str, dtype: pl.DataType) -> pl.Expr:
    text = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return text.str.to_datetime(UTC_MICROSECONDS, time_unit="us", time_zone="UTC").alias(name)
    return text.str.to_date("%Y-%m-%d").alias(name)
