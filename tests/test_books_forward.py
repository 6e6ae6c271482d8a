"""Open books brought forward after the daily run (`jobs.books_forward`) leave the ledger as
the history leaves it, and the next payment walks only the days since the book.

The scenario: A1 (cn-power-1996, residential, 1 per mille a day) owes B1 and B2 and does not
pay; the daily run through 05-31 brings its open book from 02-05 (the import's) to 05-28.

The property: over random universes, payments posted one by one in a random order (some
back-dated), later bills imported and another policy set activated in the middle, with books
brought forward at random points to random days, give the same results and the same ledger
(each account's balance of each book, bill and day) as every payment replaying the history.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from sanbuting.cli import app, service
from sanbuting.jobs.books_forward import bring_forward
from sanbuting.jobs.daily import run_daily
from sanbuting.payments.service import Part, PaymentIn, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Bill, Company, OpenBookRow, OpenItemRow
from strategies import Universe, universes
from test_open_items import (
    EXAMPLES,
    NOW,
    a1_store,
    counted_open_items,
    ledger,
    post_all,
    postable,
    shanghai,
)


def book_of(url: str) -> tuple[date, int, list[tuple[str, int, int, int]]]:
    """A1's open book: its day, credit, and each item's (bill, principal, days, fee units)."""
    engine = make_engine(url)
    with sessions(engine)() as session:
        head = session.scalars(select(OpenBookRow)).one()
        items = session.execute(
            select(
                Bill.bill_id,
                OpenItemRow.principal_fen,
                OpenItemRow.days,
                OpenItemRow.accrued_units,
            )
            .join(Bill, Bill.id == OpenItemRow.bill)
            .order_by(Bill.bill_id)
        ).all()
        found = head.as_of, head.credit_fen, [(b, p, d, u) for b, p, d, u in items]
    engine.dispose()
    return found


def test_the_daily_run_brings_a_stale_open_book_forward(tmp_path: Path) -> None:
    url = a1_store(tmp_path)
    engine = make_engine(url)
    assert book_of(url)[0] == date(2020, 2, 5)  # the import's: B2's issue day
    seen = []
    heard: list[tuple[str, int, int]] = []
    run_daily(
        engine=engine,
        through=date(2020, 5, 31),
        single=False,
        now=lambda: NOW,
        on_forward=seen.append,
        forwarding=lambda *told: heard.append(told),
    )
    assert heard == [("power", 0, 1), ("power", 1, 1)]  # the progress: done, in all
    # 05-31 less 3 days; B1 (10000, due 01-20) accrued 10 fen a day 01-21..05-28 (129 days),
    # B2 (8000, due 02-20) 8 fen a day 02-21..05-28 (98 days); no fee is final yet
    assert [(f.company, f.through, f.accounts) for f in seen] == [("power", date(2020, 5, 28), 1)]
    assert book_of(url) == (
        date(2020, 5, 28),
        0,
        [("B1", 10000, 129, 129 * 10 * 10**6), ("B2", 8000, 98, 98 * 8 * 10**6)],
    )
    with sessions(engine)() as session:
        assert session.scalar(select(Account.booked_through)) == date(2020, 5, 28)
    with counted_open_items(allowed=True) as taken, sessions(engine).begin() as session:
        # B1: 10000 and its fee, 131 days (to 05-30) = 1310; B2: 8000 and 100 days = 800; the
        # arrears before are both principals (a fee is owed once final)
        result = post_payment(
            session=session,
            payment=PaymentIn("A1", 21000, "P1", shanghai("2020-05-30T10:00:00+08:00"), "bank"),
            now=NOW,
        )
    assert taken == [1]
    assert (result.parts, result.credit_fen, result.arrears_before_fen) == (
        (Part("B1", 10000, 1310), Part("B2", 8000, 800)),
        890,
        18000,
    )
    # a second run of days already recorded brings nothing forward
    seen.clear()
    run_daily(
        engine=engine,
        through=date(2020, 5, 31),
        single=False,
        now=lambda: NOW,
        on_forward=seen.append,
    )
    assert seen == []
    engine.dispose()
    other = tmp_path / "history"
    other.mkdir()
    with counted_open_items(allowed=False):
        replayed = make_engine(a1_store(other))
        with sessions(replayed).begin() as session:
            again = post_payment(
                session=session,
                payment=PaymentIn("A1", 21000, "P1", shanghai("2020-05-30T10:00:00+08:00"), "bank"),
                now=NOW,
            )
        replayed.dispose()
    assert again == result
    assert sorted(ledger(url), key=repr) == sorted(
        ledger(f"sqlite:///{other / 'store.db'}"), key=repr
    )


def balances(rows: list[tuple[object, ...]]) -> dict[tuple[object, ...], int]:
    """Each account's balance of each book and bill on each day, from `ledger`'s postings
    (key, kind, account, day, reversed key, lines); zeros left out."""
    found: Counter[tuple[object, ...]] = Counter()
    for _, _, account, day, _, lines in rows:
        for book, amount, bill in lines:  # type: ignore[attr-defined]
            found[(account, day, book, bill)] += amount
    return {k: v for k, v in found.items() if v}


def forwarding(forwards: dict[int, list[date]]) -> Callable[[int, Engine], None]:
    """A `post_all` hook: before payment n, the books brought forward as if each day in
    `forwards[n]` had been recorded."""

    def before(n: int, engine: Engine) -> None:
        for last in forwards.get(n, []):
            with sessions(engine)() as session:
                companies = list(session.scalars(select(Company)))
            for company in companies:
                bring_forward(
                    engine=engine, company=company, last=last, now=lambda: NOW, horizon=1, lag=0
                )

    return before


@pytest.mark.property
@settings(max_examples=EXAMPLES, deadline=None)
@given(universe=universes(max_accounts=4, max_each_policy=2), data=st.data())
def test_books_brought_forward_book_what_the_history_books(universe: Universe, data) -> None:  # type: ignore[no-untyped-def]
    drawn = postable(universe, data)
    if drawn is None:
        return
    span = (universe.end - universe.start).days
    when = st.integers(0, len(drawn[2]))
    day = st.integers(0, span + 10).map(lambda n: universe.start + timedelta(days=n))
    forwards = data.draw(st.dictionaries(when, st.lists(day, min_size=1, max_size=2), max_size=3))
    with tempfile.TemporaryDirectory() as tmp:
        with counted_open_items(allowed=True):
            forward = Path(tmp) / "forward"
            forwarded = post_all(forward, None, universe, drawn, forwarding(forwards))
        with counted_open_items(allowed=False):
            history = post_all(Path(tmp) / "history", None, universe, drawn)
    assert forwarded[0] == history[0]
    assert balances(forwarded[1]) == balances(history[1])


def test_the_daily_command_says_what_it_brought_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sanbuting daily` prints the books brought forward, with its progress bar (shown here
    from the first account) on the error stream."""
    monkeypatch.setenv("SANBUTING_DATABASE_URL", a1_store(tmp_path))
    monkeypatch.setattr(service, "FORWARD_PROGRESS_FROM", 0)
    done = CliRunner().invoke(app, ["daily", "--through", "2020-05-31"])
    assert done.exit_code == 0, done.output
    assert "power: 1 accounts' open books brought forward to 2020-05-28" in done.output
