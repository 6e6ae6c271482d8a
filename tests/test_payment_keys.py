"""One idempotency rule, held by the database, on SQLite and PostgreSQL: a posted payment's key
is unique in the whole deployment, so one key fired at the same moment at two companies'
accounts posts once (the attack posted twice, 20 tries out of 20, because uniqueness was per
company while the check looked across companies). The API and `post_payment` share the rule:
the API only names the key by its caller (`scoped_key`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from sanbuting.payments.service import (
    Part,
    PaymentIn,
    PaymentRefused,
    PaymentResult,
    post_payment,
    scoped_key,
)
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Company, Payment
from sanbuting.store.policy_versions import deployment_policies
from store_databases import BACKENDS
from test_api_world import NOW, World, worlds
from test_lean_payments import driver_posts
from test_ledger_payments import assert_balanced

TRIES = 20


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def _post(url: str, account: str, company: str, key: str, start: threading.Barrier) -> str:
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            policies = deployment_policies(session)
        start.wait()  # (outside a transaction: SQLite's first would hold the write lock)
        with sessions(engine).begin() as session:
            result = post_payment(
                session=session,
                payment=PaymentIn(account, 500, key, NOW, "bank", company),
                policies=policies,
                now=NOW,
            )
            return "repeated" if result.repeated else "posted"
    except PaymentRefused:
        return "refused"
    finally:
        engine.dispose()


def test_one_key_at_two_companies_at_once_posts_once(world: World) -> None:
    for attempt in range(TRIES):
        key = f"race-{attempt}"
        start = threading.Barrier(2)
        outcomes: list[str] = []
        threads = [
            threading.Thread(
                target=lambda a, c, k, s, o: o.append(_post(world.url, a, c, k, s)),
                args=(account, company, key, start, outcomes),
            )
            for account, company in (("P1", "power"), ("G1", "gas"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["posted", "refused"], (attempt, outcomes)
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        posted = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.key.startswith("race-"))
        )
    engine.dispose()
    assert posted == TRIES


def test_one_key_at_two_open_books_at_once_posts_once(world: World) -> None:
    """The same race between accounts that each have an open book, so that on PostgreSQL both
    try the driver's way (`payments.lean`): the one that loses the key writes nothing."""
    never = threading.Barrier(1)
    for account, company in (("P1", "power"), ("G1", "gas")):  # each leaves its open book
        assert _post(world.url, account, company, f"open-{account}", never) == "posted"
    with driver_posts() as taken:
        test_one_key_at_two_companies_at_once_posts_once(world)
    if world.url.startswith("postgresql"):
        assert sorted(set(taken)) == sorted(f"race-{n}" for n in range(TRIES))
    engine = make_engine(world.url)
    assert_balanced(engine)  # the cash book holds each posted payment once
    engine.dispose()


def test_the_database_itself_refuses_a_second_posted_payment_of_a_key(world: World) -> None:
    """The rule is the database's, not only the service's: a direct insert is refused."""
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        post_payment(
            session=session,
            payment=PaymentIn("P1", 100, "held-by-db", NOW, "bank", "power"),
            policies=deployment_policies(session),
            now=NOW,
        )
    with pytest.raises(IntegrityError), sessions(engine).begin() as session:
        gas = session.scalar(select(Company).where(Company.code == "gas"))
        assert gas is not None
        first = session.scalar(select(Payment).where(Payment.key == "held-by-db"))
        assert first is not None
        session.add(
            Payment(
                company_id=gas.id,
                key="held-by-db",
                content="x" * 64,
                account=first.account,
                paid_at=datetime(2020, 3, 10, tzinfo=UTC),
                amount_fen=100,
                channel="bank",
                posted=True,
            )
        )
        session.flush()
    engine.dispose()


def test_a_retry_without_an_instant_is_the_same_payment(world: World) -> None:
    """A caller that does not name the instant (a cashier, a bank posting now) retrying its
    key later gets the first result, not a refusal."""
    engine = make_engine(world.url)
    first_at = datetime(2020, 3, 10, 4, 0, tzinfo=UTC)
    later = datetime(2020, 3, 10, 4, 7, tzinfo=UTC)
    results = []
    for moment in (first_at, later):
        with sessions(engine).begin() as session:
            results.append(
                post_payment(
                    session=session,
                    payment=PaymentIn(
                        "P2", 300, scoped_key("cashier:9", "k-1"), moment, "counter", at_given=False
                    ),
                    policies=deployment_policies(session),
                    now=moment,
                )
            )
    engine.dispose()
    assert [r.repeated for r in results] == [False, True]
    assert results[1].paid_on == results[0].paid_on


def test_a_stored_result_keeps_its_format() -> None:
    """A repeated key answers the stored first result: the stored text is read back by every
    later version, so its form is fixed (keys sorted, parts as objects, the day as ISO)."""
    result = PaymentResult(
        key="ch:1:k",
        account_id="A-1",
        company="power",
        amount_fen=12_300,
        paid_on=date(2020, 2, 3),
        parts=(Part("B-1", 10_000, 300), Part("B-2", 2_000, 0)),
        credit_fen=0,
        arrears_before_fen=15_000,
        arrears_after_fen=2_700,
        reconnect_queued=False,
    )
    stored = (
        '{"account_id": "A-1", "amount_fen": 12300, "arrears_after_fen": 2700, '
        '"arrears_before_fen": 15000, "company": "power", "credit_fen": 0, "key": "ch:1:k", '
        '"paid_on": "2020-02-03", "parts": [{"bill_id": "B-1", "fee_fen": 300, '
        '"principal_fen": 10000}, {"bill_id": "B-2", "fee_fen": 0, "principal_fen": 2000}], '
        '"reconnect_queued": false, "repeated": false}'
    )
    assert result.to_json() == stored
    assert PaymentResult.from_json(stored) == result
