"""Shared by the input tests: the data folders, tmp input folders, rejects as rows and the
rejects the broken folder must give."""

from __future__ import annotations

from pathlib import Path

from sanbuting.io.rejects import Reject

DATA = Path(__file__).parent / "data" / "inputs"

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
