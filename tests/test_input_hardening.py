"""Hostile input, bounded (issue 11, item 6): ids a web page can address, phone numbers
checked and masked, free text bounded, rows of only separators rejected with their line,
columns the contract does not have named in a warning, GBK exports read with `--encoding` and
other text that is not UTF-8 refused with its first bad line, a 10 MB id refused without
flooding rejects.csv. Each rule on the reference reader, the typed (Parquet) and the
bucket-by-bucket paths, and in `sanbuting validate`, `run` and `db import`.

Inputs are small literal tables written to tmp_path."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import Field, TypeAdapter, ValidationError
from typer.testing import CliRunner

from helpers_inputs import ACCOUNTS_HEADER, BILLS_HEADER, as_rows, folder, minimal
from sanbuting.cli import app
from sanbuting.errors import InputFileError
from sanbuting.io import readers
from sanbuting.io.ids import ID_PATTERN, id_problem
from sanbuting.io.partition import partition_inputs
from sanbuting.io.phones import NOT_A_PHONE, is_phone, masked
from sanbuting.io.readers import read_inputs
from sanbuting.io.rejects import sorted_rejects
from sanbuting.io.shape import NO_VALUE
from sanbuting.store.migrations import upgrade
from store_databases import database
from test_inputs import as_parquet_reject, to_parquet
from test_inputs_typed import BILL_SCHEMA, PAYMENT_SCHEMA, all_rows_as_text, assert_same, write

runner = CliRunner()
PAYMENTS_HEADER = "payment_id,account_id,paid_at,amount_fen,channel"
AT = "2020-02-03T10:15:00+08:00"
BILL = "2020-01,2020-01-05,2020-01-20,1000"
MARK = (
    "an id may not hold any of / \\ < > & \" ' ` # ? % (this one holds {}): use letters, digits "
    "and - _ . :"
)
INVISIBLE = (
    "an id may not hold spaces, control or invisible characters (line breaks, tabs, "
    "zero-width or direction marks): remove them"
)
CONTROL = (
    "holds a control character (a line break, tab or direction mark): remove it, or use the "
    "separator the column expects"
)


def hostile(path: Path) -> Path:
    """A folder with one row breaking each rule (no blank line: Parquet has none)."""
    path.mkdir(parents=True, exist_ok=True)
    return folder(
        path,
        accounts=f"{ACCOUNTS_HEADER},tags,phone,note\n"
        "A001,power,residential,440305,,13812345678,x\n"
        "A/002,power,residential,440305,,,\n"
        f"{'A' * 300},power,residential,440305,,,\n"
        "<b>A3</b>,power,residential,440305,,,\n"
        "A 004,power,residential,440305,,,\n"
        "A\u200b005,power,residential,440305,,,\n"
        '"A""6",power,residential,440305,,,\n'
        "戶7,gas,residential,420102,,020-1234567,\n"
        "A008,power,residential,440305,,12345,\n"
        f"A009,power,residential,440305,{'t' * 501},,\n"
        ",,,,,,\n",
        bills=f"{BILLS_HEADER}\nB001,A001,{BILL}\nB/2,A001,{BILL}\nB3,A/002,{BILL}\n"
        f", , , , , \nB5,戶7,{BILL}\n",  # 戶7: any printable character but the marks
        payments=f"{PAYMENTS_HEADER}\nP&1,A001,{AT},100,app\nP2,A001,{AT},100,营业厅\n"
        f'P3,A001,{AT},100,{"c" * 33}\nP4,A001,{AT},100,"a\tb"\n,,,,\n',
        usage="account_id,date,amount_fen\nA\\7,2020-02-01,5\n",
    )


HOSTILE_REJECTS = [
    ("accounts.csv", 3, "account_id", "A/002", MARK.format("/")),
    ("accounts.csv", 4, "account_id", "A" * 50 + "…",
     "an id has at most 64 characters (this one has 300)"),
    ("accounts.csv", 5, "account_id", "<b>A3</b>", MARK.format("<")),
    ("accounts.csv", 6, "account_id", "A 004", INVISIBLE),
    ("accounts.csv", 7, "account_id", "A\\u200b005", INVISIBLE),
    ("accounts.csv", 8, "account_id", 'A"6', MARK.format('"')),
    ("accounts.csv", 10, "phone", "*****", NOT_A_PHONE),
    ("accounts.csv", 11, "tags", "t" * 50 + "…",
     "at most 500 characters (this one has 501): shorten it"),
    ("accounts.csv", 12, "", "", NO_VALUE),
    ("bills.csv", 3, "bill_id", "B/2", MARK.format("/")),
    ("bills.csv", 4, "account_id", "A/002", MARK.format("/")),
    ("bills.csv", 5, "", "", NO_VALUE),
    ("payments.csv", 2, "payment_id", "P&1", MARK.format("&")),
    ("payments.csv", 4, "channel", "c" * 33,
     "at most 32 characters (this one has 33): shorten it"),
    ("payments.csv", 5, "channel", "a\\x09b", CONTROL),
    ("payments.csv", 6, "", "", NO_VALUE),
    ("usage.csv", 2, "account_id", "A\\7", MARK.format("\\")),
]  # fmt: skip


# --- the rules, on the reference reader -----------------------------------------------------


def test_each_hostile_row_is_rejected_with_the_rule_it_breaks(tmp_path: Path) -> None:
    inputs = read_inputs(hostile(tmp_path))

    assert as_rows(inputs.rejects) == HOSTILE_REJECTS
    assert inputs.accounts.get_column("account_id").to_list() == ["A001", "戶7"]
    assert inputs.bills.get_column("bill_id").to_list() == ["B001", "B5"]
    assert inputs.payments.get_column("channel").to_list() == ["营业厅"]
    assert inputs.rows_read["bills.csv"] == 5  # the row of separators is a row, rejected


def test_id_pattern_is_the_one_rule_for_python_polars_and_a_web_path() -> None:
    good = ["A001", "戶7", "a-1", "X_9", "b.2", "Z", "A" * 64, "G00000001-201911", "PAY01"]
    bad = ["A" * 65, "a/b", "a\\b", "<x>", "a&b", 'a"b', "a'b", "a`b", "a b", "a\tb", "a\nb",
           "a\u200bb", "a\u202eb", "a\ufeffb", "a\x00b", "a\u3000b", "a\xa0b", ""]  # fmt: skip
    web = TypeAdapter(Annotated[str, Field(pattern=ID_PATTERN)])

    for text in good + bad:
        expected = text in good
        assert (id_problem(text) is None) == expected, text
        assert (re.fullmatch(ID_PATTERN, text) is not None) == expected, text
        assert pl.select(pl.lit(text).str.contains(ID_PATTERN)).item() == expected, text
        if expected:
            web.validate_python(text)
        else:
            with pytest.raises(ValidationError):
                web.validate_python(text)


PHONES_ACCEPTED = [
    "13812345678",
    "+86 138 1234 5678",
    "86-13812345678",
    "138-1234-5678",
    "020-12345678",
    "02012345678",
    "0755-1234567",
    "010-1234-5678",
    "0755-12345678-123",
    "+86 20 12345678",
    "+86-755-12345678",
    "19912345678",
]
PHONES_REFUSED = ["12345", "1381234567", "23812345678", "12812345678", "020-123456",
                  "phone 13812345678", "0755-12345678-1234567", "138123456789", "(020)12345678",
                  "+1 415 555 0100", "１３８１２３４５６７８"]  # fmt: skip


def test_phone_numbers_are_checked_and_a_refused_one_is_shown_masked(tmp_path: Path) -> None:
    phones = PHONES_ACCEPTED + PHONES_REFUSED
    rows = "".join(f'A{n:03},power,residential,440305,"{p}"\n' for n, p in enumerate(phones, 1))
    data = minimal(tmp_path, accounts=f"{ACCOUNTS_HEADER},phone\n{rows}")

    inputs = read_inputs(data)

    assert [(r.line, r.column, r.value, r.reason) for r in inputs.rejects] == [
        (phones.index(p) + 2, "phone", masked(p), NOT_A_PHONE) for p in PHONES_REFUSED
    ]
    assert [is_phone(p) for p in phones] == [p in PHONES_ACCEPTED for p in phones]
    assert masked("13812345678") == "138******78"
    assert masked("1381234567") == "138*****67"
    assert masked("12345") == "*****"
    runner.invoke(app, ["validate", "--data", str(data), "--out", str(tmp_path / "out")])
    written = (tmp_path / "out" / "rejects.csv").read_text(encoding="utf-8")
    assert "23812345678" not in written and "138123456789" not in written


def test_rows_of_only_separators_are_rejected_and_blank_lines_skipped(tmp_path: Path) -> None:
    bills = (f"{BILLS_HEADER}\nB001,A001,{BILL}\n,,,,,\n\n , , , , , \nB002,A001,{BILL}\n"
             "   \n,,,,,\n\n\n")  # fmt: skip
    inputs = read_inputs(minimal(tmp_path, bills=bills))

    assert as_rows(inputs.rejects) == [
        ("bills.csv", 3, "", "", NO_VALUE),
        ("bills.csv", 5, "", "", NO_VALUE),
        ("bills.csv", 8, "", "", NO_VALUE),
    ]
    assert inputs.bills.get_column("bill_id").to_list() == ["B001", "B002"]
    assert inputs.rows_read["bills.csv"] == 5  # lines 2, 3, 5, 6 and 8; blank lines are not rows


# --- the same on the typed and bucket-by-bucket paths ---------------------------------------


def test_parquet_rejects_hostile_rows_as_csv_does(tmp_path: Path) -> None:
    text = hostile(tmp_path / "csv")
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    to_parquet(text, parquet)

    from_csv, from_parquet = read_inputs(text), read_inputs(parquet)

    assert from_parquet.rejects == [as_parquet_reject(r) for r in from_csv.rejects]
    assert len(from_parquet.rejects) == len(HOSTILE_REJECTS)
    assert_frame_equal(from_parquet.accounts, from_csv.accounts)


def test_typed_parquet_ids_are_checked_on_the_quick_pass_as_on_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = pl.DataFrame(
        {"account_id": ["A1", "A/2", "A3"], "utility": ["power"] * 3,
         "customer_class": ["residential"] * 3, "region": ["440305"] * 3,
         "phone": ["13812345678", None, "555"]}
    )  # fmt: skip
    day = date(2020, 1, 5)
    bills = pl.DataFrame(
        [("B1", "A1", "2020-01", day, day, 5), ("B 2", "A1", "2020-01", day, day, 5),
         ("B3", "A/2", "2020-01", day, day, 5), ("B4", "x" * 65, "2020-01", day, day, 5)],
        schema=BILL_SCHEMA, orient="row",
    )  # fmt: skip
    at = datetime.fromisoformat(AT)
    payments = pl.DataFrame(
        [("P1", "A1", at, 5, "营业厅"), ("P'2", "A1", at, 5, None), ("P3", "A1", at, 5, "x" * 40)],
        schema=PAYMENT_SCHEMA, orient="row",
    )  # fmt: skip
    parquet, text = write(tmp_path, accounts=accounts, bills=bills, payments=payments)

    quick = read_inputs(parquet)
    assert_same(read_inputs(text), quick)
    assert [(r.file, r.line, r.column) for r in quick.rejects] == [
        ("accounts.parquet", 2, "account_id"), ("accounts.parquet", 3, "phone"),
        ("bills.parquet", 2, "bill_id"), ("bills.parquet", 3, "account_id"),
        ("bills.parquet", 4, "account_id"), ("payments.parquet", 2, "payment_id"),
        ("payments.parquet", 3, "channel"),
    ]  # fmt: skip
    assert quick.rejects[4].reason == "an id has at most 64 characters (this one has 65)"
    monkeypatch.setattr(readers, "typed_form", lambda column, values: False)
    monkeypatch.setattr(readers, "check_table", all_rows_as_text)
    assert read_inputs(parquet).rejects == quick.rejects


def test_bucket_by_bucket_reading_gives_the_same_rejects_and_warnings(tmp_path: Path) -> None:
    data = hostile(tmp_path / "data")
    with (data / "bills.csv").open("a", encoding="utf-8") as bills:
        bills.write(f"\nB7,A001,{BILL}\n,,,,,\n\n")  # a blank line, a row of separators

    whole = read_inputs(data)
    partitioned = partition_inputs(data, tmp_path / "work", 3)
    assert partitioned is not None
    buckets = [partitioned.check(k) for k in range(3)]

    assert sorted_rejects(r for b in buckets for r in b.rejects) == whole.rejects
    assert ("bills.csv", 9, "", "", NO_VALUE) in as_rows(whole.rejects)
    assert all(b.warnings == whole.warnings for b in buckets)
    assert whole.warnings == (
        "accounts.csv: column 'note' is not part of the contract and is ignored",
    )


# --- columns the contract does not have -----------------------------------------------------


def test_unknown_columns_are_named_in_a_warning_once_per_file_and_column(tmp_path: Path) -> None:
    data = minimal(
        tmp_path,
        accounts=f"foo,{ACCOUNTS_HEADER},Phone,\nx,A001,power,residential,440305,1,\n"
        "y,A002,power,residential,440305,2,\n",
    )

    inputs = read_inputs(data)
    result = runner.invoke(app, ["validate", "--data", str(data), "--out", str(tmp_path)])

    assert inputs.rejects == []
    assert inputs.warnings == (
        "accounts.csv: column 'foo' is not part of the contract and is ignored",
        "accounts.csv: column 'Phone' is not part of the contract and is ignored",
        "accounts.csv: column 7 has no name in the header and is ignored",
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [f"warning: {w}" for w in inputs.warnings]


# --- encodings ------------------------------------------------------------------------------

GBK_ACCOUNTS = f"{ACCOUNTS_HEADER},tags,note\nA001,power,residential,440305,医院;重点保障,备注\n"
GBK_PAYMENTS = f"{PAYMENTS_HEADER}\nP1,A001,{AT},100,营业厅\n"


def gbk_folder(path: Path, encoding: str = "gbk") -> Path:
    """The minimal folder, its accounts with Chinese tags and a payment at 营业厅, in GBK."""
    path.mkdir(parents=True, exist_ok=True)
    minimal(path)
    (path / "accounts.csv").write_bytes(GBK_ACCOUNTS.encode(encoding))
    (path / "payments.csv").write_bytes(GBK_PAYMENTS.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_a_gbk_export_loads_with_its_encoding_and_is_refused_without(
    tmp_path: Path, encoding: str
) -> None:
    data = gbk_folder(tmp_path, encoding)

    inputs = read_inputs(data, encoding=encoding.upper())

    assert inputs.rejects == []
    assert inputs.accounts.get_column("tags").to_list() == [["医院", "重点保障"]]
    assert inputs.payments.get_column("channel").to_list() == ["营业厅"]
    assert (
        inputs.files["accounts.csv"]
        == hashlib.sha256((data / "accounts.csv").read_bytes()).hexdigest()
    )  # the digest of the file as given, not of its UTF-8 copy
    with pytest.raises(InputFileError) as refused:
        read_inputs(data)
    assert str(refused.value) == (
        "accounts.csv:2: not UTF-8 text (byte 0xD6 in column 34): save it as UTF-8 or pass "
        "--encoding gbk"
    )  # 医院 happens to be valid UTF-8; 重 is not


def test_text_that_is_not_utf8_is_refused_with_its_first_bad_line(tmp_path: Path) -> None:
    data = minimal(tmp_path)
    rows = "".join(f"P{n},A001,{AT},100,营业厅\n" for n in range(1, 40_000))  # > 1 MB
    head = next(  # a BOM, and a character split by the end of the first 1 MB read
        text
        for pad in range(64)
        if 0x80 <= (text := f"\ufeff{PAYMENTS_HEADER}\nP{'0' * pad},A001,{AT},100,营业厅\n{rows}"
                    .encode())[1024 * 1024] < 0xC0
    )  # fmt: skip
    (data / "payments.csv").write_bytes(head)
    assert read_inputs(data).payments.height == 40_000

    bad = f"Q1,A001,{AT},100,caf"
    (data / "payments.csv").write_bytes(head + f"{bad}\xe9\n".encode("latin-1"))
    with pytest.raises(InputFileError) as refused:
        read_inputs(data)
    assert str(refused.value) == (
        f"payments.csv:40002: not UTF-8 text (byte 0xE9 in column {len(bad) + 1}): save it as "
        "UTF-8 or pass --encoding gbk"
    )
    (data / "payments.csv").write_bytes(head[:-2])  # ends inside a character
    with pytest.raises(InputFileError, match=r"^payments\.csv:40001: not UTF-8 text"):
        read_inputs(data)
    (data / "bills.csv").write_bytes(b"bill_id\n\x81\x20\n")
    with pytest.raises(InputFileError, match=r"^bills\.csv:2: not GBK text \(byte 0x81 in col"):
        read_inputs(data, encoding="gbk")


def test_an_unknown_encoding_is_refused_with_the_ones_accepted(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--data", str(minimal(tmp_path)), "--encoding", "x"])

    assert result.exit_code != 0
    assert "give utf-8 (the default), gbk or gb18030" in str(result.exception)


# --- a 10 MB id -----------------------------------------------------------------------------


def test_a_10_mb_payment_id_is_rejected_and_rejects_csv_stays_small(tmp_path: Path) -> None:
    huge = "P" * 10_000_000
    (tmp_path / "data").mkdir()
    data = minimal(tmp_path / "data", payments=f"{PAYMENTS_HEADER}\n{huge},A001,{AT},100,app\n")

    result = runner.invoke(app, ["validate", "--data", str(data), "--out", str(tmp_path)])

    assert result.exit_code == 1
    written = (tmp_path / "rejects.csv").read_text(encoding="utf-8")
    assert len(written) < 500
    assert f"payments.csv,2,payment_id,{'P' * 50}…,an id has at most 64 characters " in written
    assert "(this one has 10000000)" in written
    assert len(result.output) < 2000


# --- sanbuting run and db import ------------------------------------------------------------

POLICIES = Path(__file__).resolve().parent.parent / "examples" / "policies" / "2020-epidemic.yaml"


@pytest.mark.parametrize("buckets", ["1", "2"])
def test_run_reads_a_gbk_export_with_encoding_and_warns_of_ignored_columns(
    tmp_path: Path, buckets: str
) -> None:
    data = gbk_folder(tmp_path / "data")
    out = tmp_path / "out"
    args = ["run", "--data", str(data), "--policies", str(POLICIES), "--start", "2020-01-01",
            "--end", "2020-01-31", "--out", str(out), "--buckets", buckets]  # fmt: skip

    refused = runner.invoke(app, args)
    result = runner.invoke(app, [*args, "--encoding", "gbk"])

    assert isinstance(refused.exception, InputFileError)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: accounts.csv: column 'note' is not part of the contract and is ignored"
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256((data / "payments.csv").read_bytes()).hexdigest()
    assert summary["inputs"]["payments.csv"] == digest


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    for url in database("sqlite", tmp_path):
        upgrade(url)
        yield url


def test_db_import_rejects_hostile_rows_as_validate_does(sqlite_url: str, tmp_path: Path) -> None:
    data = hostile(tmp_path / "data")
    runner.invoke(app, ["validate", "--data", str(data), "--out", str(tmp_path / "v")])

    result = runner.invoke(
        app,
        ["db", "import", str(data), "--start", "2020-01-01", "--rejects", str(tmp_path / "r.csv")],
        env={"SANBUTING_DATABASE_URL": sqlite_url},
    )

    assert result.exit_code == 1
    assert (tmp_path / "r.csv").read_bytes() == (tmp_path / "v" / "rejects.csv").read_bytes()
    assert "warning: accounts.csv: column 'note' is not part of the contract" in result.stderr


def test_db_import_reads_gbk_with_encoding_and_masks_a_stored_phone(
    sqlite_url: str, tmp_path: Path
) -> None:
    data = gbk_folder(tmp_path / "data")
    env = {"SANBUTING_DATABASE_URL": sqlite_url}
    start = ["--start", "2020-01-01", "--rejects", str(tmp_path / "r.csv")]

    refused = runner.invoke(app, ["db", "import", str(data), *start], env=env)
    imported = runner.invoke(app, ["db", "import", str(data), *start, "--encoding", "gbk"], env=env)

    assert isinstance(refused.exception, InputFileError)
    assert imported.exit_code == 0, imported.output
    assert "warning: accounts.csv: column 'note' is not part of the contract" in imported.stderr
    (tmp_path / "phones").mkdir()
    with_phone = folder(
        tmp_path / "phones",
        accounts=f"{ACCOUNTS_HEADER},phone\nA100,power,residential,440305,13800138000\n",
        bills=f"{BILLS_HEADER}\n",
    )
    assert runner.invoke(app, ["db", "import", str(with_phone), *start], env=env).exit_code == 0
    (with_phone / "accounts.csv").write_text(
        f"{ACCOUNTS_HEADER},phone\nA100,power,residential,440305,13900139000\n", encoding="utf-8"
    )
    changed = runner.invoke(app, ["db", "import", str(with_phone), *start], env=env)
    assert changed.exit_code == 1
    written = (tmp_path / "r.csv").read_text(encoding="utf-8")
    assert "accounts.csv,2,phone,139******00,already in the store with other content " in written
    assert "(phone = 138******00)" in written
    assert "13800138000" not in written and "13900139000" not in written
