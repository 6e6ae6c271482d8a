"""The dunning proposal and its approval, on SQLite and PostgreSQL.

`daily --preview D` says what day D would record, with the reason `explain` gives for each
action, and records nothing; the day's run then records exactly those actions. A company that
requires approval has its enforcement orders held in the outbox until a supervisor releases
the day (command line or console), audited; a payment that clears the arrears cancels a held
cut-off as it cancels a pending one.

The store (contract.md, power postpaid `cn-power-1996`, residential 1‰): H1 and H2 owe a bill
due 2019-12-20 ("more than 30 days overdue" from 2020-01-20: notice that day, cut-off three
days later, 01-23); G1 owes one too but gz-exempt covers Guangzhou from 01-15 to 02-01; R1's
bill is due 2020-01-10: its reminder comes on 01-11.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.dispatch.dispatcher import run_dispatcher
from sanbuting.dispatch.sinks import FileSink
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.preview import preview
from sanbuting.jobs.releases import held_days, release_day
from sanbuting.payments.recheck import make_recheck
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.settings import Settings
from sanbuting.staff.service import add_staff
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company, OutboxItem, Run, StoredAction
from sanbuting.store.web_models import AuditEntry
from sanbuting.web.app import create_app
from store_databases import BACKENDS, database, import_into, write_folder

NOW = datetime(2020, 1, 24, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
ACCOUNTS = """
    account_id,utility,customer_class,region
    H1,power,residential,420102
    H2,power,residential,420102
    G1,power,residential,440104
    R1,power,residential,420102
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    BH1,H1,2019-12,2019-12-05,2019-12-20,10000
    BH2,H2,2019-12,2019-12-05,2019-12-20,20000
    BG1,G1,2019-12,2019-12-05,2019-12-20,10000
    BR1,R1,2020-01,2019-12-26,2020-01-10,5000
"""
POLICIES = """\
policies:
  - id: gz-exempt
    effect: exempt
    scope: {utility: [power], region: ["4401"]}
    window: {start: 2020-01-15, end: 2020-02-01}
"""
NOTICE = "已发出停电通知：账单 {bill} 到期日 2019-12-20，已逾期 31 天，超过 30 天，且尚无有效通知。"
ENGLISH = (
    "Cut-off notice served: bill BH1, due 2019-12-20, is 31 days overdue, more than 30, with no "
    "valid notice in force."
)
PROPOSED_0120 = [
    ("H1", "notice", "notice", "", "", NOTICE.format(bill="BH1"), "power"),
    ("H2", "notice", "notice", "", "", NOTICE.format(bill="BH2"), "power"),
]


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for url in database(request.param, tmp_path):
        upgrade(url)
        import_into(url, write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS), tmp_path)
        policies = tmp_path / "policies.yaml"
        policies.write_text(POLICIES, encoding="utf-8")
        made = make_engine(url)
        with sessions(made).begin() as session:
            activate(session=session, path=policies, by="test", at=NOW, company=None)
        yield made
        made.dispose()


def rows_of(engine: Engine, table: type[Run] | type[StoredAction] | type[OutboxItem]) -> int:
    with sessions(engine).begin() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def require_approval(engine: Engine) -> Company:
    with sessions(engine).begin() as session:
        power = session.scalar(select(Company).where(Company.code == "power"))
        assert power is not None
        power.requires_approval = True
        return power


def test_the_proposal_is_what_the_day_then_records(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_daily(engine=engine, through=date(2020, 1, 19), single=False, now=lambda: NOW)
    before = [rows_of(engine, t) for t in (Run, StoredAction, OutboxItem)]
    with monkeypatch.context() as patched:  # the day after a recorded one: from its checkpoint
        patched.setattr("sanbuting.jobs.preview.decide", None)
        proposal = preview(engine=engine, day=date(2020, 1, 20))
    assert [
        (p.account_id, p.action, p.step, p.bill_id, p.policy_id, p.reason, p.company)
        for p in proposal.rows
    ] == PROPOSED_0120
    assert [rows_of(engine, t) for t in (Run, StoredAction, OutboxItem)] == before  # nothing
    english = preview(engine=engine, day=date(2020, 1, 20), lang="en").rows[0].reason
    assert english == ENGLISH

    run_daily(engine=engine, through=date(2020, 1, 20), single=True, now=lambda: NOW)
    with sessions(engine).begin() as session:
        recorded = session.execute(
            select(StoredAction.action, StoredAction.bill_id)
            .where(StoredAction.day == date(2020, 1, 20))
            .order_by(StoredAction.id)
        ).all()
    assert [(a, b) for a, b in recorded] == [(p.action, p.bill_id) for p in proposal.rows]
    assert preview(engine=engine, day=date(2020, 1, 20)).recorded == ["power"]


def test_a_later_day_and_its_cut_offs(engine: Engine) -> None:
    """Ahead of the next day the proposal assumes nothing else arrives: 01-23's cut-offs
    follow the notices of 01-20, with the notice they rely on named."""
    rows = preview(engine=engine, day=date(2020, 1, 23)).rows
    assert [(p.account_id, p.action) for p in rows] == [("H1", "disconnect"), ("H2", "disconnect")]
    assert rows[0].reason.startswith("已停电：账单 BH1 到期日 2019-12-20，已逾期 34 天")
    assert "2020-01-20 发出通知" in rows[0].reason


def test_enforcement_orders_wait_for_a_release(engine: Engine, tmp_path: Path) -> None:
    power = require_approval(engine)
    run_daily(engine=engine, through=date(2020, 1, 23), single=False, now=lambda: NOW)
    with sessions(engine).begin() as session:
        orders = session.execute(
            select(OutboxItem.day, OutboxItem.kind, OutboxItem.status).order_by(OutboxItem.id)
        ).all()
        held = held_days(session=session, company=power)
    assert [tuple(o) for o in orders] == [
        (date(2020, 1, 11), "remind", "pending"),  # a reminder is not enforcement
        (date(2020, 1, 20), "notice", "held"),
        (date(2020, 1, 20), "notice", "held"),
        (date(2020, 1, 23), "disconnect", "held"),
        (date(2020, 1, 23), "disconnect", "held"),
    ]
    assert [(h.day, h.counts) for h in held] == [
        (date(2020, 1, 20), {"notice": 2}),
        (date(2020, 1, 23), {"disconnect": 2}),
    ]
    sink = tmp_path / "sent.jsonl"
    dispatch = {
        "engine": engine,
        "sink": FileSink(sink),
        "recheck": make_recheck(lambda: NOW),
        "now": lambda: NOW,
        "stop_when_idle": True,
    }
    run_dispatcher(**dispatch)  # type: ignore[arg-type]
    assert sink.read_text(encoding="utf-8").count("\n") == 1  # the reminder only

    with sessions(engine).begin() as session:  # H1 pays: its held cut-off is cancelled
        post_payment(
            session=session,
            payment=PaymentIn("H1", 10350, "counter-h1", NOW, "counter", "power"),  # + 35 days
            now=NOW,
        )
    with sessions(engine).begin() as session:
        assert release_day(session=session, company=power, day=date(2020, 1, 20), now=NOW) == 2
        assert release_day(session=session, company=power, day=date(2020, 1, 23), now=NOW) == 1
    run_dispatcher(**dispatch)  # type: ignore[arg-type]
    with sessions(engine).begin() as session:
        statuses = session.execute(
            select(OutboxItem.kind, OutboxItem.status).order_by(OutboxItem.id)
        ).all()
        audited = session.execute(
            select(AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.action == "release_orders")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(s) for s in statuses] == [
        ("remind", "done"),
        ("notice", "cancelled"),  # H1 paid after the run: re-checked and not sent
        ("notice", "done"),
        ("disconnect", "cancelled"),  # cancelled by H1's payment while held
        ("disconnect", "done"),
    ]
    assert [tuple(a) for a in audited] == [
        ("release_orders", "2020-01-20"),
        ("release_orders", "2020-01-23"),
    ]


def test_the_commands(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANBUTING_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    out = tmp_path / "proposal.csv"
    shown = runner.invoke(app, ["daily", "--preview", "2020-01-20", "--out", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "2 proposed actions for 2020-01-20" in shown.output
    table = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert table[0] == ["account_id", "action", "step", "bill_id", "policy_id", "reason", "company"]
    assert [tuple(r) for r in table[1:]] == PROPOSED_0120
    assert runner.invoke(app, ["orders", "approval", "--company", "power", "--on"]).exit_code == 0
    assert runner.invoke(app, ["daily", "--through", "2020-01-20"]).exit_code == 0
    held = runner.invoke(app, ["orders", "held"])
    assert "power 2020-01-20: 2 held (notice 2)" in held.output
    released = runner.invoke(app, ["orders", "release", "--date", "2020-01-20", "--by", "li"])
    assert released.exit_code == 0 and "power 2020-01-20: 2 orders released" in released.output
    assert "no orders are held" in runner.invoke(app, ["orders", "held"]).output


def test_a_supervisor_releases_in_the_console(engine: Engine) -> None:
    require_approval(engine)
    run_daily(engine=engine, through=date(2020, 1, 20), single=False, now=lambda: NOW)
    with sessions(engine).begin() as session:
        power = session.scalar(select(Company).where(Company.code == "power"))
        assert power is not None
        for username, role in (("super", "supervisor"), ("agent", "agent")):
            add_staff(
                session=session,
                company=power,
                username=username,
                name=username,
                role=role,
                password=PASSWORD,
            )
    url = engine.url.render_as_string(hide_password=False)
    app_ = create_app(Settings(database_url=url, secret_key="k" * 32))
    with TestClient(app_) as browser:
        for username, allowed in (("agent", False), ("super", True)):
            browser.cookies.clear()
            signin = browser.get("/console/signin").text
            token = signin.split('name="csrf_token" value="')[1].split('"')[0]
            answer = browser.post(
                "/console/signin",
                data={"username": username, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert answer.status_code == 303
            listing = browser.get("/console/orders")
            assert listing.status_code == (200 if allowed else 403)
        assert 'data-day="2020-01-20" data-held="2"' in listing.text
        proposal = browser.get("/console/orders/proposal.csv?day=2020-01-21")
        assert proposal.status_code == 200 and proposal.text.startswith("\ufeffaccount_id,")
        token = listing.text.split('name="csrf_token" value="')[1].split('"')[0]
        done = browser.post(
            "/console/orders/release",
            data={"csrf_token": token, "day": "2020-01-20"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"].endswith("released=2")
        assert "没有待放行的工单" in browser.get("/console/orders").text
    app_.state.engine.dispose()
    with sessions(engine).begin() as session:
        audited = session.execute(select(AuditEntry.action, AuditEntry.target)).all()
    assert ("release_orders", "2020-01-20") in [tuple(a) for a in audited]
