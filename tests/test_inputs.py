"""The input contract: what loads, what is rejected (file, line, column, value, reason), what
cannot be read at all, and the `sanbuting validate` command."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from sanbuting.cli.app import app
from sanbuting.cli.inputs import format_reject  # importing it registers `validate`
from sanbuting.errors import InputFileError
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.rejects import Reject, write_rejects

DATA = Path(__file__).parent / "data" / "inputs"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TABLES = ("accounts", "bills", "payments", "usage")

ACCOUNTS_HEADER = "account_id,utility,customer_class,region"
BILLS_HEADER = "bill_id,account_id,period,issued_on,due_on,amount_fen"


def folder(tmp_path: Path, **files: str) -> Path:
    """A tmp input folder with the given CSV files (name without extension -> text)."""
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def minimal(tmp_path: Path, **files: str) -> Path:
    """One good account and one good bill, plus (or replaced by) `files`."""
    base = {
        "accounts": f"{ACCOUNTS_HEADER}\nA001,power,residential,440305\n",
        "bills": f"{BILLS_HEADER}\nB001,A001,2020-01,2020-01-05,2020-01-20,1000\n",
    }
    return folder(tmp_path, **{**base, **files})


def as_rows(rejects: list[Reject]) -> list[tuple[str, int, str, str, str]]:
    return [(r.file, r.line, r.column, r.value, r.reason) for r in rejects]


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


# --- the broken folder: one reject per bad row ---------------------------------------------

BROKEN_REJECTS = [
    ("accounts.csv", 4, "account_id", "", "required value is empty"),
    ("accounts.csv", 5, "utility", "water", "unknown value: expected one of power, telecom, gas"),
    ("accounts.csv", 6, "customer_class", "household",
     "unknown value: expected one of residential, non_residential"),
    ("accounts.csv", 7, "region", "4403",
     "expected a 6-digit GB/T 2260 district code, e.g. 440305"),
    ("accounts.csv", 8, "region", "999999", "region code is not in the GB/T 2260 table"),
    ("accounts.csv", 9, "billing_mode", "credit",
     "unknown value: expected one of postpaid, prepaid"),
    ("accounts.csv", 10, "state", "closed",
     "unknown value: expected one of active, suspended, disconnected, terminated"),
    ("accounts.csv", 11, "balance_fen", "12.5",
     "expected a whole number of fen: digits with an optional leading minus, e.g. 1250"),
    ("accounts.csv", 12, "credit_limit_fen", "-100", "must be >= 0"),
    ("accounts.csv", 13, "account_id", "A001",
     "duplicate account_id: first used at line 2; every later row with it is rejected"),
    ("accounts.csv", 14, "balance_fen", "99999999999999999999",
     "out of range: at most 1000000000000000 fen either way"),
    ("bills.csv", 3, "amount_fen", "", "required value is empty"),
    ("bills.csv", 4, "period", "2020-13",
     "expected a billing period YYYY-MM with month 01-12, e.g. 2020-01"),
    ("bills.csv", 5, "issued_on", "2020/01/05", "expected a date YYYY-MM-DD, e.g. 2020-03-01"),
    ("bills.csv", 6, "due_on", "2020-02-30", "not a real calendar date (YYYY-MM-DD)"),
    ("bills.csv", 7, "due_on", "2020-01-05", "must be on or after issued_on (2020-01-20)"),
    ("bills.csv", 8, "amount_fen", "0", "must be > 0"),
    ("bills.csv", 9, "amount_fen", "12.50",
     "expected a whole number of fen: digits with an optional leading minus, e.g. 1250"),
    ("bills.csv", 10, "bill_id", "B001",
     "duplicate bill_id: first used at line 2; every later row with it is rejected"),
    ("bills.csv", 11, "account_id", "NOPE", "no account with this account_id in accounts.csv"),
    ("bills.csv", 12, "account_id", "A004",
     "the account's own row was rejected in accounts.csv, so this row is not loaded"),
    ("bills.csv", 13, "amount_fen", "-5", "must be > 0"),
    ("bills.csv", 14, "account_id", "A002",
     "bills are for postpaid accounts only: a prepaid account's consumption goes in usage"),
    ("payments.csv", 4, "payment_id", "P001",
     "payment_id already used at line 2 with different content; a repeat must match the "
     "first exactly (account_id, paid_at, amount_fen, channel)"),
    ("payments.csv", 5, "paid_at", "2020-02-03 10:15:00",
     "timestamp has no UTC offset: add one, e.g. 2020-02-03T10:15:00+08:00"),
    ("payments.csv", 6, "paid_at", "03/02/2020 10:15",
     "expected an ISO 8601 timestamp with a UTC offset, e.g. 2020-02-03T10:15:00+08:00"),
    ("payments.csv", 7, "paid_at", "2020-02-30T10:15:00+08:00", "not a real date and time"),
    ("payments.csv", 8, "amount_fen", "0", "must be > 0"),
    ("payments.csv", 9, "account_id", "NOPE", "no account with this account_id in accounts.csv"),
    ("payments.csv", 10, "payment_id", "", "required value is empty"),
    ("usage.csv", 3, "date", "2020-02-01",
     "duplicate (account_id, date): first used at line 2; every later row with it is rejected"),
    ("usage.csv", 4, "account_id", "A001",
     "usage is for prepaid accounts only: this account is postpaid"),
    ("usage.csv", 5, "amount_fen", "-1", "must be >= 0"),
    ("usage.csv", 6, "account_id", "NOPE", "no account with this account_id in accounts.csv"),
    ("usage.csv", 7, "date", "2020-02-31", "not a real calendar date (YYYY-MM-DD)"),
]  # fmt: skip


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
    with pytest.raises(InputFileError, match=r"^accounts\.csv: .*not UTF-8"):
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


# --- sanbuting validate -------------------------------------------------------------------

runner = CliRunner()


def test_validate_good_folder_exits_0_with_an_empty_rejects_csv(tmp_path: Path) -> None:
    out = tmp_path / "out" / "nested"

    result = runner.invoke(app, ["validate", "--data", str(DATA / "good"), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "bills.csv: 3 rows read, 3 loaded, 0 rejected" in result.output
    assert "1 repeated payment ignored" in result.output
    assert (out / "rejects.csv").read_text(encoding="utf-8") == "file,line,column,value,reason\n"


def test_validate_broken_folder_exits_1_and_writes_every_reject(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", "--data", str(DATA / "broken"), "--out", str(tmp_path)]
    )

    assert result.exit_code == 1
    assert "accounts.csv: 13 rows read, 2 loaded, 11 rejected" in result.output
    assert "accounts.csv:5: utility=water: unknown value" in result.output
    assert "first 20 of 35 rejects:" in result.output
    assert "13812345678" not in result.output
    written = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False).fill_null("")
    assert [(f, int(n), c, v, r) for f, n, c, v, r in written.rows()] == BROKEN_REJECTS


def test_validate_writes_to_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["validate", "--data", str(DATA / "missing_column")])

    assert result.exit_code == 1
    assert (tmp_path / "rejects.csv").is_file()


def test_validate_lets_an_unreadable_file_reach_the_error_edge(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--data", str(DATA / "gbk"), "--out", str(tmp_path)])

    assert isinstance(result.exception, InputFileError)
    assert result.exit_code != 0


def test_validate_answers_help() -> None:
    result = runner.invoke(app, ["validate", "--help"])

    assert result.exit_code == 0
    assert "--data" in result.output
    assert "rejects.csv" in result.output


def test_a_phone_number_in_a_reject_is_printed_masked() -> None:
    reject = Reject("accounts.csv", 2, "phone", "13812345678", "bad phone")

    assert format_reject(reject) == "accounts.csv:2: phone=138****5678: bad phone"
