""" "Am I protected?" and the account position (`relief.status`) on SQLite and PostgreSQL: the
policies covering an account now or later in plain words, until when (an exempt's spread end
included); the bills with their late fees as of a day, before and after a payment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sanbuting.domain import AccountState
from sanbuting.engine.relief import spread_offset
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.policy import parse_policies
from sanbuting.relief.status import account_position, protection_status
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.policy_versions import deployment_policies
from store_databases import BACKENDS
from test_portal_world import NOW, TODAY, account, stores

MORE = """
policies:
  - id: spread-exempt
    title: 分批恢复（测试）
    effect: exempt
    scope: {utility: [power], region: ["4401"]}
    window: {start: 2020-03-01, end: 2020-03-11}
    resume: {spread_days: 7}
    pause_reminders: true
  - id: credit
    title: 应急额度（测试）
    effect: emergency_credit
    scope: {utility: [power], billing_mode: [prepaid]}
    credit_fen: 3000
    window: {start: 2020-03-01, end: 2020-04-01}
  - id: gas-only
    title: 燃气（测试）
    effect: exempt
    scope: {utility: [gas]}
    window: {start: 2020-03-01, end: 2020-04-01}
"""


@pytest.fixture(params=BACKENDS)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    for url in stores(request.param, tmp_path):
        engine = make_engine(url)
        with sessions(engine).begin() as opened:
            yield opened
        engine.dispose()


def test_the_policies_covering_an_account_in_plain_words(session: Session) -> None:
    p1 = account(session, "P1")
    found = protection_status(session=session, account=p1, on=TODAY)
    assert [(p.policy_id, p.kind, p.active) for p in found] == [
        ("gz-exempt-2020", "exempt", True),
        ("gz-defer-april", "defer", False),
    ]  # the January waiver ended on 2020-02-29
    exempt, defer = found
    assert (exempt.start, exempt.end) == (date(2020, 1, 23), date(2020, 3, 31))
    assert exempt.zh == "2020-01-23至2020-03-31期间欠费不停电"
    assert exempt.en == "No power cut for arrears from 2020-01-23 to 2020-03-31"
    assert exempt.title == "广州 居民欠费不停电（测试）" and exempt.source
    assert defer.words("en").endswith("postponed by 30 days")
    on_feb = protection_status(session=session, account=p1, on=date(2020, 2, 15))
    waiver = next(p for p in on_feb if p.kind == "waive_late_fee")
    assert waiver.zh == "2020-02-01至2020-02-29期间，2020-01出账的电费不计违约金"
    assert protection_status(session=session, account=account(session, "S1"), on=TODAY) == []
    assert protection_status(session=session, account=p1, on=date(2020, 5, 1)) == []


def test_spread_ends_credit_and_scope(session: Session) -> None:
    policies = parse_policies(MORE, "more.yaml")
    k1 = account(session, "K1")
    found = protection_status(session=session, account=k1, on=TODAY, policies=policies)
    assert [p.policy_id for p in found] == ["spread-exempt", "credit"]
    spread, credit = found
    offset = spread_offset("K1", 7)
    assert spread.end == date(2020, 3, 10 + offset)
    assert "暂停催费提醒" in spread.zh
    assert (
        credit.zh
        == "2020-03-01至2020-03-31期间，预付费余额用完后还可透支30.00元（应急额度），不停电"
    )
    g1 = account(session, "G1")
    gas = protection_status(session=session, account=g1, on=TODAY, policies=policies)
    assert [(p.policy_id, p.zh) for p in gas] == [
        ("gas-only", "2020-03-01至2020-03-31期间欠费不停气")
    ]


def test_the_position_before_and_after_a_payment(session: Session) -> None:
    p1 = account(session, "P1")
    before = account_position(session=session, account=p1, on=TODAY, now=NOW)
    assert (before.arrears_fen, before.balance_fen, before.due_fen) == (18000, 0, 27362)
    assert before.state is AccountState.ACTIVE and not before.cut_off
    b3, b2, b1 = before.bills
    assert (b1.bill_id, b1.open_fen, b1.fee_fen, b1.fee_due_fen, b1.waived_fen) == (
        "B1",
        10000,
        210,
        210,
        290,
    )
    assert (b1.fee_days, b1.waived_days, b1.overdue, b1.finalized) == (21, 29, True, False)
    assert (b2.fee_fen, b3.fee_fen, b3.overdue) == (152, 0, False)
    assert any("29 天 免收" in line for line in b1.explain_zh)
    assert any("29 days waived" in line for line in b1.explain_en)
    post_payment(
        session=session,
        payment=PaymentIn("P1", 10500, "counter-1", datetime(2020, 3, 10, 2, tzinfo=UTC)),
        policies=deployment_policies(session),
        now=NOW,
    )
    after = account_position(session=session, account=p1, on=TODAY, now=NOW)
    b3, b2, b1 = after.bills
    # 105.00 pays B1's principal and its fee 2.10 (finalized today), then 2.90 of B2
    assert (b1.open_fen, b1.fee_fen, b1.fee_due_fen, b1.finalized) == (0, 210, 0, True)
    assert (b2.open_fen, b2.fee_due_fen) == (8000 - 290, 152)
    assert after.arrears_fen == 8000 - 290
    assert after.due_fen == 27362 - 10500


def test_a_disconnected_prepaid_and_gas_position(session: Session) -> None:
    d1 = account(session, "D1")
    position = account_position(session=session, account=d1, on=TODAY, now=NOW)
    assert position.cut_off and position.state is AccountState.DISCONNECTED
    assert (position.arrears_fen, position.due_fen) == (6000, 6486)
    k1 = account_position(session=session, account=account(session, "K1"), on=TODAY, now=NOW)
    assert (k1.prepaid, k1.balance_fen, k1.arrears_fen, k1.due_fen, k1.bills) == (
        True,
        4100,
        0,
        0,
        (),
    )
