"""`sanbuting db import DIR --start D` on SQLite and PostgreSQL: the rows added per table, a
re-import that adds nothing, a row whose id is stored with other content rejected (file, line,
column, reason) with the stored row left as it was, a folder with bad rows refused whole
unless `--allow-rejects` (with the same rejects.csv as `sanbuting validate`), `--company`,
a company's start date, and each company's default ruleset.

Inputs are small literal CSV tables written to tmp_path; expected rows are literals."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from sanbuting.cli import app
from sanbuting.errors import SanbutingError
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import (
    Account,
    Base,
    Bill,
    Company,
    ImportedFile,
    LedgerLine,
    Payment,
    Posting,
    Usage,
)
from store_databases import BACKENDS, database

ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    A1,power,residential,440305,postpaid,,active,0,0,
    A2,power,non_residential,440104,postpaid,hospital;epidemic_key,disconnected,0,0,13800138000
    A3,power,residential,440305,prepaid,,active,5000,0,
    T1,telecom,residential,420111,postpaid,,active,0,5000,
    G1,gas,residential,420102,postpaid,,active,0,0,
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,A2,2020-01,2020-01-05,2020-01-20,20000
    B3,T1,2020-01,2020-01-03,2020-01-25,8000
    B4,G1,2020-01,2020-01-06,2020-01-31,6000
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
    P1,A1,2020-01-25T10:00:00+08:00,10000,app
    P2,A3,2020-01-10T09:00:00+08:00,3000,kiosk
"""
USAGE = """
    account_id,date,amount_fen
    A3,2020-01-02,150
    A3,2020-01-03,200
"""
MODELS: dict[str, type[Base]] = {
    "companies": Company,
    "accounts": Account,
    "bills": Bill,
    "payments": Payment,
    "usage": Usage,
    "postings": Posting,
    "ledger_lines": LedgerLine,
}


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        yield value


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def write_folder(folder: Path, **tables: str) -> Path:
    """An input folder with one CSV file per literal table (dedented, blank lines dropped)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        body = [line.strip() for line in textwrap.dedent(text).splitlines() if line.strip()]
        (folder / f"{name}.csv").write_text("\n".join(body) + "\n", encoding="utf-8")
    return folder


def full_folder(folder: Path) -> Path:
    return write_folder(folder, accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS, usage=USAGE)


def db_import(url: str, folder: Path, *args: str) -> Result:
    """`sanbuting db import FOLDER ARGS` against `url` (rejects to FOLDER/../rejects.csv
    unless `--rejects` is given)."""
    extra = list(args)
    if "--rejects" not in extra:
        extra += ["--rejects", str(folder.parent / "rejects.csv")]
    return CliRunner().invoke(
        app,
        ["db", "import", str(folder), *extra],
        env={"SANBUTING_DATABASE_URL": url},
    )


def counts(engine: Engine) -> dict[str, int]:
    with sessions(engine).begin() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in MODELS.items()
        }


def read_csv(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in csv.reader(handle)]


def test_import_adds_rows_per_table_and_again_adds_nothing(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    data = full_folder(tmp_path / "data")

    first = db_import(url, data, "--start", "2020-01-01")

    assert first.exit_code == 0, first.output
    assert "added 5 accounts, 4 bills, 2 payments, 2 usage; 0 rows were already" in first.output
    before = counts(engine)
    assert {k: v for k, v in before.items() if k not in ("postings", "ledger_lines")} == {
        "companies": 3,  # power, telecom, gas: one per utility present
        "accounts": 5,
        "bills": 4,
        "payments": 2,
        "usage": 2,
    }
    assert before["postings"] > 0  # the ledger was booked in the same transaction
    with sessions(engine).begin() as session:
        stored = session.execute(
            select(
                Account.account_id,
                Company.code,
                Account.customer_class,
                Account.region,
                Account.billing_mode,
                Account.tags,
                Account.state,
                Account.opening_balance_fen,
                Account.credit_limit_fen,
                Account.phone,
            )
            .join(Company, Company.id == Account.company_id)
            .order_by(Account.account_id)
        ).all()
        assert [tuple(row) for row in stored] == [
            ("A1", "power", "residential", "440305", "postpaid", "", "active", 0, 0, None),
            ("A2", "power", "non_residential", "440104", "postpaid", "hospital;epidemic_key",
             "disconnected", 0, 0, "13800138000"),
            ("A3", "power", "residential", "440305", "prepaid", "", "active", 5000, 0, None),
            ("G1", "gas", "residential", "420102", "postpaid", "", "active", 0, 0, None),
            ("T1", "telecom", "residential", "420111", "postpaid", "", "active", 0, 5000, None),
        ]  # fmt: skip
        bills = session.execute(
            select(Bill.bill_id, Account.account_id, Bill.period, Bill.issued_on, Bill.due_on,
                   Bill.amount_fen)
            .join(Account, Account.id == Bill.account)
            .order_by(Bill.bill_id)
        ).all()  # fmt: skip
        assert [tuple(row) for row in bills] == [
            ("B1", "A1", "2020-01", date(2020, 1, 5), date(2020, 1, 20), 10000),
            ("B2", "A2", "2020-01", date(2020, 1, 5), date(2020, 1, 20), 20000),
            ("B3", "T1", "2020-01", date(2020, 1, 3), date(2020, 1, 25), 8000),
            ("B4", "G1", "2020-01", date(2020, 1, 6), date(2020, 1, 31), 6000),
        ]

    again = db_import(url, data)  # no --start: the companies have theirs

    assert again.exit_code == 0, again.output
    assert (
        "added 0 accounts, 0 bills, 0 payments, 0 usage; 13 rows were already in the store"
        in again.output
    )
    assert counts(engine) == before  # not a row more, ledger included
    with sessions(engine).begin() as session:
        files = session.execute(
            select(ImportedFile.file_name, ImportedFile.rows, ImportedFile.added).order_by(
                ImportedFile.id
            )
        ).all()
    assert sorted(tuple(f) for f in files[:4]) == [
        ("accounts.csv", 5, 5),
        ("bills.csv", 4, 4),
        ("payments.csv", 2, 2),
        ("usage.csv", 2, 2),
    ]
    assert sorted(tuple(f) for f in files[4:]) == [
        ("accounts.csv", 5, 0),
        ("bills.csv", 4, 0),
        ("payments.csv", 2, 0),
        ("usage.csv", 2, 0),
    ]


def test_companies_get_their_utilitys_default_ruleset(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    assert db_import(url, full_folder(tmp_path / "data"), "--start", "2020-01-01").exit_code == 0
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(Company.code, Company.utility, Company.ruleset, Company.origin).order_by(
                Company.code
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("gas", "gas", "cn-gas-default", date(2020, 1, 1)),
        ("power", "power", "cn-power-1996", date(2020, 1, 1)),
        ("telecom", "telecom", "cn-telecom-2016", date(2020, 1, 1)),
    ]


CHANGED_ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    A1,power,residential,440104,postpaid,,active,0,0,
    A3,power,residential,440305,prepaid,,active,5000,0,
"""
CHANGED_BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,12000
    B5,A1,2020-02,2020-02-05,2020-02-20,7000
"""
CHANGED_USAGE = """
    account_id,date,amount_fen
    A3,2020-01-02,999
"""
CHANGED_PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
    P1,A1,2020-01-25T10:00:00+08:00,9000,app
"""


def test_a_row_stored_with_other_content_is_rejected_and_left_as_it_was(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    assert db_import(url, full_folder(tmp_path / "data"), "--start", "2020-01-01").exit_code == 0
    before = counts(engine)
    changed = write_folder(
        tmp_path / "changed",
        accounts=CHANGED_ACCOUNTS,  # A1 moved to 440104; A3 as stored
        bills=CHANGED_BILLS,  # B1 re-issued for 12000; B5 new
        usage=CHANGED_USAGE,  # A3's 2020-01-02 usage was 150
    )
    rejects = tmp_path / "conflicts.csv"

    refused = db_import(url, changed, "--rejects", str(rejects))

    assert refused.exit_code == 1, refused.output
    assert "3 rows rejected" in refused.output and "nothing imported" in refused.output
    assert read_csv(rejects) == [
        ("file", "line", "column", "value", "reason"),
        ("accounts.csv", "2", "region", "440104",
         "already in the store with other content (region = 440305); "
         "an import never changes a stored row"),
        ("bills.csv", "2", "amount_fen", "12000",
         "already in the store with other content (amount_fen = 10000); "
         "an import never changes a stored row"),
        ("usage.csv", "2", "amount_fen", "999",
         "already in the store with other content (amount_fen = 150); "
         "an import never changes a stored row"),
    ]  # fmt: skip
    assert counts(engine) == before  # B5 not added either: nothing is written

    allowed = db_import(url, changed, "--rejects", str(rejects), "--allow-rejects")

    assert allowed.exit_code == 0, allowed.output
    assert "added 0 accounts, 1 bills, 0 payments, 0 usage" in allowed.output
    with sessions(engine).begin() as session:
        assert session.scalar(select(Account.region).where(Account.account_id == "A1")) == (
            "440305"
        )
        amounts = session.execute(select(Bill.bill_id, Bill.amount_fen).order_by(Bill.bill_id))
        assert [tuple(r) for r in amounts] == [
            ("B1", 10000),  # unchanged
            ("B2", 20000),
            ("B3", 8000),
            ("B4", 6000),
            ("B5", 7000),  # the good row of the second folder
        ]
        used = session.execute(select(Usage.day, Usage.amount_fen).order_by(Usage.day))
        assert [tuple(r) for r in used] == [(date(2020, 1, 2), 150), (date(2020, 1, 3), 200)]


def test_a_payment_id_stored_with_other_content_is_rejected(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    assert db_import(url, full_folder(tmp_path / "data"), "--start", "2020-01-01").exit_code == 0
    before = counts(engine)
    changed = write_folder(
        tmp_path / "changed",
        accounts=ACCOUNTS,
        bills=BILLS,
        payments=CHANGED_PAYMENTS,  # P1 for 9000 instead of 10000
    )
    rejects = tmp_path / "conflicts.csv"

    refused = db_import(url, changed, "--rejects", str(rejects))

    assert not isinstance(refused.exception, KeyError), (
        "PRODUCT BUG: a payment_id stored with other content crashes `db import` with "
        f"{refused.exception!r} (store/import_rows.py split_new looks the contract key "
        "'payment_id' up in a row that has it as 'key') instead of rejecting the row"
    )
    assert refused.exit_code == 1, refused.output
    assert [row[:4] for row in read_csv(rejects)] == [
        ("file", "line", "column", "value"),
        ("payments.csv", "2", "amount_fen", "9000"),
    ]
    assert "already in the store with other content" in read_csv(rejects)[1][4]
    assert counts(engine) == before
    with sessions(engine).begin() as session:
        assert session.scalar(select(Payment.amount_fen).where(Payment.key == "P1")) == 10000


BAD_ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode
    A1,power,residential,440305,postpaid
    A2,power,residential,999999,postpaid
    A3,water,residential,440305,postpaid
    A4,power,residential,440305,prepaid
"""
BAD_BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,A1,2020-02,2020-02-05,2020-02-20,0
    B3,ZZ,2020-01,2020-01-05,2020-01-20,5000
    B4,A1,2020-03,2020-03-05,2020-03-01,5000
"""
BAD_PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
    P1,A1,2020-01-25T10:00:00+08:00,10000,app
    P2,A1,2020-01-26 10:00,500,app
"""
GOOD_USAGE = """
    account_id,date,amount_fen
    A4,2020-01-02,150
"""


def test_bad_rows_are_refused_as_validate_refuses_them(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    data = write_folder(
        tmp_path / "data",
        accounts=BAD_ACCOUNTS,
        bills=BAD_BILLS,
        payments=BAD_PAYMENTS,
        usage=GOOD_USAGE,
    )
    validated = CliRunner().invoke(
        app, ["validate", "--data", str(data), "--out", str(tmp_path / "v")]
    )
    assert validated.exit_code == 1, validated.output
    rejects = tmp_path / "rejects.csv"

    refused = db_import(url, data, "--start", "2020-01-01", "--rejects", str(rejects))

    assert refused.exit_code != 0, refused.output
    assert "fix them or import with --allow-rejects" in refused.output
    assert rejects.read_bytes() == (tmp_path / "v" / "rejects.csv").read_bytes()
    assert [row[:4] for row in read_csv(rejects)] == [
        ("file", "line", "column", "value"),
        ("accounts.csv", "3", "region", "999999"),
        ("accounts.csv", "4", "utility", "water"),
        ("bills.csv", "3", "amount_fen", "0"),
        ("bills.csv", "4", "account_id", "ZZ"),
        ("bills.csv", "5", "due_on", "2020-03-01"),
        ("payments.csv", "3", "paid_at", "2020-01-26 10:00"),
    ]
    assert set(counts(engine).values()) == {0}  # not even a company

    allowed = db_import(
        url, data, "--start", "2020-01-01", "--rejects", str(rejects), "--allow-rejects"
    )

    assert allowed.exit_code == 0, allowed.output
    assert "added 2 accounts, 1 bills, 1 payments, 1 usage" in allowed.output
    assert "the other rows imported" in allowed.output
    with sessions(engine).begin() as session:
        assert list(session.scalars(select(Account.account_id).order_by(Account.account_id))) == [
            "A1",
            "A4",
        ]
        assert list(session.scalars(select(Bill.bill_id))) == ["B1"]
        assert list(session.scalars(select(Payment.key))) == ["P1"]


MIXED_ACCOUNTS = """
    account_id,utility,customer_class,region
    A1,power,residential,440305
    T1,telecom,residential,420111
"""
MIXED_BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,T1,2020-01,2020-01-03,2020-01-25,8000
"""


def test_company_option_names_the_company_and_refuses_another_utility(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    data = write_folder(tmp_path / "data", accounts=MIXED_ACCOUNTS, bills=MIXED_BILLS)
    rejects = tmp_path / "rejects.csv"

    refused = db_import(
        url, data, "--start", "2020-01-01", "--company", "sz-power", "--rejects", str(rejects)
    )
    assert refused.exit_code == 1, refused.output
    allowed = db_import(
        url,
        data,
        "--start",
        "2020-01-01",
        "--company",
        "sz-power",
        "--rejects",
        str(rejects),
        "--allow-rejects",
    )

    assert allowed.exit_code == 0, allowed.output
    assert [row[:4] for row in read_csv(rejects)] == [
        ("file", "line", "column", "value"),
        ("accounts.csv", "3", "utility", "telecom"),
        ("bills.csv", "3", "account_id", "T1"),
    ]
    assert "cannot go into company 'sz-power'" in read_csv(rejects)[1][4]
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(Account.account_id, Company.code, Company.utility, Company.ruleset).join(
                Company, Company.id == Account.company_id
            )
        ).all()
        assert [tuple(r) for r in rows] == [("A1", "sz-power", "power", "cn-power-1996")]
        assert list(session.scalars(select(Company.code))) == ["sz-power"]
        assert list(session.scalars(select(Bill.bill_id))) == ["B1"]


def test_a_second_import_with_another_start_is_refused(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    data = full_folder(tmp_path / "data")
    assert db_import(url, data, "--start", "2020-01-01").exit_code == 0
    before = counts(engine)
    more = write_folder(
        tmp_path / "more",
        accounts="""
            account_id,utility,customer_class,region
            A9,power,residential,440305
        """,
        bills="bill_id,account_id,period,issued_on,due_on,amount_fen",
    )

    result = db_import(url, more, "--start", "2020-02-01")

    assert result.exit_code != 0
    assert isinstance(result.exception, SanbutingError)
    assert str(result.exception) == (
        "company 'power' starts on 2020-01-01, not 2020-02-01: imports into one company "
        "share its start date"
    )
    assert counts(engine) == before


def test_the_first_import_needs_a_start(url: str, engine: Engine, tmp_path: Path) -> None:
    result = db_import(url, full_folder(tmp_path / "data"))

    assert result.exit_code != 0
    assert isinstance(result.exception, SanbutingError)
    assert "has no start date yet: give --start" in str(result.exception)
    assert set(counts(engine).values()) == {0}
