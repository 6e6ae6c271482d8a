"""Payments booked from open items (`payments.booking`, `ledger.open_items`) equal payments
booked from the account's history.

The property: over random universes, the same payments posted one by one in a random order
(some back-dated behind those posted before, some on one day in either order), with bills
arriving by a second import in the middle and, sometimes, another policy set activated, give
the same results (allocation, arrears before and after) and the very same ledger, posting by
posting, whether the open-item way is allowed or every payment replays the history.

The scenario: a worked example (cn-power-1996, residential, 1 per mille a day) in which the
second and third payments start from the open book the first one left.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from sanbuting.jobs import importing
from sanbuting.jobs.activation import activate
from sanbuting.ledger.service import book_accounts
from sanbuting.payments import booking
from sanbuting.payments.service import Part, PaymentIn, PaymentResult, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import (
    Account,
    Bill,
    Company,
    LedgerLine,
    OpenBookRow,
    OpenItemRow,
    Posting,
)
from sanbuting.store.policy_versions import policies_for
from store_databases import import_into, write_folder
from strategies import Universe, universes
from test_store_checkpoints import loads, policy_file, write

EXAMPLES = max(10, (settings.default or settings()).max_examples // 10)
NOW = datetime(2020, 6, 1, tzinfo=UTC)
ORIGIN = date(2020, 1, 1)


@contextmanager
def counted_open_items(allowed: bool) -> Iterator[list[int]]:
    """Count the payments booked without the history, from open items or as a prepaid top-up
    alone (none when not `allowed`; then an import books its postpaid accounts from their
    history too)."""
    taken: list[int] = []
    reals = {name: getattr(booking, name) for name in ("_open_items_way", "_top_up_way")}

    def counting(real: Any) -> Any:
        def way(*args: Any, **kwargs: Any) -> booking.Prepared | None:
            if not allowed:
                return None
            found = real(*args, **kwargs)
            if found is not None:
                taken.append(1)
            return found

        return way

    for name, real in reals.items():
        setattr(booking, name, counting(real))
    imports = importing.book_from_open_books
    if not allowed:
        importing.book_from_open_books = from_history  # type: ignore[assignment]
    try:
        yield taken
    finally:
        for name, real in reals.items():
            setattr(booking, name, real)
        importing.book_from_open_books = imports  # type: ignore[assignment]


def from_history(
    session: Session, company: Company, ids: list[int], through: date | None, now: datetime
) -> tuple[int, int]:
    """An import's booking of postpaid accounts from their history, the standard for
    `jobs.books_forward.book_from_open_books`."""
    policies = policies_for(session=session, company_id=company.id)
    added = book_accounts(
        session=session,
        company=company,
        accounts=ids,
        policies=policies,
        now=now,
        through=through,
        keep_books=True,
    )
    return len(ids), added


def ledger(url: str) -> list[tuple[object, ...]]:
    """Every posting in id order: key, kind, account, day, the key it reverses, its lines."""
    engine = make_engine(url)
    reversed_posting = aliased(Posting)
    with sessions(engine)() as session:
        heads = session.execute(
            select(
                Posting.id,
                Posting.key,
                Posting.kind,
                Account.account_id,
                Posting.effective_on,
                reversed_posting.key,
            )
            .join(Account, Account.id == Posting.account)
            .outerjoin(reversed_posting, reversed_posting.id == Posting.reverses)
            .order_by(Posting.id)
        ).all()
        lines: dict[int, list[tuple[str, int, str | None]]] = {}
        for posting, book, amount, bill in session.execute(
            select(
                LedgerLine.posting, LedgerLine.book, LedgerLine.amount_fen, Bill.bill_id
            ).outerjoin(Bill, Bill.id == LedgerLine.bill)
        ):
            lines.setdefault(posting, []).append((book, amount, bill))
    engine.dispose()
    return [(*head[1:], tuple(sorted(lines[head[0]], key=repr))) for head in heads]


def by_account(postings: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """`ledger`'s postings account by account, each account's in the order they were posted
    (an import books some accounts from their open books and the others from their history,
    so the two ways may interleave accounts differently; each account's order is the same)."""
    return sorted(postings, key=lambda posting: str(posting[2]))


def post_all(
    folder: Path,
    url: str | None,
    universe: Universe,
    drawn: Drawn,
    before: Callable[[int, Engine], None] | None = None,
) -> tuple[list[PaymentResult], list[tuple[object, ...]]]:
    """A store of `drawn` (`postable`): its rows imported (at `url`, else SQLite in `folder`),
    then its payments one by one (its later bills imported after `bills_after` of them, another
    policy set after `switch[0]`); `before(n, engine)` is called before the nth payment and
    once after the last."""
    imported, later_bills, posted, bills_after, switch = drawn
    folder.mkdir()
    url = url or f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        path = policy_file(folder, "first.yaml", universe.policies)
        activate(session=session, path=path, by="t", at=NOW, company=None)
    import_into(url, write(folder / "in", imported), folder, universe.start)
    results = []
    for n, row in enumerate(posted):
        if before is not None:
            before(n, engine)
        if n == bills_after and later_bills.height:
            accounts, _, payments, usage = imported
            import_into(
                url,
                write(folder / "late", (accounts, later_bills, payments.clear(), usage.clear())),
                folder,
                universe.start,
            )
        if switch is not None and n == switch[0]:
            with sessions(engine).begin() as session:
                path = policy_file(folder, "second.yaml", switch[1])
                activate(session=session, path=path, by="t", at=NOW, company=None)
        with sessions(engine).begin() as session:
            results.append(
                post_payment(
                    session=session,
                    payment=PaymentIn(
                        account_id=row["account_id"],
                        amount_fen=row["amount_fen"],
                        key=row["payment_id"],
                        paid_at=row["paid_at"],
                        channel=row["channel"],
                    ),
                    now=NOW,
                )
            )
    if before is not None:
        before(len(posted), engine)
    engine.dispose()
    return results, ledger(url)


Drawn = tuple[
    tuple[pl.DataFrame, ...],
    pl.DataFrame,
    list[dict[str, Any]],
    int,
    tuple[int, tuple[Any, ...]] | None,
]


def postable(universe: Universe, data: st.DataObject) -> Drawn | None:
    """What to post over `universe`, drawn: the rows imported first, the bills imported later,
    the payments posted one by one (in the order they were paid, or not), after how many of them
    the later bills arrive, and when another policy set is activated (None: the policy sets do
    not load)."""
    payments = universe.payments
    keep = data.draw(st.lists(st.booleans(), min_size=payments.height, max_size=payments.height))
    imported_payments = payments.filter(pl.Series(keep, dtype=pl.Boolean))
    rows = payments.filter(~pl.Series(keep, dtype=pl.Boolean)).drop("paid_on").to_dicts()
    if data.draw(st.booleans(), label="in the order they were paid"):
        posted = sorted(rows, key=lambda row: (row["paid_at"], row["payment_id"]))
    else:
        posted = data.draw(st.permutations(rows), label="posting order") if rows else []
    late = data.draw(
        st.lists(st.booleans(), min_size=universe.bills.height, max_size=universe.bills.height)
    )
    late_mask = pl.Series(late, dtype=pl.Boolean)
    later_bills = universe.bills.filter(late_mask)
    imported = (
        universe.accounts,
        universe.bills.filter(~late_mask),
        imported_payments,
        universe.usage,
    )
    bills_after = data.draw(st.integers(0, max(len(posted) - 1, 0)), label="bills after")
    switch = None
    if posted and universe.policies and data.draw(st.booleans(), label="switch policies"):
        chosen = data.draw(st.lists(st.sampled_from(universe.policies), unique_by=lambda p: p.id))
        switch = (data.draw(st.integers(0, len(posted) - 1)), tuple(chosen))
    if not loads(universe.policies) or (switch is not None and not loads(switch[1])):
        return None
    return imported, later_bills, posted, bills_after, switch


@pytest.mark.property
@settings(max_examples=EXAMPLES, deadline=None)
@given(universe=universes(max_accounts=4, max_each_policy=2), data=st.data())
def test_open_items_book_what_the_history_books(universe: Universe, data) -> None:  # type: ignore[no-untyped-def]
    drawn = postable(universe, data)
    if drawn is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        with counted_open_items(allowed=True):
            fast = post_all(Path(tmp) / "open", None, universe, drawn)
        with counted_open_items(allowed=False):
            slow = post_all(Path(tmp) / "history", None, universe, drawn)
    assert fast[0] == slow[0]
    assert by_account(fast[1]) == by_account(slow[1])


ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    A1,power,residential,440104,postpaid,,active,0,0,
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,A1,2020-02,2020-02-05,2020-02-20,8000
"""


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text)


def a1_store(tmp_path: Path) -> str:
    """An SQLite store of A1 and its bills B1 and B2, imported (no payments)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    folder = write_folder(
        tmp_path / "in",
        accounts=ACCOUNTS,
        bills=BILLS,
        payments="payment_id,account_id,paid_at,amount_fen,channel",
    )
    import_into(url, folder, tmp_path, ORIGIN)
    return url


def test_later_payments_start_from_the_open_book(tmp_path: Path) -> None:
    engine = make_engine(a1_store(tmp_path))
    paid = [
        # B1 (10000, due 01-20) accrues 10 fen a day 01-21..01-30: 100 fen, not yet final;
        # 6000 to its principal. Arrears 10000 before, 4000 after. The first payment of the
        # account replays its history and leaves the open book of 01-29.
        ("P1", "2020-01-30T10:00:00+08:00", 6000),
        # From that open book: B2 (8000) is issued on 02-05 with no credit to take; B1 accrues
        # 4 fen a day 01-31..02-09: 40 fen, 140 in all, finalized when its principal reaches
        # 0; 4000 + 140 to B1, the other 860 to B2 (not yet due). Arrears 4000 before, 0 after.
        ("P2", "2020-02-09T10:00:00+08:00", 5000),
        # From the open book of 02-08: 2000 to B2 (7140 open). Nothing overdue before or after.
        ("P3", "2020-02-12T10:00:00+08:00", 2000),
    ]
    results = []
    with counted_open_items(allowed=True) as taken:
        for key, at, amount in paid:
            with sessions(engine).begin() as session:
                results.append(
                    post_payment(
                        session=session,
                        payment=PaymentIn("A1", amount, key, shanghai(at), "bank"),
                        now=NOW,
                    )
                )
        with sessions(engine)() as session:
            book = session.scalars(select(OpenBookRow)).one()
    assert len(taken) == 2
    assert book.as_of == date(2020, 2, 11)
    assert [
        (r.key, r.parts, r.credit_fen, r.arrears_before_fen, r.arrears_after_fen) for r in results
    ] == [
        ("P1", (Part("B1", 6000, 0),), 0, 10000, 4000),
        ("P2", (Part("B1", 4000, 140), Part("B2", 860, 0)), 0, 4000, 0),
        ("P3", (Part("B2", 2000, 0),), 0, 0, 0),
    ]
    engine.dispose()


WAIVE_JANUARY = """
policies:
  - id: waive-january
    title: 1月份电费3月1日前不计违约金
    effect: waive_late_fee
    scope: {utility: [power]}
    bills: {issued_in: ["2020-01"]}
    window: {start: 2020-01-01, end: 2020-03-01}
"""


def test_an_import_and_an_activation_leave_the_open_book_payments_start_from(
    tmp_path: Path,
) -> None:
    """The import books A1 through its last row's day (02-05, B2 issued) and leaves its open
    book there; activating a waiver books it again and leaves the book under the new waivers,
    so the next payment starts from it, not from the history."""
    engine = make_engine(a1_store(tmp_path))

    def book() -> tuple[date, int, str, list[tuple[str, int]]]:
        with sessions(engine)() as session:
            head = session.scalars(select(OpenBookRow)).one()
            items = session.execute(
                select(Bill.bill_id, OpenItemRow.principal_fen)
                .join(Bill, Bill.id == OpenItemRow.bill)
                .order_by(Bill.bill_id)
            ).all()
            return head.as_of, head.credit_fen, head.fingerprint, [tuple(r) for r in items]

    imported = book()
    assert (imported[0], imported[1], imported[3]) == (
        date(2020, 2, 5),
        0,
        [("B1", 10000), ("B2", 8000)],
    )
    (tmp_path / "waive.yaml").write_text(WAIVE_JANUARY, encoding="utf-8")
    with sessions(engine).begin() as session:
        activate(session=session, path=tmp_path / "waive.yaml", by="t", at=NOW, company=None)
    activated = book()
    assert activated[0] == date(2020, 2, 5) and activated[2] != imported[2]
    with counted_open_items(allowed=True) as taken, sessions(engine).begin() as session:
        # B1's fee is waived until 03-01: 5000 to its principal, nothing to a fee
        result = post_payment(
            session=session,
            payment=PaymentIn("A1", 5000, "P9", shanghai("2020-02-09T10:00:00+08:00"), "bank"),
            now=NOW,
        )
    engine.dispose()
    assert taken == [1]
    assert (result.parts, result.arrears_before_fen, result.arrears_after_fen) == (
        (Part("B1", 5000, 0),),
        10000,
        5000,
    )


def test_a_payment_on_the_first_day_forgets_the_open_book_it_makes_wrong(tmp_path: Path) -> None:
    """P0 (01-02) leaves the open book of 01-01; P1, dated 01-01, is booked from the history and
    can leave none (the day before it is before the books begin), so it forgets that one, which
    lacks it: P2 then starts from the history and sees both fen paid (B2, issued after P2's
    day, is left out: the open-item way would give way to the history for it)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    folder = write_folder(
        tmp_path / "in",
        accounts=ACCOUNTS,
        bills="\n".join(BILLS.strip().splitlines()[:2]),
        payments="payment_id,account_id,paid_at,amount_fen,channel",
    )
    import_into(url, folder, tmp_path, ORIGIN)
    engine = make_engine(url)
    paid = [
        ("P0", "2020-01-02T00:30:00+08:00"),
        ("P1", "2020-01-01T00:30:00+08:00"),
        ("P2", "2020-01-25T00:30:00+08:00"),
    ]
    results = []
    with counted_open_items(allowed=True) as taken:
        for key, at in paid:
            with sessions(engine).begin() as session:
                payment = PaymentIn("A1", 1, key, shanghai(at), "bank")
                results.append(post_payment(session=session, payment=payment, now=NOW))
    engine.dispose()
    assert taken == []
    assert [(r.key, r.arrears_before_fen, r.arrears_after_fen) for r in results] == [
        ("P0", 0, 0),
        ("P1", 0, 0),
        ("P2", 9998, 9997),  # B1's 10000 less the two fen of credit it took when issued
    ]


WAIVER = """
policies:
  - id: waive-feb
    title: February's days accrue no late fee
    effect: waive_late_fee
    scope:
      utility: [power]
    bills: {issued_in: ["2020-01", "2020-02"]}
    window: {start: 2020-02-01, end: 2020-03-01}
"""


@st.composite
def busy_accounts(draw: st.DrawFn) -> tuple[str, str, list[dict[str, Any]]]:
    """One or two postpaid power accounts with a bill a month and many payments: the accounts
    and bills CSV, and the payments to post (dated from the origin on, most in order)."""
    accounts = [
        "account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone"
    ]
    bills = ["bill_id,account_id,period,issued_on,due_on,amount_fen"]
    payments: list[dict[str, Any]] = []
    for n in range(draw(st.integers(1, 2))):
        account = f"A{n}"
        klass = draw(st.sampled_from(["residential", "non_residential"]))
        balance = draw(st.sampled_from([0, 0, 3000]))
        accounts.append(f"{account},power,{klass},440104,postpaid,,active,{balance},0,")
        for month in range(1, draw(st.integers(2, 5)) + 1):
            amount = draw(st.integers(1000, 30_000))
            bills.append(
                f"{account}B{month},{account},2020-{month:02d},2020-{month:02d}-05,"
                f"2020-{month:02d}-20,{amount}"
            )
        day = ORIGIN
        for k in range(draw(st.integers(1, 10))):
            day = day.fromordinal(day.toordinal() + draw(st.integers(0, 25)))
            if draw(st.integers(0, 4)) == 0:  # back-dated
                day = day.fromordinal(max(ORIGIN.toordinal(), day.toordinal() - 30))
            hour = draw(st.integers(0, 23))
            payments.append(
                {
                    "payment_id": f"{account}P{k}",
                    "account_id": account,
                    "paid_at": datetime.fromisoformat(f"{day.isoformat()}T{hour:02d}:30:00+08:00"),
                    "amount_fen": draw(st.integers(1, 40_000)),
                    "channel": "bank",
                }
            )
    return "\n".join(accounts), "\n".join(bills), payments


def post_busy(
    folder: Path,
    accounts: str,
    bills: str,
    payments: list[dict[str, Any]],
    late_from: int | None,
    waiver_at: int | None,
) -> tuple[list[PaymentResult], list[tuple[object, ...]]]:
    """Import the accounts with their bills (those of the month `late_from` and later only
    after the first third of the payments), post the payments, activate WAIVER after
    `waiver_at` of them."""
    folder.mkdir()
    url = f"sqlite:///{folder / 'store.db'}"
    upgrade(url)
    lines = bills.splitlines()
    early = [lines[0]] + [
        b for b in lines[1:] if late_from is None or int(b.split(",")[2][5:]) < late_from
    ]
    late = [lines[0]] + [b for b in lines[1:] if b not in early]
    empty = "payment_id,account_id,paid_at,amount_fen,channel"
    import_into(
        url,
        write_folder(folder / "in", accounts=accounts, bills="\n".join(early), payments=empty),
        folder,
        ORIGIN,
    )
    engine = make_engine(url)
    results = []
    for n, row in enumerate(payments):
        if n == len(payments) // 3 and len(late) > 1:
            import_into(
                url,
                write_folder(
                    folder / "late", accounts=accounts, bills="\n".join(late), payments=empty
                ),
                folder,
                ORIGIN,
            )
        if n == waiver_at:
            (folder / "waiver.yaml").write_text(WAIVER, encoding="utf-8")
            with sessions(engine).begin() as session:
                activate(session=session, path=folder / "waiver.yaml", by="t", at=NOW, company=None)
        with sessions(engine).begin() as session:
            results.append(
                post_payment(
                    session=session,
                    payment=PaymentIn(
                        row["account_id"],
                        row["amount_fen"],
                        row["payment_id"],
                        row["paid_at"],
                        "bank",
                    ),
                    now=NOW,
                )
            )
    engine.dispose()
    return results, ledger(url)


@pytest.mark.property
@settings(max_examples=EXAMPLES, deadline=None)
@given(busy=busy_accounts(), data=st.data())
def test_open_items_on_busy_accounts(busy: tuple[str, str, list[dict[str, Any]]], data) -> None:  # type: ignore[no-untyped-def]
    accounts, bills, payments = busy
    late_from = data.draw(st.one_of(st.none(), st.integers(2, 5)), label="late bills from month")
    waiver_at = data.draw(st.one_of(st.none(), st.integers(0, len(payments))), label="waiver at")
    with tempfile.TemporaryDirectory() as tmp:
        with counted_open_items(allowed=True):
            fast = post_busy(Path(tmp) / "open", accounts, bills, payments, late_from, waiver_at)
        with counted_open_items(allowed=False):
            slow = post_busy(Path(tmp) / "history", accounts, bills, payments, late_from, waiver_at)
    assert fast[0] == slow[0]
    assert by_account(fast[1]) == by_account(slow[1])
