"""Posting payments into the ledger (`payments.service.post_payment`, `sanbuting pay`) on SQLite
and PostgreSQL: the allocation of a worked example (principal then late fee, oldest bill first,
then credit), idempotency by key, a balanced append-only ledger whose cash book is the sum of
the payments, a reconnection queued at once when a payment clears a cut-off account, back-dated
payments corrected by reversals, prepaid top-ups and unknown accounts.

Inputs are small literal CSV tables; every expected number is worked out by hand from the
contract and the cn-power-1996 ruleset (residential late fee 1‰ a day of the principal open
at the start of the day, from due_on + 1 through the day it is paid; a finalized fee with at
least one accruing day is at least 100 fen). The arithmetic is in the comments."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.ledger.service import arrears, balances
from sanbuting.payments.service import Part, PaymentIn, PaymentRefused, PaymentResult, post_payment
from sanbuting.runner import RunRequest, run
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import (
    Account,
    LedgerLine,
    OutboxItem,
    Payment,
    Posting,
    StoredAction,
)
from store_databases import BACKENDS, database, write_folder

ORIGIN = date(2020, 1, 1)
NOW = datetime(2020, 3, 10, 4, 0, tzinfo=UTC)

ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    A1,power,residential,440104,postpaid,,active,0,0,
    D1,power,residential,440104,postpaid,,disconnected,0,0,
    K1,power,residential,440104,prepaid,,active,5000,0,
"""
# Guangzhou 越秀區 (440104); no policy set is active in these tests.
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,A1,2020-02,2020-02-05,2020-02-20,8000
    BD,D1,2019-12,2019-12-05,2019-12-20,6000
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
    PK0,K1,2020-01-10T09:00:00+08:00,1000,app
"""
USAGE = """
    account_id,date,amount_fen
    K1,2020-01-02,300
"""


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        outcome = import_and_book(
            data=write_folder(
                tmp_path / "data", accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS, usage=USAGE
            ),
            start=ORIGIN,
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=tmp_path / "rejects.csv",
            url=value,
        )
        assert not outcome.refused and not outcome.imported.rejects
        yield value


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def pay(
    engine: Engine, account_id: str, amount_fen: int, key: str, paid_at: str, channel: str = "app"
) -> PaymentResult:
    """Post one payment in its own transaction (no policies)."""
    with sessions(engine).begin() as session:
        return post_payment(
            session=session,
            payment=PaymentIn(account_id, amount_fen, key, at(paid_at), channel),
            policies=[],
            now=NOW,
        )


def count(engine: Engine, model: type) -> int:
    with sessions(engine).begin() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def account(session: Session, account_id: str) -> Account:
    found = session.scalar(select(Account).where(Account.account_id == account_id))
    assert found is not None
    return found


def ledger_arrears(engine: Engine, account_id: str, on: date) -> int:
    with sessions(engine).begin() as session:
        return arrears(session=session, account=account(session, account_id), on=on)


def assert_balanced(engine: Engine) -> None:
    """Every posting's lines sum to 0, and the cash book is the sum of the payments."""
    with sessions(engine).begin() as session:
        unbalanced = session.execute(
            select(LedgerLine.posting, func.sum(LedgerLine.amount_fen))
            .group_by(LedgerLine.posting)
            .having(func.sum(LedgerLine.amount_fen) != 0)
        ).all()
        assert unbalanced == []
        cash = session.scalar(
            select(func.sum(LedgerLine.amount_fen)).where(LedgerLine.book == "cash")
        )
        paid = session.scalar(select(func.sum(Payment.amount_fen)))
        assert int(cash or 0) == int(paid or 0)


# The worked example, account A1 (power, residential, postpaid):
#   B1 10000 fen due 2020-01-20, B2 8000 fen due 2020-02-20; 1‰ a day = 10 and 8 fen a day.
# P-1, 2020-03-01, 10200 fen. B1's fee accrues 2020-01-21..03-01 = 11 + 29 (Feb 2020) + 1
#   = 41 days x 10 = 410 fen, finalized today (>= 100: no minimum). 10200 pays B1's principal
#   10000, then 200 of its fee. Arrears before = B1 10000 + B2 8000 (both overdue, no fee
#   finalized) = 18000; after = B1's unpaid fee 210 + B2 8000 = 8210.
# P-2, 2020-03-02, 9000 fen. B1's fee 210 first, then B2's principal 8000; B2's fee accrues
#   02-21..03-02 = 9 + 2 = 11 days x 8 = 88 fen, finalized today at the 100 fen minimum and
#   paid; credit 9000 - 210 - 8000 - 100 = 690. Arrears before 8210, after 0.
P1_RESULT = PaymentResult(
    key="P-1",
    account_id="A1",
    company="power",
    amount_fen=10200,
    paid_on=date(2020, 3, 1),
    parts=(Part("B1", 10000, 200),),
    credit_fen=0,
    arrears_before_fen=18000,
    arrears_after_fen=8210,
    reconnect_queued=False,
)
P2_RESULT = PaymentResult(
    key="P-2",
    account_id="A1",
    company="power",
    amount_fen=9000,
    paid_on=date(2020, 3, 2),
    parts=(Part("B1", 0, 210), Part("B2", 8000, 100)),
    credit_fen=690,
    arrears_before_fen=8210,
    arrears_after_fen=0,
    reconnect_queued=False,
)


def test_worked_example_allocation(engine: Engine) -> None:
    first = pay(engine, "A1", 10200, "P-1", "2020-03-01T10:00:00+08:00")
    second = pay(engine, "A1", 9000, "P-2", "2020-03-02T09:00:00+08:00")

    assert first == P1_RESULT
    assert second == P2_RESULT
    with sessions(engine).begin() as session:
        a1 = account(session, "A1")
        # principal 18000 charged and paid; fees 410 + 100 charged and paid; 690 credit held
        assert balances(session=session, account=a1.id) == {
            "sales": -18000,
            "fee_income": -510,
            "cash": 19200,
            "credit": -690,
        }
    assert ledger_arrears(engine, "A1", date(2020, 3, 1)) == 8210
    assert ledger_arrears(engine, "A1", date(2020, 3, 2)) == 0
    assert_balanced(engine)


def test_pay_command_prints_the_allocation(url: str, engine: Engine) -> None:
    runner = CliRunner()
    env = {"SANBUTING_DATABASE_URL": url}
    pay(engine, "A1", 10200, "P-1", "2020-03-01T10:00:00+08:00")
    args = ["pay", "A1", "90.00", "--key", "P-2", "--channel", "app"]
    args += ["--at", "2020-03-02T09:00:00+08:00"]

    done = runner.invoke(app, args, env=env)
    again = runner.invoke(app, args, env=env)

    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "payment P-2: 90.00 yuan to A1 (power) on 2020-03-02",
        "  bill B1: principal 0.00, late fee 2.10",
        "  bill B2: principal 80.00, late fee 1.00",
        "  to balance / credit: 6.90",
        "  arrears 82.10 → 0.00 yuan",
    ]
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[0] == (
        "payment P-2: 90.00 yuan to A1 (power) on 2020-03-02 — already posted with this key; "
        "the first result:"
    )
    assert again.output.splitlines()[1:] == done.output.splitlines()[1:]


def test_same_key_same_content_returns_the_first_result(engine: Engine) -> None:
    first = pay(engine, "A1", 10200, "P-1", "2020-03-01T10:00:00+08:00")
    postings, lines, payments = (count(engine, m) for m in (Posting, LedgerLine, Payment))

    # the same instant written in UTC is the same content
    again = pay(engine, "A1", 10200, "P-1", "2020-03-01T02:00:00+00:00")

    assert again == replace(first, repeated=True)
    assert first.repeated is False
    assert (count(engine, Posting), count(engine, LedgerLine), count(engine, Payment)) == (
        postings,
        lines,
        payments,
    )


OTHER_CONTENT = [
    ("A1", 10300, "2020-03-01T10:00:00+08:00", "app"),  # another amount
    ("A1", 10200, "2020-03-01T11:00:00+08:00", "app"),  # another time
    ("A1", 10200, "2020-03-01T10:00:00+08:00", "bank"),  # another channel
    ("D1", 10200, "2020-03-01T10:00:00+08:00", "app"),  # another account
]


def test_same_key_other_content_is_refused(engine: Engine) -> None:
    pay(engine, "A1", 10200, "P-1", "2020-03-01T10:00:00+08:00")
    postings, payments = count(engine, Posting), count(engine, Payment)

    for account_id, amount_fen, paid_at, channel in OTHER_CONTENT:
        with pytest.raises(PaymentRefused) as refused:
            pay(engine, account_id, amount_fen, "P-1", paid_at, channel)

        assert str(refused.value) == (
            "payment key 'P-1' was already used for another payment (other account, time, "
            "amount or channel): use a new key for a new payment"
        )
        assert (count(engine, Posting), count(engine, Payment)) == (postings, payments)


def test_unknown_account_is_refused(engine: Engine) -> None:
    postings = count(engine, Posting)

    with pytest.raises(PaymentRefused, match="no account 'NOPE' in the store"):
        pay(engine, "NOPE", 100, "P-X", "2020-03-01T10:00:00+08:00")

    assert count(engine, Posting) == postings
    assert count(engine, Payment) == 1  # the imported PK0 only


def test_prepaid_top_up_raises_the_balance(engine: Engine) -> None:
    # K1: 5000 on 2020-01-01, 300 used on 01-02, PK0 tops up 1000 on 01-10: 5700 held.
    with sessions(engine).begin() as session:
        k1 = account(session, "K1").id
        assert -balances(session=session, account=k1, on=date(2020, 1, 10))["credit"] == 5700

    result = pay(engine, "K1", 2000, "TOP-1", "2020-03-01T08:30:00+08:00", "kiosk")

    assert result == PaymentResult(
        key="TOP-1",
        account_id="K1",
        company="power",
        amount_fen=2000,
        paid_on=date(2020, 3, 1),
        parts=(),
        credit_fen=2000,
        arrears_before_fen=0,
        arrears_after_fen=0,
        reconnect_queued=False,
    )
    with sessions(engine).begin() as session:
        assert -balances(session=session, account=k1, on=date(2020, 3, 1))["credit"] == 7700
    assert_balanced(engine)


# D1 is imported `disconnected`, owing BD (6000 fen, due 2019-12-20). Its fee accrues from
# 2019-12-21 (before the start too) through 2020-01-10: 11 + 10 = 21 days x 6 fen = 126 fen.
# 6126 fen on 2020-01-10 clears principal and fee: arrears 6000 -> 0, reconnect at once.
RECONNECT_KEY = "power:reconnect:D1:2020-01-10"


def test_clearing_a_cut_off_account_queues_one_reconnect(engine: Engine) -> None:
    result = pay(engine, "D1", 6126, "PD", "2020-01-10T15:00:00+08:00", "counter")

    assert (result.parts, result.credit_fen) == ((Part("BD", 6000, 126),), 0)
    assert (result.arrears_before_fen, result.arrears_after_fen) == (6000, 0)
    assert result.reconnect_queued is True
    assert outbox(engine) == [(RECONNECT_KEY, "reconnect", "D1", date(2020, 1, 10))]

    run_daily(engine=engine, through=date(2020, 1, 10), single=False, now=lambda: NOW)

    with sessions(engine).begin() as session:
        decided = session.execute(
            select(StoredAction.day, StoredAction.action)
            .join(Account, Account.id == StoredAction.account)
            .where(Account.account_id == "D1")
        ).all()
    assert [tuple(r) for r in decided] == [(date(2020, 1, 10), "reconnect")]  # the run agrees
    assert [row for row in outbox(engine) if row[2] == "D1"] == [
        (RECONNECT_KEY, "reconnect", "D1", date(2020, 1, 10))
    ]  # and queued no second order


def test_a_payment_that_leaves_arrears_queues_nothing(engine: Engine) -> None:
    result = pay(engine, "D1", 6000, "PD", "2020-01-10T15:00:00+08:00", "counter")

    # 6000 pays the principal; the 126 fen fee, finalized today, is still owed
    assert (result.arrears_before_fen, result.arrears_after_fen) == (6000, 126)
    assert result.reconnect_queued is False
    assert outbox(engine) == []


def outbox(engine: Engine) -> list[tuple[str, str, str, date | None]]:
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(OutboxItem.key, OutboxItem.kind, Account.account_id, OutboxItem.day)
            .join(Account, Account.id == OutboxItem.account)
            .order_by(OutboxItem.key)
        ).all()
    return [(key, kind, account_id, day) for key, kind, account_id, day in rows]


# Back-dated: P-late (10000 fen, 2020-03-05) is posted first, then P-early (8000 fen,
# 2020-02-25), which by the contract comes first.
# P-late alone: B1's principal 10000 is paid on 03-05; its fee 01-21..03-05 = 11 + 29 + 5 = 45
#   days x 10 = 450 fen, finalized and unpaid. Arrears after = 450 + B2 8000 = 8450.
# With P-early: on 02-25 it pays 8000 of B1's principal (2000 left). On 03-05 P-late pays B1's
#   2000, then its fee: 01-21..02-25 = 36 days x 10 = 360, 02-26..03-05 = 9 days x 2 (1‰ of
#   2000) = 18, so 378 fen; then 10000 - 2000 - 378 = 7622 of B2's 8000 (378 left, its fee still
#   accruing). Arrears on 03-05 = B2's 378; on 03-01 = B1 2000 + B2 8000 = 10000.
def test_a_back_dated_payment_is_corrected_by_reversals(engine: Engine, tmp_path: Path) -> None:
    late = pay(engine, "A1", 10000, "P-late", "2020-03-05T10:00:00+08:00")
    assert (late.parts, late.arrears_after_fen) == ((Part("B1", 10000, 0),), 8450)
    with sessions(engine).begin() as session:
        lines_before = pairs(session, LedgerLine.id, LedgerLine.amount_fen)
        postings_before = pairs(session, Posting.id, Posting.key)

    early = pay(engine, "A1", 8000, "P-early", "2020-02-25T10:00:00+08:00")

    assert early.parts == (Part("B1", 8000, 0),)
    assert (early.arrears_before_fen, early.arrears_after_fen) == (18000, 10000)
    with sessions(engine).begin() as session:
        lines_after = pairs(session, LedgerLine.id, LedgerLine.amount_fen)
        postings_after = pairs(session, Posting.id, Posting.key)
        reversals = session.execute(
            select(Posting.key, Posting.kind, Posting.effective_on)
            .where(Posting.reverses.is_not(None))
            .order_by(Posting.key)
        ).all()
        new_keys = sorted(key for _, key in postings_after - postings_before)
    assert lines_before <= lines_after and postings_before <= postings_after  # nothing changed
    assert [tuple(r) for r in reversals] == [
        ("reversal:fee:B1", "reversal", date(2020, 3, 5)),  # 450 -> 378
        ("reversal:pay:P-late", "reversal", date(2020, 3, 5)),  # allocation moved
    ]
    assert new_keys == [
        "fee:B1#2",
        "pay:P-early",
        "pay:P-late#2",
        "reversal:fee:B1",
        "reversal:pay:P-late",
    ]
    assert ledger_arrears(engine, "A1", date(2020, 3, 1)) == 10000
    assert ledger_arrears(engine, "A1", date(2020, 3, 5)) == 378
    with sessions(engine).begin() as session:
        a1 = account(session, "A1").id
        assert balances(session=session, account=a1) == {
            "sales": -18000,
            "principal": 378,
            "fee_income": -378,
            "cash": 18000,
        }
    assert_balanced(engine)
    # and the engine over the same inputs agrees
    assert engine_arrears(tmp_path, date(2020, 3, 5)) == {"A1": 378, "D1": 6000, "K1": 0}
    assert engine_arrears(tmp_path, date(2020, 3, 1)) == {"A1": 10000, "D1": 6000, "K1": 0}
    for day in (date(2020, 3, 1), date(2020, 3, 5)):
        assert {a: ledger_arrears(engine, a, day) for a in ("A1", "D1", "K1")} == (
            engine_arrears(tmp_path, day)
        )


def pairs(session: Session, first: Any, second: Any) -> set[tuple[Any, Any]]:
    return {(a, b) for a, b in session.execute(select(first, second))}


def engine_arrears(tmp_path: Path, end: date) -> dict[str, int]:
    """`states.csv`'s arrears of `sanbuting run` over the inputs plus both A1 payments."""
    folder = tmp_path / f"files-{end}"
    data = write_folder(
        folder / "data",
        accounts=ACCOUNTS,
        bills=BILLS,
        payments=PAYMENTS
        + """
            P-late,A1,2020-03-05T10:00:00+08:00,10000,app
            P-early,A1,2020-02-25T10:00:00+08:00,8000,app
        """,
        usage=USAGE,
    )
    policies = folder / "policies.yaml"
    policies.write_text("policies: []\n", encoding="utf-8")
    run(
        RunRequest(
            data=data,
            policy_files=[policies],
            start=ORIGIN,
            end=end,
            out=folder / "out",
            engine="reference",
            allow_rejects=False,
        )
    )
    with (folder / "out" / "states.csv").open(encoding="utf-8", newline="") as handle:
        return {row["account_id"]: int(row["arrears_fen"]) for row in csv.DictReader(handle)}
