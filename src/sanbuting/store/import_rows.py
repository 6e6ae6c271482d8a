"""The rows `db import` writes: the contract's frames in the store's columns, split into new
rows, rows already stored alike, and rows that conflict with a stored one (rejected with the
line of the file they came from).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from sanbuting.io.contract import PERSONAL_COLUMNS, TABLES
from sanbuting.io.phones import masked
from sanbuting.io.readers import read_table
from sanbuting.io.rejects import Reject, shown_value
from sanbuting.io.typed import LINE


@dataclass(frozen=True)
class RowShape:
    """A table's store key, the columns compared with a stored row, and for each compared
    column the contract column a reject names."""

    key: tuple[str, ...]
    compared: tuple[str, ...]
    contract_column: dict[str, str]
    contract_key: dict[str, str]
    """The columns that find the row in its file, and the row's column holding each."""


SHAPES = {
    "accounts": RowShape(
        key=("company_id", "account_id"),
        compared=(
            "utility",
            "customer_class",
            "region",
            "billing_mode",
            "tags",
            "state",
            "opening_balance_fen",
            "credit_limit_fen",
            "phone",
        ),
        contract_column={"opening_balance_fen": "balance_fen"},
        contract_key={"account_id": "account_id"},
    ),
    "bills": RowShape(
        key=("company_id", "bill_id"),
        compared=("account", "period", "issued_on", "due_on", "amount_fen"),
        contract_column={"account": "account_id"},
        contract_key={"bill_id": "bill_id"},
    ),
    "payments": RowShape(
        key=("company_id", "key"),
        compared=("content",),
        contract_column={"content": "amount_fen"},
        contract_key={"payment_id": "key"},
    ),
    "usage": RowShape(
        key=("account", "day"),
        compared=("amount_fen",),
        contract_column={},
        contract_key={"account_id": "account_id", "date": "day"},
    ),
    "holds": RowShape(
        key=("company_id", "hold_id"),
        compared=(
            "account",
            "kind",
            "start_on",
            "until_on",
            "steps",
            "amount_fen",
            "instalments",
            "reason",
            "set_by",
        ),
        contract_column={
            "account": "account_id",
            "start_on": "from",
            "until_on": "until",
        },
        contract_key={"hold_id": "hold_id"},
    ),
}


def payment_content(
    account_id: str, paid_at: datetime, amount_fen: int, channel: str | None
) -> str:
    """The digest of what a payment asks (account, instant, amount, channel): a repeat of its
    idempotency key must carry the same."""
    instant = paid_at.astimezone(UTC).isoformat(timespec="microseconds")
    text = f"{account_id}\x1f{instant}\x1f{amount_fen}\x1f{channel or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def account_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "company_id",
        "account_id",
        "utility",
        "customer_class",
        "region",
        "billing_mode",
        pl.col("tags").list.join(";").fill_null("").alias("tags"),
        "state",
        "credit_limit_fen",
        "phone",
        pl.col("balance_fen").alias("opening_balance_fen"),
    )


def bill_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "company_id", "bill_id", "account", "period", "issued_on", "due_on", "amount_fen"
    )


def payment_rows(frame: pl.DataFrame) -> pl.DataFrame:
    utc = frame.with_columns(pl.col("paid_at").dt.convert_time_zone("UTC"))
    contents = [
        payment_content(account_id, paid_at, amount, channel)
        for account_id, paid_at, amount, channel in utc.select(
            "account_id", "paid_at", "amount_fen", "channel"
        ).iter_rows()
    ]
    return utc.select(
        "company_id",
        pl.col("payment_id").alias("key"),
        pl.Series("content", contents, dtype=pl.String),
        "account",
        "paid_at",
        "amount_fen",
        "channel",
        "account_id",
    )


def hold_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A `holds` input's rows (docs/account-relief.md) in the store's columns."""
    return frame.select(
        "company_id",
        "hold_id",
        "account",
        "kind",
        pl.col("from").alias("start_on"),
        pl.col("until").alias("until_on"),
        "steps",
        "amount_fen",
        "instalments",
        "reason",
        "set_by",
        "account_id",
    )


def usage_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "company_id", "account", pl.col("date").alias("day"), "amount_fen", "account_id"
    )


@dataclass
class RowConflicts:
    """Rows refused because of the store, found again in their file (CSV files read as
    `encoding`) for line and value."""

    folder: Path
    encoding: str | None = None
    refused: list[tuple[str, dict[str, object], str, str]] = field(default_factory=list)

    def refuse(self, table: str, match: dict[str, object], column: str, reason: str) -> None:
        self.refused.append((table, match, column, reason))

    @property
    def rejects(self) -> list[Reject]:
        found: list[Reject] = []
        read: dict[str, pl.DataFrame] = {}
        files: dict[str, str] = {}
        for table, match, column, reason in self.refused:
            if table not in read:
                spec = next(s for s in TABLES if s.name == table)
                raw = read_table(self.folder, spec, encoding=self.encoding)
                assert raw is not None  # the rows came from this file
                read[table], files[table] = raw.frame, raw.file
            rows = read[table].filter(
                *(pl.col(name).cast(pl.String) == str(value) for name, value in match.items())
            )
            line = int(rows.get_column(LINE)[0]) if rows.height else 0
            value = (
                str(rows.get_column(column)[0]) if rows.height and column in rows.columns else ""
            )
            shown = shown_value(column, value if value != "None" else "")
            found.append(Reject(files[table], line, column, shown, reason))
        return found


def split_new(
    new: pl.DataFrame, stored: pl.DataFrame, table: str, conflicts: RowConflicts
) -> tuple[pl.DataFrame, int]:
    """The rows of `new` to insert, and how many are stored already alike; the ones stored
    with other content are refused."""
    shape = SHAPES[table]
    if stored.is_empty() or new.is_empty():
        return new, 0
    old = stored.select(
        *(pl.col(c).cast(new.schema[c]) for c in shape.key),
        *(pl.col(c).cast(new.schema[c]).alias(f"{c}__stored") for c in shape.compared),
    ).with_columns(pl.lit(True).alias("__stored"))
    joined = new.join(old, on=list(shape.key), how="left")
    fresh = joined.filter(pl.col("__stored").is_null()).select(new.columns)
    present = joined.filter(pl.col("__stored").is_not_null())
    differs = [~pl.col(c).eq_missing(pl.col(f"{c}__stored")) for c in shape.compared]
    clashing = present.filter(pl.any_horizontal(differs))
    for row in clashing.iter_rows(named=True):
        first = next(c for c in shape.compared if row[c] != row[f"{c}__stored"])
        column = shape.contract_column.get(first, first)
        match = {column: row[held] for column, held in shape.contract_key.items()}
        conflicts.refuse(
            table,
            match,
            column,
            f"already in the store with other content ({_what(first, row[f'{first}__stored'])}); "
            "an import never changes a stored row",
        )
    return fresh, present.height - clashing.height


def _what(column: str, stored: object) -> str:
    if column == "content":
        return "this payment_id was posted for another account, time, amount or channel"
    shown = masked(str(stored)) if column in PERSONAL_COLUMNS else str(stored)
    return f"{column} = {shown}"
