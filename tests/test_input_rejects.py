"""The input contract, what is refused: one reject per bad row (file, line, column, value,
reason), whole files that cannot be read at all, and the rejects.csv they are written to."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from helpers_inputs import (
    ACCOUNTS_HEADER,
    BILLS_HEADER,
    BROKEN_REJECTS,
    DATA,
    as_rows,
    folder,
    minimal,
)
from sanbuting.errors import InputFileError
from sanbuting.io.readers import read_inputs
from sanbuting.io.rejects import Reject, write_rejects

# --- the broken folder: one reject per bad row ---------------------------------------------


def test_broken_folder_gives_one_reject_per_bad_row() -> None:
    inputs = read_inputs(DATA / "broken")

    assert as_rows(inputs.rejects) == BROKEN_REJECTS


def test_broken_folder_still_loads_its_good_rows() -> None:
    inputs = read_inputs(DATA / "broken")

    assert inputs.accounts.get_column("account_id").to_list() == ["A001", "A002"]
    assert inputs.bills.get_column("bill_id").to_list() == ["B001"]
    assert inputs.payments.get_column("payment_id").to_list() == ["P001"]
    assert inputs.usage.rows() == [("A002", date(2020, 2, 1), 100)]
    assert inputs.duplicate_payments_ignored == 1  # line 3 repeats line 2 exactly


def test_row_with_several_problems_gets_one_reject_each_and_does_not_load(
    tmp_path: Path,
) -> None:
    inputs = read_inputs(
        minimal(tmp_path, bills=f"{BILLS_HEADER}\nB001,A001,2020-1,2020-01-05,2020-01-20,0\n")
    )

    assert as_rows(inputs.rejects) == [
        ("bills.csv", 2, "amount_fen", "0", "must be > 0"),
        ("bills.csv", 2, "period", "2020-1",
         "expected a billing period YYYY-MM with month 01-12, e.g. 2020-01"),
    ]  # fmt: skip
    assert inputs.bills.height == 0


@pytest.mark.parametrize("text", ["12.0", "+12", "1e3", "1,000", "12 fen"])
def test_integers_are_never_coerced(tmp_path: Path, text: str) -> None:
    inputs = read_inputs(
        minimal(tmp_path, bills=f"{BILLS_HEADER}\nB001,A001,2020-01,2020-01-05,2020-01-20,"
                                f'"{text}"\n')
    )  # fmt: skip

    assert [(r.column, r.value) for r in inputs.rejects] == [("amount_fen", text)]


def test_values_are_trimmed_before_checking(tmp_path: Path) -> None:
    inputs = read_inputs(
        minimal(tmp_path, bills=f"{BILLS_HEADER}\n B001 , A001 ,2020-01, 2020-01-05 ,"
                                "2020-01-20, 1000 \n")
    )  # fmt: skip

    assert inputs.rejects == []
    assert inputs.bills.rows() == [
        ("B001", "A001", "2020-01", date(2020, 1, 5), date(2020, 1, 20), 1000)
    ]


def test_usage_for_an_account_rejected_in_accounts_is_rejected(tmp_path: Path) -> None:
    inputs = read_inputs(
        minimal(
            tmp_path,
            accounts=f"{ACCOUNTS_HEADER},billing_mode\nA001,power,residential,440305,\n"
            "A002,gas,residential,000000,prepaid\n",
            usage="account_id,date,amount_fen\nA002,2020-02-01,100\n",
        )
    )

    assert as_rows(inputs.rejects)[-1] == (
        "usage.csv", 2, "account_id", "A002",
        "the account's own row was rejected in accounts.csv, so this row is not loaded",
    )  # fmt: skip


# --- whole-file problems ------------------------------------------------------------------


def test_missing_required_column_rejects_the_whole_file_once() -> None:
    inputs = read_inputs(DATA / "missing_column")

    assert as_rows(inputs.rejects) == [
        ("accounts.csv", 1, "region", "",
         "required column missing; none of the 2 rows of this file can be loaded"),
        ("bills.csv", 2, "account_id", "A001",
         "the account's own row was rejected in accounts.csv, so this row is not loaded"),
    ]  # fmt: skip
    assert inputs.accounts.height == 0


def test_missing_optional_columns_take_their_defaults(tmp_path: Path) -> None:
    accounts = read_inputs(minimal(tmp_path)).accounts

    assert accounts.rows() == [
        ("A001", "power", "residential", "440305", "postpaid", [], "active", 0, 0, None)
    ]


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    inputs = read_inputs(
        minimal(tmp_path, accounts=f"note,{ACCOUNTS_HEADER}\nhello,A001,power,residential,440305\n")
    )

    assert inputs.rejects == []
    assert "note" not in inputs.accounts.columns


def test_unnamed_columns_of_a_spreadsheet_export_are_ignored(tmp_path: Path) -> None:
    inputs = read_inputs(
        minimal(tmp_path, accounts=f"{ACCOUNTS_HEADER},,\nA001,power,residential,440305,,\n")
    )

    assert inputs.rejects == []
    assert inputs.accounts.height == 1


def test_csv_and_parquet_of_one_table_is_an_error(tmp_path: Path) -> None:
    minimal(tmp_path)
    pl.DataFrame({"bill_id": ["B001"]}).write_parquet(tmp_path / "bills.parquet")

    with pytest.raises(InputFileError, match=r"bills\.csv and bills\.parquet are both in"):
        read_inputs(tmp_path)


def test_missing_required_file_is_an_error(tmp_path: Path) -> None:
    folder(tmp_path, accounts=f"{ACCOUNTS_HEADER}\nA001,power,residential,440305\n")

    with pytest.raises(InputFileError, match=r"bills\.csv is missing from"):
        read_inputs(tmp_path)


def test_file_that_is_not_utf8_is_an_error_naming_it() -> None:
    with pytest.raises(InputFileError, match=r"^accounts\.csv:2: not UTF-8 text \(byte 0xC4"):
        read_inputs(DATA / "gbk")


def test_empty_file_is_an_error_naming_it(tmp_path: Path) -> None:
    minimal(tmp_path, payments="")

    with pytest.raises(InputFileError, match=r"^payments\.csv: empty file"):
        read_inputs(tmp_path)


def test_binary_file_named_csv_is_an_error(tmp_path: Path) -> None:
    minimal(tmp_path)
    (tmp_path / "usage.csv").write_bytes(b"PAR1\x00\x15\x04\x15")

    with pytest.raises(InputFileError, match=r"^usage\.csv: not CSV text"):
        read_inputs(tmp_path)


def test_file_that_is_not_parquet_is_an_error(tmp_path: Path) -> None:
    minimal(tmp_path)
    (tmp_path / "usage.parquet").write_text("account_id,date,amount_fen\n", encoding="utf-8")

    with pytest.raises(InputFileError, match=r"^usage\.parquet: cannot be read as Parquet"):
        read_inputs(tmp_path)


def test_repeated_header_name_is_an_error(tmp_path: Path) -> None:
    minimal(tmp_path, accounts=f"{ACCOUNTS_HEADER},region\nA001,power,residential,440305,1\n")

    with pytest.raises(InputFileError, match="column 'region' appears twice"):
        read_inputs(tmp_path)


# --- rejects.csv --------------------------------------------------------------------------


def test_rejects_csv_has_its_header_even_when_empty(tmp_path: Path) -> None:
    write_rejects(tmp_path / "rejects.csv", [])

    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8") == (
        "file,line,column,value,reason\n"
    )


def test_rejects_csv_is_sorted_by_file_order_line_and_column(tmp_path: Path) -> None:
    write_rejects(
        tmp_path / "rejects.csv",
        [
            Reject("usage.csv", 2, "date", "x", "bad date"),
            Reject("bills.csv", 3, "period", "x", "bad period"),
            Reject("bills.csv", 3, "amount_fen", "0", "must be > 0"),
            Reject("accounts.csv", 9, "region", "1", "bad, region"),
        ],
    )

    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8").splitlines() == [
        "file,line,column,value,reason",
        'accounts.csv,9,region,1,"bad, region"',
        "bills.csv,3,amount_fen,0,must be > 0",
        "bills.csv,3,period,x,bad period",
        "usage.csv,2,date,x,bad date",
    ]
