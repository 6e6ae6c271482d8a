"""The driver's way of posting a payment from its account's open book (`payments.lean`, on
PostgreSQL) books exactly what the ORM's way books: the same results, the same ledger posting
by posting, the same open book, the same orders.

The scenarios are the worked examples of `test_ledger_payments.py` (their arithmetic is there),
each posted twice, once with the driver's way and once without it, on two stores; the property
holds the driver's way on PostgreSQL equal to the history replayed on SQLite over random
universes (`test_open_items.py`'s property, the other door)."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError

from sanbuting.jobs.bank_file import BankRow, post_rows
from sanbuting.payments import lean
from sanbuting.payments.service import Part, PaymentIn, PaymentRefused, PaymentResult, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from store_databases import database, import_into, write_folder
from strategies import Universe, universes
from test_bank_file_sets import counted_together, store_state
from test_ledger_payments import (
    ACCOUNTS,
    BILLS,
    NOW,
    P1_RESULT,
    P2_RESULT,
    PAYMENTS,
    USAGE,
    at,
    pay,
)
from test_open_items import by_account, counted_open_items, ledger, post_all, postable

EXAMPLES = max(5, (settings.default or settings()).max_examples // 20)
ORIGIN = date(2020, 1, 1)


@contextmanager
def driver_posts(*, allowed: bool = True) -> Iterator[list[str]]:
    """The keys posted the driver's way while the block runs (none when not `allowed`)."""
    real = lean.post
    taken: list[str] = []

    def way(**kwargs: Any) -> PaymentResult | None:
        if not allowed:
            return None
        found = real(**kwargs)
        if found is not None:
            taken.append(kwargs["payment"].key)
        return found

    lean.post = way  # type: ignore[assignment]
    try:
        yield taken
    finally:
        lean.post = real  # type: ignore[assignment]


@contextmanager
def postgres_store(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL store of the worked examples' rows (skipped without PostgreSQL)."""
    for url in database("postgresql", tmp_path):
        upgrade(url)
        folder = write_folder(
            tmp_path / "data", accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS, usage=USAGE
        )
        import_into(url, folder, tmp_path, ORIGIN)
        yield url


def both_ways(
    tmp_path: Path, payments: list[tuple[str, int, str, str]]
) -> tuple[list[str], list[PaymentResult], list[PaymentResult]]:
    """`payments` (account, fen, key, instant) posted on two stores, with and without the
    driver's way, the stores' ledgers and state held equal; the keys posted the driver's way,
    and each way's results."""
    outcomes = []
    for allowed in (True, False):
        with postgres_store(tmp_path / str(allowed)) as url, driver_posts(allowed=allowed) as taken:
            engine = make_engine(url)
            results = [pay(engine, *payment, "counter") for payment in payments]
            engine.dispose()
            outcomes.append((taken, results, ledger(url), store_state(url)))
    (taken, fast, fast_ledger, fast_state), (_, slow, slow_ledger, slow_state) = outcomes
    assert fast_ledger == slow_ledger
    assert fast_state == slow_state
    return taken, fast, slow


def test_the_drivers_way_books_the_worked_example(tmp_path: Path) -> None:
    taken, fast, slow = both_ways(
        tmp_path,
        [
            ("A1", 10200, "P-1", "2020-03-01T10:00:00+08:00"),
            ("A1", 9000, "P-2", "2020-03-02T10:00:00+08:00"),
        ],
    )
    # the import left A1's open book at its last row's day (02-05, B2 issued): P-1 starts from
    # it and leaves the open book of 02-29, where P-2 starts
    assert taken == ["P-1", "P-2"]
    assert fast == slow == [P1_RESULT, P2_RESULT]


def test_clearing_a_cut_off_account_from_its_open_book_queues_its_reconnection(
    tmp_path: Path,
) -> None:
    # D1 (disconnected) owes BD, 6000 fen due 2019-12-20. 100 fen on 01-09 pays principal from
    # the open book the import left and leaves the open book of 01-08; 10000 on 01-10 clears
    # the rest, principal 5900 and the fee finalized with it, and queues the reconnection the
    # run would give that day.
    taken, fast, slow = both_ways(
        tmp_path,
        [
            ("D1", 100, "PD-1", "2020-01-09T10:00:00+08:00"),
            ("D1", 10000, "PD-2", "2020-01-10T10:00:00+08:00"),
        ],
    )
    assert taken == ["PD-1", "PD-2"]
    assert fast == slow
    clearing = fast[1]
    assert clearing.parts[0].principal_fen == 5900 and clearing.parts[0].bill_id == "BD"
    assert (clearing.arrears_before_fen, clearing.arrears_after_fen) == (5900, 0)
    assert clearing.reconnect_queued is True


def test_a_repeat_of_a_key_posted_the_drivers_way_returns_its_first_result(
    tmp_path: Path,
) -> None:
    with postgres_store(tmp_path) as url, driver_posts() as taken:
        engine = make_engine(url)
        pay(engine, "D1", 100, "PD-1", "2020-01-09T10:00:00+08:00")
        first = pay(engine, "D1", 10000, "PD-2", "2020-01-10T10:00:00+08:00")
        again = pay(engine, "D1", 10000, "PD-2", "2020-01-10T10:00:00+08:00")
        engine.dispose()
        before = store_state(url)
    assert taken == ["PD-1", "PD-2"]
    assert again == replace(first, repeated=True)
    assert again.reconnect_queued is True  # the stored result says what the first one did
    assert [order[0] for order in before[3]] == ["power:reconnect:D1:2020-01-10"]
    assert Part("BD", 5900, first.parts[0].fee_fen) == first.parts[0]


def test_a_key_taken_while_the_drivers_way_waits_writes_nothing(tmp_path: Path) -> None:
    """Another account's payment holds the key, uncommitted, when A1's payment reads (so A1
    does not see it) and commits while A1's writes wait on it: A1's payment is refused and, its
    transaction committed anyway, A1's ledger, watermark and open book are as before."""
    with postgres_store(tmp_path) as url, driver_posts() as taken:
        engine = make_engine(url)
        pay(engine, "A1", 10200, "P-1", "2020-03-01T10:00:00+08:00")
        before = (ledger(url), store_state(url))
        holder = sessions(engine)()
        holder.begin()
        post_payment(
            session=holder,
            payment=PaymentIn("D1", 100, "K", at("2020-03-02T09:00:00+08:00"), "counter"),
            policies=[],
            now=NOW,
        )
        outcome: list[object] = []

        def second() -> None:
            with sessions(engine)() as session, session.begin():
                try:
                    post_payment(
                        session=session,
                        payment=PaymentIn("A1", 9000, "K", at("2020-03-02T10:00:00+08:00"), "bank"),
                        policies=[],
                        now=NOW,
                    )
                except PaymentRefused as refused:
                    outcome.append(refused)

        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(1.0)  # A1's payment has read and waits on the key
        holder.commit()
        holder.close()
        waiting.join()
        after = (ledger(url), store_state(url))
        engine.dispose()
    # P-1 and D1's K from the open books the import left; A1's K wrote nothing (the key was
    # taken while its write waited) and the ORM's way refused it
    assert taken == ["P-1", "K"]
    assert len(outcome) == 1 and "already used" in str(outcome[0])
    assert [p for p in after[0] if p[2] == "A1"] == [p for p in before[0] if p[2] == "A1"]
    books_items_watermarks = (0, 1, 5)  # store_state's
    assert [[r for r in after[1][n] if r[0] == "A1"] for n in books_items_watermarks] == [
        [r for r in before[1][n] if r[0] == "A1"] for n in books_items_watermarks
    ]


@pytest.mark.property
@settings(max_examples=EXAMPLES, deadline=None)
@given(universe=universes(max_accounts=3, max_each_policy=2), data=st.data())
def test_the_drivers_way_books_what_the_history_books(universe: Universe, data) -> None:  # type: ignore[no-untyped-def]
    drawn = postable(universe, data)
    if drawn is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        with driver_posts(), counted_open_items(allowed=True):
            for url in database("postgresql", Path(tmp)):
                fast = post_all(Path(tmp) / "open", url, universe, drawn)
        with counted_open_items(allowed=False):  # SQLite: the history, every payment
            slow = post_all(Path(tmp) / "history", None, universe, drawn)
    assert fast[0] == slow[0]
    assert by_account(fast[1]) == by_account(slow[1])


def test_a_database_error_of_the_drivers_way_is_raised_as_the_orms(tmp_path: Path) -> None:
    """Callers retry a deadlock or a lost connection by SQLAlchemy's errors (crash trials do):
    the driver's way raises those, not the driver's own."""
    for url in database("postgresql", tmp_path):
        engine = make_engine(url)
        with sessions(engine)() as session, session.begin():
            connection = session.connection().connection.driver_connection
            with pytest.raises(DBAPIError) as raised:
                lean.send(connection, [("SELECT 1 / %(zero)s", {"zero": 0})])
        engine.dispose()
    assert raised.value.orig is not None and raised.value.orig.sqlstate == "22012"


@contextmanager
def driver(*, usable: bool) -> Iterator[None]:
    """The driver's way allowed, or not at all (every payment the ORM's way)."""
    real = lean.usable
    lean.usable = lambda session: usable and real(session)  # type: ignore[assignment]
    try:
        yield
    finally:
        lean.usable = real  # type: ignore[assignment]


def test_a_batch_the_drivers_way_settles_a_cut_off_account_in_it(tmp_path: Path) -> None:
    """A bank file's rounds of two accounts each, posted together the driver's way: in the
    second, PD-2 clears D1's arrears (as in the scenario above) and queues its reconnection,
    and its stored result says so; all as the ORM's way books it, posting by posting."""
    file = [
        ("D1", 100, "PD-1", "2020-01-09T10:00:00+08:00"),
        ("A1", 10200, "P-1", "2020-03-01T10:00:00+08:00"),
        ("D1", 10000, "PD-2", "2020-01-10T10:00:00+08:00"),
        ("A1", 9000, "P-2", "2020-03-02T10:00:00+08:00"),
    ]
    rows = [
        BankRow(n + 2, key, account, at(when), fen, "bank")
        for n, (account, fen, key, when) in enumerate(file)
    ]
    outcomes = []
    for usable in (True, False):
        store = postgres_store(tmp_path / str(usable))
        with store as url, driver(usable=usable), counted_together() as taken:
            engine = make_engine(url)
            results = post_rows(engine=engine, rows=rows, now=lambda: NOW, batch=10)
            engine.dispose()
            outcomes.append((taken, results, sorted(ledger(url), key=repr), store_state(url)))
    (taken, results, books, state), (_, slow, slow_books, slow_state) = outcomes
    assert taken == [2, 2]  # two rounds: each account's first payment, then its second
    assert (results, books, state) == (slow, slow_books, slow_state)
    assert [(r.payment_id, r.result, r.arrears_after_fen) for r in results] == [
        ("PD-1", "posted", "5900"),
        ("P-1", "posted", str(P1_RESULT.arrears_after_fen)),
        ("PD-2", "posted", "0"),
        ("P-2", "posted", str(P2_RESULT.arrears_after_fen)),
    ]
    stored = {key: json.loads(result) for key, result, _ in state[2] if result is not None}
    assert stored["PD-2"]["reconnect_queued"] is True
    assert [order[0] for order in state[3]] == ["power:reconnect:D1:2020-01-10"]
