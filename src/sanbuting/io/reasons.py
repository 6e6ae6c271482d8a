"""Why rows are refused: the contract's checks of one table, as text, giving each problem
its reject (file, line, column, value, reason).

The input is a frame of trimmed text (null for an empty cell) with a line-number column. Every
check is a Polars expression giving, per row and column, either null (fine) or the reason the
value is refused; only the refused rows ever become Python objects. A row with any problem is
not loaded; each problem is one reject (at most one per column: the first problem found in
it). `sanbuting.io.checks` runs these checks only on the rows its quick pass over the whole
table finds suspect, which keeps them exactly as they read here for any input.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sanbuting.domain import MAX_FEN
from sanbuting.io.contract import Column, TableSpec
from sanbuting.io.ids import id_rules
from sanbuting.io.phones import NOT_A_PHONE, phone_passes
from sanbuting.io.rejects import Reject, shown_value
from sanbuting.io.texts import text_rules
from sanbuting.io.typed import (
    DATE,
    DISTRICT_SHAPE,
    INTEGER,
    LINE,
    NAIVE_TIMESTAMP,
    PERIOD,
    TIMESTAMP,
    known_regions,
    parse,
    parsed,
)

EMPTY = "required value is empty"
UNKNOWN_ACCOUNT = "no account with this account_id in {accounts}"
REJECTED_ACCOUNT = "the account's own row was rejected in {accounts}, so this row is not loaded"
WRONG_MODE = {
    "prepaid": "usage is for prepaid accounts only: this account is postpaid",
    "postpaid": "bills are for postpaid accounts only: a prepaid account's consumption goes in "
    "usage",
}


def problem(name: str) -> str:
    """The working column holding the reason `name`'s value is refused (null when fine)."""
    return f"__problem_{name}"


STATUS = "__account"
"""The column of `Accounts.status` holding an account's billing mode, or `REJECTED`."""
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Accounts:
    """What the other tables need to know of the accounts: `status` has one row per account
    id that appears in the accounts file, with `__account` its billing mode when it loaded,
    `rejected` when it did not (an id not listed at all is unknown)."""

    file: str
    status: pl.DataFrame


@dataclass(frozen=True, slots=True)
class Checked:
    """One table after checking: the loaded frame, the rejects, the rows ignored as no-ops,
    and the rows not loaded (rejected or ignored), as text with their `LINE`."""

    frame: pl.DataFrame
    rejects: list[Reject]
    ignored: int
    refused: pl.DataFrame


# --- per-value checks ---------------------------------------------------------------------


def _value_problem(column: Column) -> pl.Expr:
    raw = pl.col(column.name)
    value = pl.col(parsed(column.name))
    rules: list[tuple[pl.Expr, str | pl.Expr]] = []
    match column.kind:
        case "id":
            rules.extend(id_rules(raw))
        case "phone":
            rules.append((~phone_passes(raw), NOT_A_PHONE))
        case "text" | "tags" if column.max_length is not None:
            rules.extend(text_rules(raw, column.max_length))
        case "enum":
            expected = ", ".join(column.values)
            rules.append(
                (~value.is_in(column.values), f"unknown value: expected one of {expected}")
            )
        case "region":
            rules.append(
                (
                    ~value.str.contains(DISTRICT_SHAPE),
                    "expected a 6-digit GB/T 2260 district code, e.g. 440305",
                )
            )
            rules.append(
                (
                    ~value.is_in(known_regions().implode()),
                    "region code is not in the GB/T 2260 table",
                )
            )
        case "integer":
            rules.append(
                (
                    ~raw.str.contains(INTEGER),
                    "expected a whole number of fen: digits with an optional leading minus, "
                    "e.g. 1250",
                )
            )
            rules.append(
                (
                    value.is_null() | (value > MAX_FEN) | (value < -MAX_FEN),
                    f"out of range: at most {MAX_FEN} fen either way",
                )
            )
            if column.minimum is not None:
                bound = "> 0" if column.minimum == 1 else f">= {column.minimum}"
                rules.append((value < column.minimum, f"must be {bound}"))
        case "date":
            rules.append((~raw.str.contains(DATE), "expected a date YYYY-MM-DD, e.g. 2020-03-01"))
            rules.append(
                (value.is_null() | (value.dt.year() < 1), "not a real calendar date (YYYY-MM-DD)")
            )
        case "period":
            rules.append(
                (
                    ~value.str.contains(PERIOD),
                    "expected a billing period YYYY-MM with month 01-12, e.g. 2020-01",
                )
            )
        case "timestamp":
            rules.append(
                (
                    raw.str.contains(NAIVE_TIMESTAMP),
                    "timestamp has no UTC offset: add one, e.g. 2020-02-03T10:15:00+08:00",
                )
            )
            rules.append(
                (
                    ~raw.str.contains(TIMESTAMP),
                    "expected an ISO 8601 timestamp with a UTC offset, "
                    "e.g. 2020-02-03T10:15:00+08:00",
                )
            )
            rules.append((value.is_null(), "not a real date and time"))
        case _:
            pass
    missing = pl.lit(EMPTY if column.required else None, dtype=pl.String)
    return _first(
        pl.when(raw.is_null()).then(missing),
        *(
            pl.when(raw.is_not_null() & condition).then(
                pl.lit(reason) if isinstance(reason, str) else reason
            )
            for condition, reason in rules
        ),
    ).alias(problem(column.name))


def _first(*reasons: pl.Expr) -> pl.Expr:
    """The first reason that applies (each is null where it does not)."""
    return pl.coalesce(*reasons, pl.lit(None, dtype=pl.String))


def _add(name: str, reason: pl.Expr) -> pl.Expr:
    """Keep the column's first problem; add `reason` only where it has none yet."""
    return pl.coalesce(pl.col(problem(name)), reason).alias(problem(name))


# --- rules across columns, rows and tables ------------------------------------------------


def _not_before(later: str, earlier: str) -> pl.Expr:
    too_early = pl.col(parsed(later)) < pl.col(parsed(earlier))
    reason = pl.format(f"must be on or after {earlier} ({{}})", pl.col(earlier))
    return _add(later, pl.when(too_early).then(reason))


def _unique(key: tuple[str, ...]) -> pl.Expr:
    first = pl.col(LINE).min().over(list(key))
    present = pl.all_horizontal(pl.col(name).is_not_null() for name in key)
    label = key[0] if len(key) == 1 else f"({', '.join(key)})"
    reason = pl.format(
        f"duplicate {label}: first used at line {{}}; every later row with it is rejected", first
    )
    return _add(key[-1], pl.when(present & (pl.col(LINE) > first)).then(reason))


def _account_ref(
    plan: pl.LazyFrame, name: str, accounts: Accounts, *, only_mode: str | None
) -> pl.LazyFrame:
    """Refuse rows whose account `name` is unknown, was rejected, or (with `only_mode`)
    is of the other billing mode. One hash join, not a lookup per row."""
    status = pl.col(STATUS)
    reasons = [
        pl.when(status.is_null()).then(pl.lit(UNKNOWN_ACCOUNT.format(accounts=accounts.file))),
        pl.when(status == REJECTED).then(pl.lit(REJECTED_ACCOUNT.format(accounts=accounts.file))),
    ]
    if only_mode is not None:
        reasons.append(pl.when(status != only_mode).then(pl.lit(WRONG_MODE[only_mode])))
    lookup = accounts.status.lazy().rename({"account_id": name})
    return (
        plan.join(lookup, on=name, how="left", maintain_order="left")
        .with_columns(_add(name, pl.when(pl.col(name).is_not_null()).then(_first(*reasons))))
        .drop(STATUS)
    )


def _content(spec: TableSpec, key: str) -> pl.Expr:
    """A row's content apart from its idempotency key, comparable across rows: typed values
    where they parsed (so `+08:00` and `Z` forms of one instant agree), text otherwise."""
    parts = []
    for column in spec.columns:
        if column.name == key:
            continue
        typed = pl.col(parsed(column.name))
        if column.kind == "timestamp":
            typed = typed.dt.epoch("us")
        parts.append(
            pl.when(typed.is_not_null())
            .then(pl.lit("v:") + typed.cast(pl.String))
            .when(pl.col(column.name).is_not_null())
            .then(pl.lit("t:") + pl.col(column.name))
            .otherwise(pl.lit("-"))
        )
    return pl.concat_str(parts, separator="\x1f")


_FIRST = "__first_line"
_NOOP = "__noop"


def _repeats(checked: pl.DataFrame, spec: TableSpec, key: str) -> pl.DataFrame:
    """Settle the rows whose idempotency `key` appeared on an earlier line (`_FIRST` holds
    that line): a repeat whose content differs from the first row's is refused; one that
    matches it exactly and has no other problem is a no-op (`_NOOP`), dropped without a
    reject, since the first row stands for both. Only the repeats are compared, so the cost
    stays small when repeats are rare."""
    repeat = pl.col(key).is_not_null() & (pl.col(LINE) > pl.col(_FIRST))
    repeats = checked.filter(repeat)
    if repeats.is_empty():
        return checked.with_columns(pl.lit(False).alias(_NOOP))
    content = _content(spec, key)
    clean = pl.all_horizontal(pl.col(problem(column.name)).is_null() for column in spec.columns)
    firsts = checked.filter(pl.col(LINE).is_in(repeats.get_column(_FIRST).unique().implode()))
    pairs = repeats.select(LINE, _FIRST, content.alias("content"), clean.alias("clean")).join(
        firsts.select(pl.col(LINE).alias(_FIRST), content.alias("first_content")),
        on=_FIRST,
        how="left",
    )
    same = pl.col("content") == pl.col("first_content")
    noops = pairs.filter(same & pl.col("clean")).get_column(LINE)
    conflicts = pairs.filter(~same).select(LINE, pl.col(_FIRST).alias("__conflict"))
    others = ", ".join(column.name for column in spec.columns if column.name != key)
    reason = pl.format(
        f"{key} already used at line {{}} with different content; a repeat must match the "
        f"first exactly ({others})",
        pl.col("__conflict"),
    )
    return (
        checked.join(conflicts, on=LINE, how="left", maintain_order="left")
        .with_columns(
            _add(key, pl.when(pl.col("__conflict").is_not_null()).then(reason)),
            pl.col(LINE).is_in(noops.implode()).alias(_NOOP),
        )
        .drop("__conflict")
    )


# --- the table ----------------------------------------------------------------------------


def check_text(
    text: pl.DataFrame, spec: TableSpec, *, file: str, accounts: Accounts | None
) -> Checked:
    """Check `text` (trimmed text columns named as in `spec`, null for empty, plus `LINE`)
    and return the loaded rows in input order with the rejects of the others."""
    names = [column.name for column in spec.columns]
    plan = (
        text.lazy()
        .with_columns(parse(column, pl.String()) for column in spec.columns)
        .with_columns(_value_problem(column) for column in spec.columns)
    )
    for later, earlier in spec.not_before:
        plan = plan.with_columns(_not_before(later, earlier))
    if spec.unique_key:
        plan = plan.with_columns(_unique(spec.unique_key))
    if spec.account_ref is not None and accounts is not None:
        plan = _account_ref(plan, spec.account_ref, accounts, only_mode=spec.only_mode)
    if spec.idempotency_key is not None:
        key = spec.idempotency_key
        plan = plan.with_columns(pl.col(LINE).min().over(key).alias(_FIRST))
        checked = _repeats(plan.collect(), spec, key)
    else:
        checked = plan.with_columns(pl.lit(False).alias(_NOOP)).collect()

    keep = pl.all_horizontal(pl.col(problem(name)).is_null() for name in names) & ~pl.col(_NOOP)
    return Checked(
        frame=checked.filter(keep).select(loaded_columns(spec)).cast(spec.schema),
        rejects=_rejects(checked, names, file),
        ignored=int(checked.get_column(_NOOP).sum()),
        refused=checked.filter(~keep).select(*names, LINE),
    )


def loaded_columns(spec: TableSpec) -> list[pl.Expr]:
    """The loaded frame's columns, from the parsed values (derived ones after their source)."""
    columns: list[pl.Expr] = []
    for column in spec.columns:
        columns.append(pl.col(parsed(column.name)).alias(column.name))
        columns.extend(
            pl.col(parsed(d.source)).dt.date().alias(d.name)
            for d in spec.derived
            if d.source == column.name
        )
    return columns


def _rejects(checked: pl.DataFrame, names: list[str], file: str) -> list[Reject]:
    parts = [
        checked.filter(pl.col(problem(name)).is_not_null()).select(
            pl.col(LINE).cast(pl.Int64).alias("line"),
            pl.lit(name).alias("column"),
            pl.col(name).fill_null("").alias("value"),
            pl.col(problem(name)).alias("reason"),
        )
        for name in names
    ]
    found = pl.concat(parts).sort("line", "column", "reason", "value", maintain_order=True)
    return [
        Reject(file=file, line=line, column=column, value=shown_value(column, value), reason=reason)
        for line, column, value, reason in found.iter_rows()
    ]


def accounts_of(refused: pl.DataFrame, loaded: pl.DataFrame, file: str) -> Accounts:
    """The accounts the other tables are checked against: `loaded` the accounts that passed
    their checks, `refused` the rows of the accounts file that did not load (as text)."""
    status = loaded.select("account_id", pl.col("billing_mode").alias(STATUS))
    if "account_id" in refused.columns:
        listed = refused.select(pl.col("account_id").drop_nulls().unique())
        rejected = listed.join(status, on="account_id", how="anti").with_columns(
            pl.lit(REJECTED).alias(STATUS)
        )
        status = pl.concat([status, rejected])
    return Accounts(file=file, status=status)
