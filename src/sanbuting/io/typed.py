"""One column's values, as text or typed: how they become the loaded dtype, whether they pass
the contract's value checks, and how a typed value reads as text.

A column reaches the checks in one of two forms. As *text*: every CSV cell, and a Parquet
column of strings or of a type the contract does not name, trimmed, null when empty. As
*typed* values: a Parquet column already of the contract's type (an integer column for fen,
Date for dates, Datetime with a time zone for timestamps), used as it is, never turned into
text. `typed_form` admits a column only when each of its values, written out with `as_text`
and read back as text, is the same value and meets the same checks, so the form a file
arrives in never changes what loads or what is refused; any other column is read as text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from sanbuting.domain import MAX_FEN, SHANGHAI
from sanbuting.io.contract import Column
from sanbuting.io.ids import id_passes
from sanbuting.io.phones import phone_passes
from sanbuting.io.texts import text_passes
from sanbuting.regions import districts

LINE = "__line"
"""The column holding each row's line number (header = 1 in CSV, 1-based row in Parquet)."""

INTEGER = r"^-?[0-9]+$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PERIOD = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})$"
)
NAIVE_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$"
DISTRICT_SHAPE = r"^[0-9]{6}$"

_INTEGERS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)
"""Integer dtypes whose every value is an Int64 (UInt64 is not: it is read as text)."""

_EPOCH = date(1970, 1, 1)
_DAYS = ((date(1, 1, 1) - _EPOCH).days, (date(9999, 12, 31) - _EPOCH).days)
"""Dates as days since 1970: the years 1-9999, the ones written with four digits."""

_INSTANTS = (
    int(datetime(1973, 1, 1, tzinfo=UTC).timestamp()),
    int(datetime(9000, 1, 1, tzinfo=UTC).timestamp()),
)
"""Instants as seconds since 1970 whose local time is written exactly in every time zone: from
1973 every zone's UTC offset is a whole number of minutes (the last one that was not,
Africa/Monrovia's -00:44:30, ended in January 1972), and the year keeps four digits."""

_PER_SECOND = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def parsed(name: str) -> str:
    """The working column holding `name`'s loaded (typed) value."""
    return f"__parsed_{name}"


# --- which form -----------------------------------------------------------------------------


def typed_form(column: Column | None, values: pl.Series) -> bool:
    """Whether the Parquet column `values`, read for the contract's `column` (None: a column
    the contract does not have), is checked as typed values rather than as text."""
    if column is None:
        return False
    dtype = values.dtype
    match column.kind:
        case "integer":
            return dtype in _INTEGERS
        case "date":
            return dtype == pl.Date and _within(values.to_physical(), *_DAYS)
        case "timestamp":
            if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
                return False
            ticks = values.to_physical()
            if dtype.time_unit == "ns" and bool((ticks % 1000 != 0).any()):
                return False  # finer than the microseconds a timestamp is written with
            per_second = _PER_SECOND[dtype.time_unit]
            first, last = _INSTANTS
            return _within(ticks, first * per_second, last * per_second - 1)
        case _:
            return False


def _within(values: pl.Series, low: int, high: int) -> bool:
    smallest, largest = values.min(), values.max()
    if smallest is None or largest is None:
        return True  # no values at all
    assert isinstance(smallest, int)
    assert isinstance(largest, int)
    return low <= smallest and largest <= high


def is_text(dtype: pl.DataType) -> bool:
    """Whether a column of `dtype` reaches the checks as text (else: as typed values)."""
    return dtype == pl.String


# --- as text --------------------------------------------------------------------------------


def as_text(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A typed Parquet column as the text a CSV export would hold, so both formats are checked
    the same way (a float stays `12.5`, to be refused as an integer, never rounded)."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return value.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
        return value.dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
    if isinstance(dtype, pl.Date):
        return value.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.List | pl.Array):
        return value.cast(pl.List(pl.String)).list.join(";")
    return value.cast(pl.String)


def trimmed(text: pl.Expr) -> pl.Expr:
    """Text trimmed of surrounding whitespace, null when nothing is left."""
    return text.str.strip_chars().replace("", None)


# --- loaded values --------------------------------------------------------------------------


def parse(column: Column, dtype: pl.DataType) -> pl.Expr:
    """The column's loaded value (named `parsed(column.name)`): null where text does not
    parse; the default where the cell is empty."""
    value = _parse_text(column) if is_text(dtype) else _parse_typed(column)
    return value.cast(column.dtype).alias(parsed(column.name))


def _parse_typed(column: Column) -> pl.Expr:
    value = pl.col(column.name)
    match column.kind:
        case "integer":
            value = value.cast(pl.Int64)
            if column.default is not None:
                value = value.fill_null(int(column.default))
            return value
        case "timestamp":
            return value.dt.cast_time_unit("us").dt.convert_time_zone(SHANGHAI.key)
        case _:
            return value


def _parse_text(column: Column) -> pl.Expr:
    text = pl.col(column.name)
    if column.default is not None:
        text = text.fill_null(pl.lit(column.default))
    match column.kind:
        case "integer":
            return pl.when(text.str.contains(INTEGER)).then(text.cast(pl.Int64, strict=False))
        case "date":
            return pl.when(text.str.contains(DATE)).then(text.str.to_date("%Y-%m-%d", strict=False))
        case "timestamp":
            return _parse_timestamp(text)
        case "tags":
            return (
                text.str.split(";")
                .list.eval(pl.element().str.strip_chars())
                .list.eval(pl.element().filter(pl.element() != ""))
                .fill_null(pl.lit([], dtype=pl.List(pl.String())))
            )
        case _:
            return text


def _parse_timestamp(text: pl.Expr) -> pl.Expr:
    # Only text of the form `TIMESTAMP` is parsed: its one space (if any) is the date's
    # separator and its one `Z` (if any) the offset, and it gets `:00` where it has no seconds,
    # so one format reads every form.
    iso = (
        text.str.replace(" ", "T", literal=True)
        .str.replace("Z", "+00:00", literal=True)
        .str.replace(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2})([+-])", "${1}:00${2}")
    )
    moment = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
    return pl.when(text.str.contains(TIMESTAMP)).then(moment).dt.convert_time_zone(SHANGHAI.key)


# --- value checks ---------------------------------------------------------------------------


def known_regions() -> pl.Series:
    """The district codes a region column accepts."""
    return pl.Series([region.code for region in districts()], dtype=pl.String)


def passes(column: Column, dtype: pl.DataType, *, values: bool = True) -> pl.Expr:
    """Per row, whether the column (of `dtype`, as the checks receive it) meets every value
    check; `sanbuting.io.reasons` says why one does not. It looks at the loaded value, which
    a typed value of `typed_form` always has and a text one only when it parsed. With
    `values=False` only a required value's presence is checked (the caller tests the values
    another way, e.g. an account reference against the loaded accounts)."""
    value = pl.col(parsed(column.name))
    good: pl.Expr
    match column.kind if values else None:
        case "id":
            good = id_passes(value)
        case "phone":
            good = phone_passes(value)
        case "text" | "tags" if column.max_length is not None:
            good = text_passes(pl.col(column.name), column.max_length)
        case "enum":
            good = value.is_in(column.values)
        case "region":
            known = known_regions()
            good = value.is_in(known.filter(known.str.contains(DISTRICT_SHAPE)).implode())
        case "integer":
            low = -MAX_FEN if column.minimum is None else max(-MAX_FEN, column.minimum)
            good = value.is_between(low, MAX_FEN)
        case "date" if is_text(dtype):
            good = value.dt.year() >= 1  # typed dates are in the years 1-9999 (`typed_form`)
        case "period":
            good = value.str.contains(PERIOD)
        case "timestamp":
            good = value.is_not_null()
        case _:
            good = pl.lit(True)
    raw = pl.col(column.name)
    if column.required:
        return raw.is_not_null() & good.fill_null(False)
    return raw.is_null() | good.fill_null(False)
