"""What a payment does to a cut-off order, on SQLite and PostgreSQL: one not yet sent is
cancelled by the payment (the account was never cut off, so nothing is to be reconnected, and
a reconnection the next run decides is cancelled at dispatch); one already carried out gets a
reconnection queued at once. The store's state of the account follows the orders that stand.

Inputs are small literal tables. Account A1 (power, residential, postpaid, no policies) owes
B1 10000 fen due 2020-01-20 and B2 8000 fen due 2020-02-20; the cn-power-1996 ruleset's daily
run gives it a notice on 2020-02-20 and a disconnection order on 2020-02-23. On 2020-02-24 it
pays 20000 fen: arrears before 10000 + 8000 = 18000 (fees not yet finalized), after 0 (B1's fee
01-21..02-24 = 35 days x 10 = 350, B2's 4 days x 8 = 32, finalized at the 100 minimum; the
rest, 20000 - 18450 = 1550, is credit)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from sanbuting.dispatch import FileSink, run_dispatcher
from sanbuting.jobs.daily import run_daily
from sanbuting.payments.orders import state_of
from sanbuting.payments.recheck import make_recheck
from sanbuting.payments.service import PaymentIn, PaymentResult, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, OutboxItem
from store_databases import BACKENDS, database, import_into, write_folder

NOW = datetime(2020, 3, 10, 4, 0, tzinfo=UTC)
ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    A1,power,residential,440104,postpaid,,active,0,0,
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,A1,2020-02,2020-02-05,2020-02-20,8000
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
"""
CUT = "power:disconnect:A1:2020-02-23"
RECONNECT = "power:reconnect:A1:2020-02-24"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for url in database(request.param, tmp_path):
        upgrade(url)
        folder = write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS)
        import_into(url, folder, tmp_path)
        engine = make_engine(url)
        run_daily(engine=engine, through=date(2020, 2, 23), single=False, now=lambda: NOW)
        yield engine
        engine.dispose()


def pay(engine: Engine) -> PaymentResult:
    with sessions(engine).begin() as session:
        return post_payment(
            session=session,
            payment=PaymentIn(
                "A1", 20000, "P-1", datetime.fromisoformat("2020-02-24T10:00:00+08:00")
            ),
            policies=[],
            now=NOW,
        )


def orders(engine: Engine) -> dict[str, tuple[str, str | None]]:
    """Cut-off and reconnection orders: key -> (status, reason)."""
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(OutboxItem.key, OutboxItem.status, OutboxItem.last_error).where(
                OutboxItem.kind.in_(["disconnect", "reconnect"])
            )
        ).all()
    return {key: (status, reason) for key, status, reason in rows}


def states(engine: Engine) -> tuple[str, str]:
    """A1's state by the orders that stand, and by those carried out."""
    with sessions(engine).begin() as session:
        account = session.scalar(select(Account).where(Account.account_id == "A1"))
        assert account is not None
        standing = state_of(session=session, account=account).state.value
        field = state_of(session=session, account=account, carried_out=True).state.value
    return standing, field


def dispatch(engine: Engine, sink_file: Path) -> list[str]:
    """Send what is due with the real re-check; the keys the sink received (in order)."""
    run_dispatcher(
        engine=engine,
        sink=FileSink(sink_file),
        recheck=make_recheck(lambda: NOW, []),
        stop_when_idle=True,
        now=lambda: NOW,
    )
    lines = sink_file.read_text(encoding="utf-8").splitlines() if sink_file.exists() else []
    return [json.loads(line)["key"] for line in lines]


def test_a_payment_cancels_a_cut_off_not_yet_sent(engine: Engine, tmp_path: Path) -> None:
    assert orders(engine) == {CUT: ("pending", None)}
    assert states(engine) == ("disconnected", "active")

    result = pay(engine)

    assert (result.arrears_before_fen, result.arrears_after_fen) == (18000, 0)
    assert result.credit_fen == 1550
    assert result.reconnect_queued is False
    status, reason = orders(engine)[CUT]
    assert status == "cancelled" and "P-1 cleared the arrears" in (reason or "")
    assert states(engine) == ("active", "active")

    # The next run replays 02-24 with the payment: the engine had cut A1 off on 02-23, so it
    # decides a reconnection, which the dispatcher cancels: the cut-off never went out.
    run_daily(engine=engine, through=date(2020, 2, 25), single=False, now=lambda: NOW)
    assert orders(engine)[RECONNECT] == ("pending", None)
    sent = dispatch(engine, tmp_path / "sent.jsonl")

    assert CUT not in sent and RECONNECT not in sent
    status, reason = orders(engine)[RECONNECT]
    assert status == "cancelled" and "not cut off" in (reason or "")
    assert states(engine) == ("active", "active")


def test_a_payment_after_the_cut_off_was_sent_queues_a_reconnection(
    engine: Engine, tmp_path: Path
) -> None:
    sent = dispatch(engine, tmp_path / "sent.jsonl")
    assert CUT in sent
    assert states(engine) == ("disconnected", "disconnected")

    result = pay(engine)

    assert (result.arrears_before_fen, result.arrears_after_fen) == (18000, 0)
    assert result.reconnect_queued is True
    assert orders(engine) == {CUT: ("done", None), RECONNECT: ("pending", None)}
    assert states(engine) == ("active", "disconnected")  # ordered, not yet carried out

    run_daily(engine=engine, through=date(2020, 2, 25), single=False, now=lambda: NOW)
    sent = dispatch(engine, tmp_path / "sent.jsonl")

    assert sent.count(RECONNECT) == 1  # the run decided the same reconnection: one order
    assert orders(engine) == {CUT: ("done", None), RECONNECT: ("done", None)}
    assert states(engine) == ("active", "active")
