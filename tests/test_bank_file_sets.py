"""A bank file posted set-based (`payments.bulk`: the rows the open items book, together)
books exactly what the same file posted one payment at a time books.

The property: over random universes, the payments split into two files (the second in a
random order, with a row repeated from the first and a row for an unknown account), posted
in random batch sizes, give the same result rows, the very same ledger posting by posting
(not in the same order: the rows posted together are written first),
the same open books, stored results, orders and dirty marks either way.

The scenario (SQLite and PostgreSQL): cn-power-1996, residential, 1 per mille a day; the
first file's payments leave each account's open book (A1's replaying its history, A2's from
the open book the import left), the second file's are posted together from those open books.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sanbuting.jobs.activation import activate
from sanbuting.jobs.bank_file import BankRow, RowResult, post_rows
from sanbuting.payments import bulk
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import (
    Account,
    Bill,
    CheckpointDirty,
    OpenBookRow,
    OpenItemRow,
    OutboxItem,
    Payment,
)
from store_databases import BACKENDS, database, import_into, write_folder
from strategies import Universe, universes
from test_open_items import ACCOUNTS, BILLS, ledger
from test_store_checkpoints import loads, policy_file, write

EXAMPLES = max(10, (settings.default or settings()).max_examples // 10)
NOW = datetime(2020, 6, 1, tzinfo=UTC)


@contextmanager
def counted_together() -> Iterator[list[int]]:
    """Count the payments posted set-based."""
    real = bulk.post_many
    taken: list[int] = []

    def counted(**kwargs: Any) -> Any:
        found = real(**kwargs)
        taken.append(len(found))
        return found

    bulk.post_many = counted  # type: ignore[assignment]
    try:
        yield taken
    finally:
        bulk.post_many = real


def store_state(url: str) -> tuple[object, ...]:
    """Everything a payment writes besides the ledger: open books and their items, stored
    results, orders, dirty marks."""
    engine = make_engine(url)
    with sessions(engine)() as session:
        books = session.execute(
            select(
                Account.account_id,
                OpenBookRow.as_of,
                OpenBookRow.credit_fen,
                OpenBookRow.fingerprint,
            )
            .join(Account, Account.id == OpenBookRow.account)
            .order_by(Account.account_id)
        ).all()
        items = session.execute(
            select(
                Account.account_id,
                Bill.bill_id,
                OpenItemRow.principal_fen,
                OpenItemRow.accrued_units,
                OpenItemRow.waived_units,
                OpenItemRow.days,
                OpenItemRow.waived_days,
                OpenItemRow.charged_fen,
                OpenItemRow.fee_paid_fen,
            )
            .join(Account, Account.id == OpenItemRow.account)
            .join(Bill, Bill.id == OpenItemRow.bill)
            .order_by(Account.account_id, Bill.bill_id)
        ).all()
        paid = session.execute(
            select(Payment.key, Payment.result, Payment.content).order_by(Payment.key)
        ).all()
        orders = session.execute(
            select(OutboxItem.key, OutboxItem.kind, OutboxItem.status).order_by(OutboxItem.key)
        ).all()
        marks = session.execute(
            select(CheckpointDirty.account_id, CheckpointDirty.since).order_by(
                CheckpointDirty.account_id, CheckpointDirty.since
            )
        ).all()
        watermarks = session.execute(
            select(Account.account_id, Account.booked_through).order_by(Account.account_id)
        ).all()
    engine.dispose()
    return tuple(
        tuple(map(tuple, rows)) for rows in (books, items, paid, orders, marks, watermarks)
    )


def post_files(
    url: str, files: list[list[BankRow]], batch: int, set_based: bool
) -> tuple[list[list[RowResult]], list[tuple[object, ...]], tuple[object, ...]]:
    engine = make_engine(url)
    try:
        results = [
            post_rows(
                engine=engine,
                rows=rows,
                now=lambda: NOW,
                batch=batch,
                set_based=set_based,
            )
            for rows in files
        ]
    finally:
        engine.dispose()
    return results, sorted(ledger(url), key=repr), store_state(url)


def bank_rows(rows: list[dict[str, Any]]) -> list[BankRow]:
    return [
        BankRow(
            n + 2, r["payment_id"], r["account_id"], r["paid_at"], r["amount_fen"], r["channel"]
        )
        for n, r in enumerate(rows)
    ]


@cache
def migrated() -> Path:
    """An empty store migrated to head, copied for each example (migrating takes longer)."""
    path = Path(tempfile.mkdtemp()) / "empty.db"
    upgrade(f"sqlite:///{path}")
    return path


def fresh_store(folder: Path, universe: Universe, url: str | None = None) -> str:
    """A store of `universe`'s rows without its payments, its policies in force: a copy of
    the migrated SQLite store, or the empty database at `url`, migrated."""
    folder.mkdir()
    if url is None:
        shutil.copyfile(migrated(), folder / "store.db")
        url = f"sqlite:///{folder / 'store.db'}"
    else:
        upgrade(url)
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        path = policy_file(folder, "policies.yaml", universe.policies)
        activate(session=session, path=path, by="t", at=NOW, company=None)
    engine.dispose()
    accounts, bills, payments, usage = universe.frames
    import_into(url, write(folder / "in", (accounts, bills, payments.clear(), usage)), folder)
    return url


@pytest.mark.property
@settings(max_examples=EXAMPLES, deadline=None)
@given(universe=universes(min_accounts=2, max_accounts=6, max_each_policy=2), data=st.data())
def test_a_file_posted_together_books_what_one_by_one_books(universe: Universe, data) -> None:  # type: ignore[no-untyped-def]
    drawn = two_files(universe, data)
    if drawn is None:
        return
    files, batch = drawn
    with tempfile.TemporaryDirectory() as tmp:
        alone = post_files(fresh_store(Path(tmp) / "alone", universe), files, batch, False)
        with counted_together() as taken:
            together = post_files(fresh_store(Path(tmp) / "together", universe), files, batch, True)
    event(f"posted together: {'some' if sum(taken) else 'none'}")
    assert together[0] == alone[0]
    assert together[1] == alone[1]
    assert together[2] == alone[2]


def two_files(universe: Universe, data) -> tuple[list[list[BankRow]], int] | None:  # type: ignore[no-untyped-def]
    """The universe's payments as two bank files (the second shuffled or not, with a row
    repeated from the first and one for an unknown account) and a batch size; None when the
    policy language does not take the universe's policies."""
    if not loads(universe.policies):
        return None
    rows = sorted(
        universe.payments.drop("paid_on").to_dicts(),
        key=lambda r: (r["paid_at"], r["payment_id"]),
    )
    split = data.draw(st.integers(0, len(rows)), label="first file's rows")
    first, second = rows[:split], rows[split:]
    if data.draw(st.booleans(), label="second file shuffled"):
        second = data.draw(st.permutations(second))
    if first:
        second = [*second, first[0]]  # posted before: repeated
    if rows:
        second = [*second, {**rows[-1], "payment_id": "NOBODY-1", "account_id": "NOBODY"}]
    return [bank_rows(first), bank_rows(second)], data.draw(st.integers(1, 8), label="batch")


@pytest.mark.property
@settings(max_examples=max(5, EXAMPLES // 2), deadline=None)
@given(universe=universes(min_accounts=2, max_accounts=6, max_each_policy=2), data=st.data())
def test_the_drivers_batches_book_what_one_by_one_books(universe: Universe, data) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL a batch's open-item payments go the driver's way together
    (`payments.lean.post_many`): the same as the ORM's way one by one on SQLite."""
    drawn = two_files(universe, data)
    if drawn is None:
        return
    files, batch = drawn
    with tempfile.TemporaryDirectory() as tmp:
        alone = post_files(fresh_store(Path(tmp) / "alone", universe), files, batch, False)
        with counted_together() as taken:
            for url in database("postgresql", Path(tmp)):
                store = fresh_store(Path(tmp) / "together", universe, url)
                together = post_files(store, files, batch, True)
    event(f"posted together: {'some' if sum(taken) else 'none'}")
    assert together[0] == alone[0]
    assert together[1] == alone[1]
    assert together[2] == alone[2]


SECOND_ACCOUNT = "A2,power,residential,440104,postpaid,,active,0,0,"
SECOND_BILLS = """
    C1,A2,2020-01,2020-01-05,2020-01-20,20000
"""


def scenario_rows(text: str) -> list[BankRow]:
    rows = []
    for n, line in enumerate(text.strip().splitlines(), start=2):
        key, account, at, amount = (cell.strip() for cell in line.split(","))
        rows.append(BankRow(n, key, account, datetime.fromisoformat(at), int(amount), "bank"))
    return rows


FIRST_FILE = """
    P1,A1,2020-01-30T10:00:00+08:00,6000
    Q1,A2,2020-01-30T11:00:00+08:00,5000
"""
# From the open books of 01-29: A1 as in test_open_items (4000 + 140 to B1, 860 to B2: arrears
# 4000 before, 0 after); A2's C1 has 15000 open and overdue, its fee not final (the principal
# is not paid off): 5000 to the principal, 15000 before, 10000 after. Both posted together,
# each leaving the open book of 02-08; P1 again answers as it did.
SECOND_FILE = """
    P2,A1,2020-02-09T10:00:00+08:00,5000
    Q2,A2,2020-02-09T10:30:00+08:00,5000
    P1,A1,2020-01-30T10:00:00+08:00,6000
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_second_file_is_posted_together_from_the_open_books(
    backend: str, tmp_path: Path
) -> None:
    for url in database(backend, tmp_path):
        upgrade(url)
        folder = write_folder(
            tmp_path / "in",
            accounts=ACCOUNTS + SECOND_ACCOUNT,
            bills=BILLS + SECOND_BILLS,
            payments="payment_id,account_id,paid_at,amount_fen,channel",
        )
        import_into(url, folder, tmp_path, date(2020, 1, 1))
        engine = make_engine(url)
        with counted_together() as taken:
            first = post_rows(engine=engine, rows=scenario_rows(FIRST_FILE), now=lambda: NOW)
            second = post_rows(engine=engine, rows=scenario_rows(SECOND_FILE), now=lambda: NOW)
        engine.dispose()
        # the first file: Q1 together from the open book the import left for A2 (its last row's
        # day, 01-05); P1 is dated before A1's (02-05, B2 issued) and replays the history. The
        # second file in two rounds (P1 is A1's second).
        assert taken == [1, 2, 0]
        assert [(r.payment_id, r.result, r.arrears_after_fen) for r in first] == [
            ("P1", "posted", "4000"),
            ("Q1", "posted", "15000"),
        ]
        assert [(r.payment_id, r.result, r.arrears_after_fen) for r in second] == [
            ("P2", "posted", "0"),
            ("Q2", "posted", "10000"),
            ("P1", "repeated", "4000"),
        ]
        books = [(account, as_of, credit) for account, as_of, credit, _ in store_state(url)[0]]
        assert books == [("A1", date(2020, 2, 8), 0), ("A2", date(2020, 2, 8), 0)]
