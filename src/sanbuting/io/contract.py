"""What each input file holds, as data: the one place that says which columns the contract's
tables have, which are required, their defaults, types, allowed values and the rules that tie
rows together (unique ids, references to accounts, due date after issue date).

The readers (`sanbuting.io.readers`) check a file against its `TableSpec`; the loaded frames
have exactly the schema `TableSpec.schema` gives, so the engines can rely on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from sanbuting.domain import SHANGHAI, AccountState, BillingMode, CustomerClass, Utility

Kind = Literal[
    "id", "phone", "text", "enum", "region", "integer", "date", "period", "timestamp", "tags"
]
"""How a column's text is checked and what it becomes once loaded (`id`: `sanbuting.io.ids`;
`phone`: `sanbuting.io.phones`; `text` and `tags`: free text, `sanbuting.io.texts`)."""

LOCAL_TIME = pl.Datetime("us", SHANGHAI.key)
"""The dtype of loaded timestamps: business time, Asia/Shanghai."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an input table.

    `required`: the column must be in the file and every row must give a value.
    `default`: the value (as text) an empty cell or an absent column stands for; a column that
    is neither required nor defaulted loads an empty cell as null (`tags`: as an empty list).
    `minimum`: the smallest accepted integer (1 means "> 0", 0 means ">= 0").
    `max_length`: the most characters of free text (`text` and `tags` columns).
    """

    name: str
    kind: Kind
    dtype: pl.DataType
    required: bool = False
    default: str | None = None
    values: tuple[str, ...] = ()
    minimum: int | None = None
    max_length: int | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Derived:
    """A column the reader adds to a loaded table, computed from `source`."""

    name: str
    source: str
    dtype: pl.DataType
    notes: str = ""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One input table: its base name (`accounts` for `accounts.csv` or `accounts.parquet`),
    whether the file must be there, its columns and the rules across rows and tables."""

    name: str
    required_file: bool
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...] = ()
    """Columns whose values identify a row: every later row with the same key is rejected."""
    idempotency_key: str | None = None
    """A key whose repeats are no-ops when the content matches, rejects when it differs."""
    account_ref: str | None = None
    """A column that must name an account loaded from accounts."""
    only_mode: str | None = None
    """Rows may only refer to accounts of this billing mode (usage: prepaid; bills: postpaid)."""
    not_before: tuple[tuple[str, str], ...] = ()
    """Pairs (a, b) of date columns where a must be on or after b."""
    derived: tuple[Derived, ...] = ()
    notes: str = ""

    def column(self, name: str) -> Column:
        """The column called `name` (a KeyError for a name the table does not have)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    @property
    def schema(self) -> pl.Schema:
        """The loaded frame's columns and dtypes, in order (derived ones after their source)."""
        fields: list[tuple[str, pl.DataType]] = []
        for column in self.columns:
            fields.append((column.name, column.dtype))
            fields.extend((d.name, d.dtype) for d in self.derived if d.source == column.name)
        return pl.Schema(fields)

    def empty(self) -> pl.DataFrame:
        """A frame with no rows and the loaded schema (an absent optional file)."""
        return pl.DataFrame(schema=self.schema)


def _values(enum: type[Utility | CustomerClass | BillingMode | AccountState]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


FEN = pl.Int64()
TEXT = pl.String()

ACCOUNTS = TableSpec(
    name="accounts",
    required_file=True,
    columns=(
        Column("account_id", "id", TEXT, required=True, notes="unique (戶號)"),
        Column("utility", "enum", TEXT, required=True, values=_values(Utility)),
        Column("customer_class", "enum", TEXT, required=True, values=_values(CustomerClass)),
        Column(
            "region",
            "region",
            TEXT,
            required=True,
            notes="6-digit GB/T 2260 code that exists in the shipped table, e.g. 440305",
        ),
        Column(
            "billing_mode",
            "enum",
            TEXT,
            default=BillingMode.POSTPAID.value,
            values=_values(BillingMode),
        ),
        Column(
            "tags",
            "tags",
            pl.List(pl.String()),
            max_length=500,
            notes="';'-separated, e.g. hospital;epidemic_key; trimmed, empty items dropped",
        ),
        Column(
            "state",
            "enum",
            TEXT,
            default=AccountState.ACTIVE.value,
            values=_values(AccountState),
            notes="as of the start date",
        ),
        Column("balance_fen", "integer", FEN, default="0", notes="prepaid balance at start"),
        Column(
            "credit_limit_fen",
            "integer",
            FEN,
            default="0",
            minimum=0,
            notes="telecom credit (信用額度)",
        ),
        Column(
            "phone",
            "phone",
            TEXT,
            notes="a mobile or a fixed line with its area code; never printed unmasked",
        ),
    ),
    unique_key=("account_id",),
    notes="one row per account",
)

BILLS = TableSpec(
    name="bills",
    required_file=True,
    columns=(
        Column("bill_id", "id", TEXT, required=True, notes="unique"),
        Column("account_id", "id", TEXT, required=True, notes="must exist in accounts"),
        Column("period", "period", TEXT, required=True, notes="YYYY-MM, the billing period"),
        Column("issued_on", "date", pl.Date(), required=True, notes="抄表出賬 date"),
        Column("due_on", "date", pl.Date(), required=True, notes="on or after issued_on"),
        Column("amount_fen", "integer", FEN, required=True, minimum=1),
    ),
    unique_key=("bill_id",),
    account_ref="account_id",
    only_mode="postpaid",
    not_before=(("due_on", "issued_on"),),
    notes="one row per bill",
)

PAYMENTS = TableSpec(
    name="payments",
    required_file=False,
    columns=(
        Column("payment_id", "id", TEXT, required=True, notes="the idempotency key"),
        Column("account_id", "id", TEXT, required=True, notes="must exist in accounts"),
        Column(
            "paid_at",
            "timestamp",
            LOCAL_TIME,
            required=True,
            notes="ISO 8601 with a UTC offset, e.g. 2020-02-03T10:15:00+08:00",
        ),
        Column("amount_fen", "integer", FEN, required=True, minimum=1),
        Column(
            "channel", "text", TEXT, max_length=32, notes="app, counter, bank, kiosk, 营业厅, ..."
        ),
    ),
    idempotency_key="payment_id",
    account_ref="account_id",
    derived=(
        Derived(
            "paid_on",
            "paid_at",
            pl.Date(),
            notes="the Asia/Shanghai date of paid_at: the day whose run sees the payment",
        ),
    ),
    notes="one row per payment; may be empty or absent",
)

USAGE = TableSpec(
    name="usage",
    required_file=False,
    columns=(
        Column("account_id", "id", TEXT, required=True, notes="a prepaid account"),
        Column("date", "date", pl.Date(), required=True),
        Column("amount_fen", "integer", FEN, required=True, minimum=0),
    ),
    unique_key=("account_id", "date"),
    account_ref="account_id",
    only_mode="prepaid",
    notes="daily consumption charged against the prepaid balance; optional",
)

HOLD_KINDS = ("hold", "promise", "instalments", "waive_fee")
HOLD_REASONS = ("dispute", "medical", "hardship", "disaster", "other")

HOLDS = TableSpec(
    name="holds",
    required_file=False,
    columns=(
        Column("hold_id", "id", TEXT, required=True, notes="unique: the desk's reference"),
        Column("account_id", "id", TEXT, required=True, notes="must exist in accounts"),
        Column("kind", "enum", TEXT, required=True, values=HOLD_KINDS),
        Column("from", "date", pl.Date(), required=True, notes="the first day it acts"),
        Column(
            "until",
            "date",
            pl.Date(),
            notes="hold: the last day it acts; promise: the day promised by; instalments: "
            "empty or the last part's due day",
        ),
        Column("steps", "enum", TEXT, default="all", values=("all", "notice"), notes="hold only"),
        Column("amount_fen", "integer", FEN, minimum=1, notes="promise and instalments"),
        Column("instalments", "integer", FEN, minimum=2, notes="instalments only: 2 to 60"),
        Column("reason", "enum", TEXT, required=True, values=HOLD_REASONS),
        Column("set_by", "text", TEXT, required=True, max_length=64, notes="who set it"),
    ),
    unique_key=("hold_id",),
    account_ref="account_id",
    not_before=(("until", "from"),),
    notes="account relief: locks, promises to pay, instalment plans (docs/account-relief.md)",
)

TABLES: tuple[TableSpec, ...] = (ACCOUNTS, BILLS, PAYMENTS, USAGE, HOLDS)
"""Every input table, in the order they are read and their rejects are sorted."""

TABLE_ORDER = {spec.name: rank for rank, spec in enumerate(TABLES)}

PERSONAL_COLUMNS = frozenset(
    column.name for spec in TABLES for column in spec.columns if column.kind == "phone"
)
"""Columns holding personal data: a reject shows their value masked."""
