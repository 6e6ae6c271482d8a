"""A bank file posted in parts at once, a process a part (`pay --file --jobs N`), books what one
process books: the same result for every row, the same ledger, open books and orders.

`split` keeps an account's rows, and a key's rows, in one part, in file order, so that each
account's payments keep their order and a key's first row is the one that posts.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from sanbuting.errors import SanbutingError
from sanbuting.jobs.bank_file import BankRow, post_rows, split, waves
from sanbuting.store.database import make_engine
from sanbuting.store.migrations import upgrade
from store_databases import database, import_into, write_folder
from test_bank_file_sets import NOW, SECOND_ACCOUNT, SECOND_BILLS, store_state
from test_open_items import ACCOUNTS, BILLS, ledger

AT = datetime.fromisoformat("2020-02-09T10:00:00+08:00")


def rows(table: str) -> list[BankRow]:
    """Bank rows from `key,account,amount` lines (all paid at AT), lines from 2."""
    found = []
    for line, text in enumerate(table.strip().splitlines(), start=2):
        key, account, amount = (cell.strip() for cell in text.split(","))
        found.append(BankRow(line, key, account, AT, int(amount), "bank"))
    return found


def test_an_accounts_rows_and_a_keys_rows_stay_in_one_part() -> None:
    file = rows(
        """
        K1,A,100
        K2,B,100
        K3,C,100
        K4,A,100
        K2,D,100
        K5,E,100
        """
    )
    parts = split(file, 2)
    assert [[(r.payment_id, r.account_id) for r in part] for part in parts] == [
        [("K1", "A"), ("K3", "C"), ("K4", "A")],  # file order in each part
        [("K2", "B"), ("K2", "D"), ("K5", "E")],  # B and D share K2
    ]
    assert split(file, 1) == [file]
    assert sum(len(p) for p in split(file, 8)) == len(file) and len(split(file, 8)) == 4


def test_a_set_based_file_is_posted_in_waves_of_each_accounts_next_row() -> None:
    file = rows(
        """
        K1,A,100
        K2,A,200
        K3,B,100
        K4,A,300
        K5,C,100
        K6,B,200
        """
    )
    assert [r.payment_id for r in waves(file)] == ["K1", "K3", "K5", "K2", "K6", "K4"]
    repeated = [*file, rows("K1,C,100")[0]]
    assert waves(repeated) == repeated  # a key twice in the file: file order decides


FILE = """
    P1,A1,6000
    Q1,A2,5000
    P2,A1,100
    Q1,A2,5000
    X1,NOBODY,100
    Q3,A2,300
"""


def posted(url: str, jobs: int) -> tuple[object, ...]:
    engine = make_engine(url)
    try:
        results = post_rows(engine=engine, rows=rows(FILE), now=lambda: NOW, batch=1, jobs=jobs)
    finally:
        engine.dispose()
    return sorted(results, key=lambda r: r.line), sorted(ledger(url), key=repr), store_state(url)


def test_a_file_posted_by_two_processes_books_what_one_process_books(tmp_path: Path) -> None:
    outcomes = []
    for jobs in (1, 2):
        for url in database("postgresql", tmp_path / str(jobs)):
            upgrade(url)
            folder = write_folder(
                tmp_path / f"in{jobs}",
                accounts=ACCOUNTS + SECOND_ACCOUNT,
                bills=BILLS + SECOND_BILLS,
                payments="payment_id,account_id,paid_at,amount_fen,channel",
            )
            import_into(url, folder, tmp_path / str(jobs), date(2020, 1, 1))
            outcomes.append(posted(url, jobs))
    one, two = outcomes
    assert [(r.payment_id, r.result) for r in two[0]] == [  # type: ignore[attr-defined]
        ("P1", "posted"),
        ("Q1", "posted"),
        ("P2", "posted"),
        ("Q1", "repeated"),
        ("X1", "refused"),
        ("Q3", "posted"),
    ]
    assert two == one


def test_a_part_that_cannot_reach_the_database_stops_the_file_with_a_sentence(
    tmp_path: Path,
) -> None:
    for url in database("postgresql", tmp_path):
        engine = make_engine(url.replace("/test", "/no_such_database_here"))
        with pytest.raises(SanbutingError, match="the database or the system failed"):
            post_rows(engine=engine, rows=rows(FILE), now=lambda: NOW, batch=1, jobs=2)
        engine.dispose()
