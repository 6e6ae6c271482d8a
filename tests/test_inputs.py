"""The input contract, what loads: the good folder with its dtypes and values, defaults and
repeats, and Parquet reading exactly like CSV."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from helpers_inputs import ACCOUNTS_HEADER, DATA, as_rows, minimal
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.rejects import Reject

SHANGHAI = ZoneInfo("Asia/Shanghai")
TABLES = ("accounts", "bills", "payments", "usage")


# --- a good folder ------------------------------------------------------------------------


def test_good_folder_loads_with_the_contract_dtypes() -> None:
    inputs = read_inputs(DATA / "good")

    assert inputs.accounts.schema == pl.Schema(
        {
            "account_id": pl.String,
            "utility": pl.String,
            "customer_class": pl.String,
            "region": pl.String,
            "billing_mode": pl.String,
            "tags": pl.List(pl.String),
            "state": pl.String,
            "balance_fen": pl.Int64,
            "credit_limit_fen": pl.Int64,
            "phone": pl.String,
        }
    )
    assert inputs.bills.schema == pl.Schema(
        {
            "bill_id": pl.String,
            "account_id": pl.String,
            "period": pl.String,
            "issued_on": pl.Date,
            "due_on": pl.Date,
            "amount_fen": pl.Int64,
        }
    )
    assert inputs.payments.schema == pl.Schema(
        {
            "payment_id": pl.String,
            "account_id": pl.String,
            "paid_at": pl.Datetime("us", "Asia/Shanghai"),
            "paid_on": pl.Date,
            "amount_fen": pl.Int64,
            "channel": pl.String,
        }
    )
    assert inputs.usage.schema == pl.Schema(
        {"account_id": pl.String, "date": pl.Date, "amount_fen": pl.Int64}
    )


def test_good_folder_has_no_rejects() -> None:
    inputs = read_inputs(DATA / "good")

    assert inputs.rejects == []
    assert inputs.rows_read == {
        "accounts.csv": 4,
        "bills.csv": 3,
        "payments.csv": 4,
        "usage.csv": 3,
    }


def test_accounts_take_defaults_trimmed_values_and_split_tags() -> None:
    accounts = read_inputs(DATA / "good").accounts

    assert accounts.rows() == [
        ("A001", "power", "residential", "440305", "postpaid", ["hospital", "epidemic_key"],
         "active", 0, 0, "13812345678"),
        ("A002", "telecom", "non_residential", "110101", "prepaid", [],
         "suspended", -1500, 5000, None),
        ("A003", "gas", "residential", "420102", "prepaid", ["frontline_medical"],
         "active", 3000, 0, "13900001111"),
        ("A004", "power", "residential", "440304", "postpaid", [],
         "active", 0, 0, None),
    ]  # fmt: skip


def test_bills_load_dates_and_integer_fen() -> None:
    bills = read_inputs(DATA / "good").bills

    assert bills.rows() == [
        ("B001", "A001", "2020-01", date(2020, 1, 5), date(2020, 1, 20), 12345),
        ("B002", "A001", "2020-01", date(2020, 1, 3), date(2020, 1, 3), 8800),
        ("B003", "A004", "2019-12", date(2019, 12, 5), date(2019, 12, 25), 100),
    ]


def test_payment_time_is_shanghai_and_paid_on_its_local_date() -> None:
    payments = read_inputs(DATA / "good").payments

    assert payments.rows() == [
        ("P001", "A001", datetime(2020, 2, 3, 10, 15, tzinfo=SHANGHAI), date(2020, 2, 3),
         12345, "app"),
        # 2020-02-03T23:30:00Z is 07:30 the next morning in Shanghai: the run of 4 February.
        ("P002", "A002", datetime(2020, 2, 4, 7, 30, tzinfo=SHANGHAI), date(2020, 2, 4),
         5000, None),
        ("P003", "A003", datetime(2020, 2, 4, 9, 0, 0, 500000, tzinfo=SHANGHAI),
         date(2020, 2, 4), 2000, "counter"),
    ]  # fmt: skip


def test_repeated_payment_with_same_content_is_a_noop_and_counted() -> None:
    inputs = read_inputs(DATA / "good")

    assert inputs.payments.get_column("payment_id").to_list() == ["P001", "P002", "P003"]
    assert inputs.duplicate_payments_ignored == 1


def test_repeated_payment_at_same_instant_in_another_offset_is_the_same_payment(
    tmp_path: Path,
) -> None:
    inputs = read_inputs(
        minimal(
            tmp_path,
            payments="payment_id,account_id,paid_at,amount_fen\n"
            "P1,A001,2020-02-03T10:15:00+08:00,500\n"
            "P1,A001,2020-02-03T02:15:00Z,500\n",
        )
    )

    assert inputs.rejects == []
    assert inputs.payments.height == 1
    assert inputs.duplicate_payments_ignored == 1


def test_usage_loads_for_prepaid_accounts() -> None:
    usage = read_inputs(DATA / "good").usage

    assert usage.rows() == [
        ("A003", date(2020, 2, 1), 150),
        ("A003", date(2020, 2, 2), 0),
        ("A002", date(2020, 2, 1), 300),
    ]


def test_files_map_each_file_read_to_the_sha256_of_its_bytes() -> None:
    import hashlib

    inputs = read_inputs(DATA / "good")

    assert inputs.files == {
        name: hashlib.sha256((DATA / "good" / name).read_bytes()).hexdigest()
        for name in ("accounts.csv", "bills.csv", "payments.csv", "usage.csv")
    }


def test_absent_payments_and_usage_are_empty_frames_with_the_schema(tmp_path: Path) -> None:
    inputs = read_inputs(minimal(tmp_path))

    assert inputs.payments.height == 0
    assert inputs.payments.columns == [
        "payment_id", "account_id", "paid_at", "paid_on", "amount_fen", "channel"
    ]  # fmt: skip
    assert inputs.usage.schema == pl.Schema(
        {"account_id": pl.String, "date": pl.Date, "amount_fen": pl.Int64}
    )
    assert set(inputs.files) == {"accounts.csv", "bills.csv"}


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path: Path) -> None:
    inputs = read_inputs(
        minimal(tmp_path, accounts=f"{ACCOUNTS_HEADER}\nA001,power,residential,440305\n\n"
                                   "A002,power,residential,1\n\n")
    )  # fmt: skip

    assert as_rows(inputs.rejects) == [
        ("accounts.csv", 4, "region", "1",
         "expected a 6-digit GB/T 2260 district code, e.g. 440305"),
    ]  # fmt: skip
    assert inputs.rows_read["accounts.csv"] == 2


# --- Parquet reads like CSV ---------------------------------------------------------------


def to_parquet(source: Path, target: Path) -> None:
    """Every CSV of `source` as a Parquet file of text columns in `target`."""
    for csv_file in source.glob("*.csv"):
        table = pl.read_csv(csv_file, infer_schema=False)
        table.write_parquet(target / f"{csv_file.stem}.parquet")


def as_parquet_reject(reject: Reject) -> Reject:
    """The reject the same row gets in Parquet: row numbers instead of lines (one less)."""
    reason = re.sub(r"line (\d+)", lambda m: f"line {int(m[1]) - 1}", reject.reason)
    return Reject(
        file=reject.file.replace(".csv", ".parquet"),
        line=reject.line - 1,
        column=reject.column,
        value=reject.value,
        reason=reason.replace("accounts.csv", "accounts.parquet"),
    )


def assert_same_frames(left: Inputs, right: Inputs) -> None:
    for table in TABLES:
        assert_frame_equal(getattr(left, table), getattr(right, table))


@pytest.mark.parametrize("name", ["good", "broken", "missing_column"])
def test_parquet_gives_the_same_frames_and_rejects_as_csv(tmp_path: Path, name: str) -> None:
    to_parquet(DATA / name, tmp_path)

    from_csv = read_inputs(DATA / name)
    from_parquet = read_inputs(tmp_path)

    assert_same_frames(from_csv, from_parquet)
    assert from_parquet.rejects == [as_parquet_reject(r) for r in from_csv.rejects]
    assert from_parquet.duplicate_payments_ignored == from_csv.duplicate_payments_ignored


def test_typed_parquet_columns_load_like_their_text(tmp_path: Path) -> None:
    loaded = read_inputs(DATA / "good")
    for table in TABLES:  # Int64, Date, Datetime with a zone, List(String) columns
        getattr(loaded, table).write_parquet(tmp_path / f"{table}.parquet")

    again = read_inputs(tmp_path)

    assert again.rejects == []
    assert_same_frames(loaded, again)


def test_typed_parquet_float_amount_is_refused_not_rounded(tmp_path: Path) -> None:
    minimal(tmp_path)
    (tmp_path / "bills.csv").unlink()
    pl.DataFrame(
        {
            "bill_id": ["B001", "B002"],
            "account_id": ["A001", "A001"],
            "period": ["2020-01", "2020-01"],
            "issued_on": [date(2020, 1, 5), date(2020, 1, 5)],
            "due_on": [date(2020, 1, 20), date(2020, 1, 20)],
            "amount_fen": [1000.0, 12.5],
        }
    ).write_parquet(tmp_path / "bills.parquet")

    inputs = read_inputs(tmp_path)

    assert [(r.file, r.line, r.column, r.value) for r in inputs.rejects] == [
        ("bills.parquet", 1, "amount_fen", "1000.0"),
        ("bills.parquet", 2, "amount_fen", "12.5"),
    ]


def test_typed_parquet_naive_timestamp_has_no_offset(tmp_path: Path) -> None:
    minimal(tmp_path)
    pl.DataFrame(
        {
            "payment_id": ["P1"],
            "account_id": ["A001"],
            "paid_at": [datetime(2020, 2, 3, 10, 15)],
            "amount_fen": [500],
        }
    ).write_parquet(tmp_path / "payments.parquet")

    inputs = read_inputs(tmp_path)

    assert as_rows(inputs.rejects) == [
        ("payments.parquet", 1, "paid_at", "2020-02-03T10:15:00",
         "timestamp has no UTC offset: add one, e.g. 2020-02-03T10:15:00+08:00"),
    ]  # fmt: skip
