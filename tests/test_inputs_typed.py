"""Typed Parquet columns are checked as typed values, with the very result the same data gives
as CSV text: the loaded frames, every reject (line, column, value, reason), the repeated
payments ignored. Also: which Parquet columns take the typed path, and that the quick pass
over every row finds every row the exact checks refuse."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from sanbuting.io import readers
from sanbuting.io.checks import check_table, repeated
from sanbuting.io.contract import ACCOUNTS, BILLS, PAYMENTS, USAGE, TableSpec
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.reasons import Accounts, Checked, check_text
from sanbuting.io.typed import LINE, as_text, trimmed, typed_form
from test_inputs import TABLES, as_parquet_reject

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPECS = {spec.name: spec for spec in (ACCOUNTS, BILLS, PAYMENTS, USAGE)}
MAX = 10**15
AT = datetime(2020, 2, 3, 10, 15, tzinfo=SHANGHAI)

# --- building folders ---------------------------------------------------------------------


def frame(rows: list[tuple[Any, ...]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def cell(value: object) -> str:
    """A typed value as a CSV export would write it (the text the typed path stands for)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def write(folder: Path, **tables: pl.DataFrame) -> tuple[Path, Path]:
    """Each table as typed Parquet in `folder/parquet` and as CSV text in `folder/csv`."""
    parquet, text = folder / "parquet", folder / "csv"
    parquet.mkdir()
    text.mkdir()
    for name, table in tables.items():
        table.write_parquet(parquet / f"{name}.parquet")
        with (text / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows([cell(value) for value in row] for row in table.iter_rows())
    return parquet, text


def assert_same(from_csv: Inputs, from_parquet: Inputs) -> None:
    for table in TABLES:
        assert_frame_equal(getattr(from_csv, table), getattr(from_parquet, table))
    assert from_parquet.rejects == [as_parquet_reject(r) for r in from_csv.rejects]
    assert from_parquet.duplicate_payments_ignored == from_csv.duplicate_payments_ignored
    assert list(from_parquet.rows_read.values()) == list(from_csv.rows_read.values())


def all_rows_as_text(
    table: pl.DataFrame, spec: TableSpec, *, file: str, accounts: Accounts | None
) -> Checked:
    """The exact checks run on every row as text: what `check_table` must agree with."""
    names = [column.name for column in spec.columns]
    text = table.select(*(trimmed(as_text(pl.col(n), table.schema[n])) for n in names), LINE)
    return check_text(text, spec, file=file, accounts=accounts)


# --- every bad value a typed column can hold ---------------------------------------------

ACCOUNT_SCHEMA = {
    "account_id": pl.String(), "utility": pl.String(), "customer_class": pl.String(),
    "region": pl.String(), "billing_mode": pl.String(), "tags": pl.List(pl.String()),
    "state": pl.String(), "balance_fen": pl.Int64(), "credit_limit_fen": pl.Int32(),
    "phone": pl.String(),
}  # fmt: skip
BILL_SCHEMA = {
    "bill_id": pl.String(), "account_id": pl.String(), "period": pl.String(),
    "issued_on": pl.Date(), "due_on": pl.Date(), "amount_fen": pl.Int64(),
}  # fmt: skip
PAYMENT_SCHEMA = {
    "payment_id": pl.String(), "account_id": pl.String(),
    "paid_at": pl.Datetime("us", "Asia/Shanghai"), "amount_fen": pl.Int64(),
    "channel": pl.String(),
}  # fmt: skip
USAGE_SCHEMA = {"account_id": pl.String(), "date": pl.Date(), "amount_fen": pl.Int32()}

D5, D20 = date(2020, 1, 5), date(2020, 1, 20)

BAD_ACCOUNTS = frame(
    [
        ("A001", "power", "residential", "440305", "postpaid", ["hospital", " epidemic_key ", ""],
         "active", 0, 0, "13812345678"),
        ("A002", "gas", "residential", "420102", "prepaid", [], None, 500, None, None),
        ("A003", "telecom", "non_residential", "110101", None, None, "suspended", None, 5000, "  "),
        (None, "power", "residential", "440305", None, None, None, None, None, None),
        ("A005", "water", "residential", "440305", None, None, None, None, None, None),
        ("A006", "power", "household", "440305", None, None, None, None, None, None),
        ("A007", "power", "residential", "4403", None, None, None, None, None, None),
        ("A008", "power", "residential", "999999", None, None, None, None, None, None),
        ("A009", "power", "residential", "440305", "credit", None, None, None, None, None),
        ("A010", "power", "residential", "440305", None, None, "closed", None, None, None),
        ("A011", "power", "residential", "440305", None, None, None, MAX + 1, None, None),
        ("A012", "telecom", "residential", "440305", None, None, None, None, -100, None),
        ("A001", "gas", "residential", "440305", None, None, None, None, None, None),
        ("A014", None, "residential", "440305", None, None, None, None, None, None),
        (" A015 ", " gas ", "residential", " 420102", "prepaid", ["x;y"], None, -MAX, None, None),
        ("A016", "power", "residential", "440305", None, None, None, -MAX - 1, 2**31 - 1, None),
        ("A017", "gas", "residential", "420102", "prepaid", None, None, 300, None, None),
        (None, None, None, None, None, None, None, None, None, None),
        ("A019", "power", None, None, None, None, None, None, None, None),
    ],
    ACCOUNT_SCHEMA,
)  # fmt: skip

BAD_BILLS = frame(
    [
        ("B001", "A001", "2020-01", D5, D20, 1000),
        ("B002", "A001", "2020-01", D5, D20, None),
        ("B003", "A001", "2020-13", D5, D20, 1000),
        ("B004", "A001", "2020-01", None, D20, 1000),
        ("B005", "A001", "2020-01", D5, date(2020, 1, 4), 1000),
        ("B006", "A001", "2020-01", D5, D20, 0),
        ("B007", "A001", "2020-01", D5, D20, -5),
        ("B008", "A001", "2020-01", D5, D20, MAX + 1),
        ("B001", "A001", "2020-02", D5, D20, 1000),
        ("B010", "NOPE", "2020-01", D5, D20, 1000),
        ("B011", "A005", "2020-01", D5, D20, 1000),
        ("B012", "A002", "2020-01", D5, D20, 1000),
        ("B013", None, "2020-01", D5, D20, 1000),
        ("B014", "A003", "2020-01", D5, D5, MAX),
        ("B015", "A015", "2020-01", D5, D20, 1000),
        ("B016", "A001", "2020-1", D5, D20, 0),
        ("B017", "A001", "2020-01", date(999, 1, 1), date(9999, 12, 31), 1),
        ("B001", "A001", "2020-01", D5, D20, 1000),
        ("B019", "A001", "2020-01", D20, D5, None),
    ],
    BILL_SCHEMA,
)

BAD_PAYMENTS = frame(
    [
        ("P001", "A001", AT, 1000, "app"),
        ("P001", "A001", AT, 1000, "app"),
        ("P001", "A001", AT, 2000, "app"),
        ("P004", "A001", None, 1000, "bank"),
        ("P005", "A001", AT, 0, "bank"),
        ("P006", "NOPE", AT, 1000, "bank"),
        (None, "A001", AT, 1000, "bank"),
        ("P008", "A002", AT, 500, None),
        ("P009", "A005", AT, 1000, "bank"),
        ("P001", "A001", AT, 1000, None),
        ("P011", "A001", datetime(2020, 2, 4, 9, 0, 0, 500000, tzinfo=SHANGHAI), 1, " kiosk "),
        ("P012", "A001", AT, MAX + 1, "bank"),
        ("P008", "A002", AT, 0, None),
        ("P008", "A002", AT, 500, None),
        ("P015", "A001", None, None, None),
    ],
    PAYMENT_SCHEMA,
)

BAD_USAGE = frame(
    [
        ("A002", date(2020, 2, 1), 100),
        ("A002", date(2020, 2, 2), 0),
        ("A002", date(2020, 2, 1), 120),
        ("A001", date(2020, 2, 1), 100),
        ("A002", date(2020, 2, 3), -1),
        ("NOPE", date(2020, 2, 1), 100),
        ("A009", date(2020, 2, 1), 100),
        ("A002", None, 100),
        (None, None, None),
        ("A017", date(2020, 2, 1), 5),
        ("A002", date(2020, 2, 4), None),
        ("A017", date(2020, 2, 1), 5),
        (None, date(2020, 2, 1), 5),
    ],
    USAGE_SCHEMA,
)


def test_typed_columns_take_the_typed_path() -> None:
    typed = {
        name: [c.name for c in SPECS[name].columns if typed_form(c, table.get_column(c.name))]
        for name, table in (("accounts", BAD_ACCOUNTS), ("bills", BAD_BILLS),
                            ("payments", BAD_PAYMENTS), ("usage", BAD_USAGE))
    }  # fmt: skip

    assert typed == {
        "accounts": ["balance_fen", "credit_limit_fen"],
        "bills": ["issued_on", "due_on", "amount_fen"],
        "payments": ["paid_at", "amount_fen"],
        "usage": ["date", "amount_fen"],
    }


def test_typed_parquet_gives_the_same_frames_and_rejects_as_csv(tmp_path: Path) -> None:
    parquet, text = write(
        tmp_path, accounts=BAD_ACCOUNTS, bills=BAD_BILLS, payments=BAD_PAYMENTS, usage=BAD_USAGE
    )

    from_csv, from_parquet = read_inputs(text), read_inputs(parquet)

    assert_same(from_csv, from_parquet)
    rows = [(r.line, r.column, r.reason) for r in from_parquet.rejects]
    for expected in [
        (4, "account_id", "required value is empty"),
        (11, "balance_fen", f"out of range: at most {MAX} fen either way"),
        (12, "credit_limit_fen", "must be >= 0"),
        (13, "account_id",
         "duplicate account_id: first used at line 1; every later row with it is rejected"),
        (2, "amount_fen", "required value is empty"),
        (5, "due_on", "must be on or after issued_on (2020-01-05)"),
        (7, "amount_fen", "must be > 0"),
        (11, "account_id",
         "the account's own row was rejected in accounts.parquet, so this row is not loaded"),
        (3, "payment_id", "payment_id already used at line 1 with different content; a repeat "
         "must match the first exactly (account_id, paid_at, amount_fen, channel)"),
        (4, "paid_at", "required value is empty"),
        (3, "date",
         "duplicate (account_id, date): first used at line 1; every later row with it is "
         "rejected"),
        (4, "account_id", "usage is for prepaid accounts only: this account is postpaid"),
        (5, "amount_fen", "must be >= 0"),
    ]:  # fmt: skip
        assert expected in rows
    assert [r.value for r in from_parquet.rejects if r.column == "due_on"] == [
        "2020-01-04", "2020-01-05"
    ]  # fmt: skip
    assert from_parquet.accounts.get_column("account_id").to_list() == [
        "A001", "A002", "A003", "A015", "A017"
    ]  # fmt: skip
    assert from_parquet.accounts.get_column("tags").to_list()[:4] == [
        ["hospital", "epidemic_key"], [], [], ["x", "y"]
    ]  # fmt: skip
    assert from_parquet.bills.get_column("bill_id").to_list() == ["B001", "B014", "B017"]
    assert from_parquet.payments.get_column("payment_id").to_list() == ["P001", "P008", "P011"]
    assert from_parquet.duplicate_payments_ignored == 2
    assert from_parquet.usage.rows() == [
        ("A002", date(2020, 2, 1), 100), ("A002", date(2020, 2, 2), 0),
        ("A017", date(2020, 2, 1), 5),
    ]  # fmt: skip
    # The all-empty row (`,,` in the CSV form) is a row, rejected: nothing vanishes silently.
    assert from_parquet.rows_read["usage.parquet"] == 13
    assert ("usage.parquet", 9, "") in [(r.file, r.line, r.column) for r in from_parquet.rejects]


def test_typed_parquet_gives_what_every_row_checked_as_text_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parquet, _ = write(
        tmp_path, accounts=BAD_ACCOUNTS, bills=BAD_BILLS, payments=BAD_PAYMENTS, usage=BAD_USAGE
    )
    quick = read_inputs(parquet)

    monkeypatch.setattr(readers, "typed_form", lambda column, values: False)
    monkeypatch.setattr(readers, "check_table", all_rows_as_text)
    exact = read_inputs(parquet)

    for table in TABLES:
        assert_frame_equal(getattr(quick, table), getattr(exact, table))
    assert quick.rejects == exact.rejects
    assert quick.duplicate_payments_ignored == exact.duplicate_payments_ignored


# --- sorted tables: repeats found next to each other ---------------------------------------


def test_sorted_tables_with_repeats_give_the_same_rejects_as_csv(tmp_path: Path) -> None:
    accounts = BAD_ACCOUNTS[[0, 1, 2, 16]]  # A001, A002, A003, A017
    bills = frame(
        [("B1", "A001", "2020-01", D5, D20, 10), ("B1", "A001", "2020-01", D5, D20, 10),
         ("B2", "A001", "2020-01", D5, D20, 10), ("B2", "A003", "2020-01", D5, D20, 11)],
        BILL_SCHEMA,
    )  # fmt: skip
    payments = frame(
        [("P1", "A001", AT, 5, None), ("P1", "A001", AT, 5, None), ("P2", "A001", AT, 5, None),
         ("P2", "A001", AT, 6, None), ("P3", "A002", AT, 5, "app")],
        PAYMENT_SCHEMA,
    )  # fmt: skip
    usage = frame(  # sorted by date, then account_id
        [("A002", date(2020, 2, 1), 1), ("A002", date(2020, 2, 2), 1),
         ("A017", date(2020, 2, 2), 1), ("A017", date(2020, 2, 2), 2),
         ("A002", date(2020, 2, 3), 1), ("A002", date(2020, 2, 3), 1)],
        USAGE_SCHEMA,
    )  # fmt: skip
    parquet, text = write(tmp_path, accounts=accounts, bills=bills, payments=payments, usage=usage)

    from_parquet = read_inputs(parquet)

    assert_same(read_inputs(text), from_parquet)
    assert [(r.file, r.line, r.reason[:40]) for r in from_parquet.rejects] == [
        ("bills.parquet", 2, "duplicate bill_id: first used at line 1;"),
        ("bills.parquet", 4, "duplicate bill_id: first used at line 3;"),
        ("payments.parquet", 4, "payment_id already used at line 3 with d"),
        ("usage.parquet", 4, "duplicate (account_id, date): first used"),
        ("usage.parquet", 6, "duplicate (account_id, date): first used"),
    ]
    assert from_parquet.duplicate_payments_ignored == 1


# --- Parquet columns read as text, as before ------------------------------------------------


def test_naive_datetime_column_is_refused_like_its_text(tmp_path: Path) -> None:
    payments = frame(
        [("P1", "A001", datetime(2020, 2, 3, 10, 15), 5, None), ("P2", "A001", None, 5, None)],
        {**PAYMENT_SCHEMA, "paid_at": pl.Datetime("us")},
    )
    parquet, text = write(
        tmp_path, accounts=BAD_ACCOUNTS.head(1), bills=BAD_BILLS.head(1), payments=payments
    )

    from_parquet = read_inputs(parquet)

    assert_same(read_inputs(text), from_parquet)
    assert [(r.line, r.value, r.reason) for r in from_parquet.rejects] == [
        (1, "2020-02-03T10:15:00",
         "timestamp has no UTC offset: add one, e.g. 2020-02-03T10:15:00+08:00"),
        (2, "", "required value is empty"),
    ]  # fmt: skip


def test_typed_form_admits_only_values_that_read_back_the_same() -> None:
    bills, payments = BILLS.column, PAYMENTS.column
    utc = pl.Datetime("us", "UTC")

    assert typed_form(bills("amount_fen"), pl.Series([1, 2], dtype=pl.UInt32))
    assert not typed_form(bills("amount_fen"), pl.Series([1, 2], dtype=pl.UInt64))
    assert not typed_form(bills("amount_fen"), pl.Series([1.0, 2.5]))
    assert not typed_form(bills("bill_id"), pl.Series([1, 2]))
    assert typed_form(bills("due_on"), pl.Series([None], dtype=pl.Date))
    assert typed_form(bills("due_on"), pl.Series([date(1, 1, 1), date(9999, 12, 31)]))
    assert not typed_form(bills("due_on"), pl.Series([3_000_000], dtype=pl.Int32).cast(pl.Date))
    assert not typed_form(bills("due_on"), pl.Series([datetime(2020, 1, 1)]))
    assert typed_form(payments("paid_at"), pl.Series([AT], dtype=utc))
    assert typed_form(payments("paid_at"), pl.Series([AT]).dt.cast_time_unit("ms"))
    assert typed_form(payments("paid_at"), pl.Series([AT]).dt.cast_time_unit("ns"))
    assert not typed_form(payments("paid_at"), pl.Series([datetime(2020, 2, 3)]))
    # Local times before 1973 may have offsets of seconds, which text cannot write.
    assert not typed_form(payments("paid_at"), pl.Series([datetime(1900, 1, 1, tzinfo=SHANGHAI)]))
    assert not typed_form(ACCOUNTS.column("tags"), pl.Series([["a"]]))


@pytest.mark.parametrize(
    "paid_at",
    [
        (pl.Series([AT, AT]).dt.cast_time_unit("ns").to_physical() + 1).cast(
            pl.Datetime("ns", "Asia/Shanghai")
        ),
        pl.Series([datetime(1900, 1, 1, tzinfo=SHANGHAI), AT]),
    ],
    ids=["nanoseconds", "local-mean-time"],
)
def test_timestamps_text_cannot_hold_exactly_are_read_as_text(
    tmp_path: Path, paid_at: pl.Series
) -> None:
    payments = pl.DataFrame({"payment_id": ["P1", "P2"], "account_id": ["A001", "A001"],
                             "paid_at": paid_at, "amount_fen": [5, 5]})  # fmt: skip
    minimal = write(tmp_path, accounts=BAD_ACCOUNTS.head(1), bills=BAD_BILLS.head(1))[0]
    payments.write_parquet(minimal / "payments.parquet")
    as_text_parquet = tmp_path / "text"
    as_text_parquet.mkdir()
    for name in ("accounts", "bills", "payments"):
        table = pl.read_parquet(minimal / f"{name}.parquet")
        table.select(as_text(pl.col(c), table.schema[c]) for c in table.columns).write_parquet(
            as_text_parquet / f"{name}.parquet"
        )

    typed, text = read_inputs(minimal), read_inputs(as_text_parquet)

    assert_frame_equal(typed.payments, text.payments)
    assert typed.rejects == text.rejects


def test_empty_typed_tables_load_empty(tmp_path: Path) -> None:
    parquet, text = write(
        tmp_path, accounts=BAD_ACCOUNTS.head(1), bills=BAD_BILLS.clear(),
        payments=BAD_PAYMENTS.clear(), usage=BAD_USAGE.clear(),
    )  # fmt: skip

    from_parquet = read_inputs(parquet)

    assert_same(read_inputs(text), from_parquet)
    assert from_parquet.rejects == []
    assert from_parquet.payments.schema == PAYMENTS.schema


# --- the quick pass finds every row the exact checks refuse ------------------------------


def test_repeated_is_true_for_every_row_another_row_has_the_key_of() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(0, 9)
        a = [rng.choice(["x", "y", None]) if rng.random() < 0.2 else rng.choice("xyz")
             for _ in range(n)]  # fmt: skip
        b = [rng.choice([1, 2, 3]) for _ in range(n)]
        table = pl.DataFrame({"a": a, "b": b}, schema={"a": pl.String, "b": pl.Int64})
        if rng.random() < 0.5 and None not in a:
            table = table.sort(rng.choice([["a", "b"], ["b", "a"]]))
        for key in (("a",), ("a", "b")):
            keys = list(table.select(key).iter_rows())
            expected = [None not in row and keys.count(row) > 1 for row in keys]
            found = repeated(table, key)
            assert (found.to_list() if found is not None else [False] * n) == expected


_KNOWN = pl.DataFrame({"account_id": ["A1", "A2"], "__account": ["postpaid", "prepaid"]}).vstack(
    pl.DataFrame({"account_id": ["A3"], "__account": ["rejected"]})
)


@st.composite
def typed_rows(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    ids = st.sampled_from(["A1", "A2", "A3", "A9", " A1", None])
    fen = st.sampled_from([1, 0, -1, 7, MAX, MAX + 1, -MAX - 1, None])
    day = st.sampled_from([date(2020, 1, d) for d in (1, 2, 3)] + [None])
    size = st.integers(0, 8)
    bills = [(draw(st.sampled_from(["B1", "B2", "B3", None])), draw(ids),
              draw(st.sampled_from(["2020-01", "2020-13", None])), draw(day), draw(day), draw(fen))
             for _ in range(draw(size))]  # fmt: skip
    instants = st.sampled_from([AT, datetime(2020, 2, 3, 2, 15, tzinfo=ZoneInfo("UTC")), None])
    payments = [(draw(st.sampled_from(["P1", "P2", None])), draw(ids), draw(instants), draw(fen),
                 draw(st.sampled_from(["app", None])))
                for _ in range(draw(size))]  # fmt: skip
    usage = [(draw(ids), draw(day), draw(fen)) for _ in range(draw(size))]
    if draw(st.booleans()):
        usage.sort(key=lambda row: (row[0] or "", row[1] or date.min))
    return (
        frame(bills, BILL_SCHEMA),
        frame(payments, PAYMENT_SCHEMA),
        frame(usage, {**USAGE_SCHEMA, "amount_fen": pl.Int64()}),
    )


@pytest.mark.property
@given(typed_rows())
def test_quick_pass_then_exact_checks_equal_exact_checks_on_every_row(
    tables: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    accounts = Accounts(file="accounts.parquet", status=_KNOWN)
    for spec, table in zip((BILLS, PAYMENTS, USAGE), tables, strict=True):
        lined = table.with_row_index(LINE, offset=1).with_columns(
            pl.col(LINE).cast(pl.Int64), pl.col(pl.String).str.strip_chars().replace("", None)
        )
        quick = check_table(lined, spec, file=spec.name, accounts=accounts)
        exact = all_rows_as_text(lined, spec, file=spec.name, accounts=accounts)
        assert_frame_equal(quick.frame, exact.frame)
        assert quick.rejects == exact.rejects
        assert quick.ignored == exact.ignored
        assert_frame_equal(quick.refused, exact.refused)
