"""The store's accounts, bills, payments and usage as the contract's checked frames, so that
the engine runs over the store exactly as it runs over an input folder.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Mapped, Session

from sanbuting.engine.buckets import Frames
from sanbuting.io.contract import ACCOUNTS, BILLS, PAYMENTS, USAGE
from sanbuting.store.models import Account, Bill, Payment, Usage


def load_frames(
    session: Session, company_ids: Sequence[int], accounts: Sequence[int] | None = None
) -> Frames:
    """The frames of these companies' accounts (or of the accounts with these store ids)."""

    def of(column: Mapped[int], company: Mapped[int]) -> ColumnElement[bool]:
        if accounts is not None:
            return column.in_(list(accounts))
        return company.in_(list(company_ids))

    account_rows = session.execute(
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
        ).where(of(Account.id, Account.company_id))
    ).all()
    frame = pl.DataFrame(
        account_rows,
        orient="row",
        schema={**ACCOUNTS.schema, "tags": pl.String},
    ).with_columns(
        pl.when(pl.col("tags") == "")
        .then(pl.lit(None, dtype=pl.List(pl.String)))
        .otherwise(pl.col("tags").str.split(";"))
        .alias("tags")
    )
    bill_rows = session.execute(
        select(
            Bill.bill_id,
            Account.account_id,
            Bill.period,
            Bill.issued_on,
            Bill.due_on,
            Bill.amount_fen,
        )
        .join(Account, Account.id == Bill.account)
        .where(of(Bill.account, Bill.company_id))
    ).all()
    bills = pl.DataFrame(bill_rows, orient="row", schema=BILLS.schema)
    payment_rows = session.execute(
        select(
            Payment.key,
            Account.account_id,
            Payment.paid_at,
            Payment.amount_fen,
            Payment.channel,
        )
        .join(Account, Account.id == Payment.account)
        .where(of(Payment.account, Payment.company_id))
    ).all()
    payments = pl.DataFrame(
        payment_rows,
        orient="row",
        schema={
            "payment_id": pl.String,
            "account_id": pl.String,
            "paid_at": pl.Datetime("us", "UTC"),
            "amount_fen": pl.Int64,
            "channel": pl.String,
        },
    )
    local = pl.col("paid_at").dt.convert_time_zone("Asia/Shanghai")
    payments = payments.with_columns(local.alias("paid_at"), local.dt.date().alias("paid_on"))
    payments = payments.select(PAYMENTS.schema.names()).cast(PAYMENTS.schema)
    usage_rows = session.execute(
        select(Account.account_id, Usage.day, Usage.amount_fen)
        .join(Account, Account.id == Usage.account)
        .where(of(Usage.account, Usage.company_id))
    ).all()
    usage = pl.DataFrame(usage_rows, orient="row", schema=USAGE.schema)
    return (
        frame.cast(ACCOUNTS.schema).sort("account_id"),
        bills.sort("account_id", "bill_id"),
        payments.sort("account_id", "paid_at", "payment_id"),
        usage.sort("account_id", "date"),
    )
