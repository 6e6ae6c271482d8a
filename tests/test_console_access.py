"""The staff console, on SQLite and PostgreSQL: sign-in (argon2 hashes, one refusal for an
unknown user and a wrong password, rate limits), masked search, the account's story, working
applications, roles (an agent cannot touch policies), company isolation (staff of power cannot
read gas's accounts or applications: 404), CSRF, and the audit rows every action writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sanbuting.applications import service as applications
from sanbuting.errors import Conflict, SanbutingError, Unauthorized
from sanbuting.guard import throttle
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.settings import Settings
from sanbuting.staff import service as staff_service
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import AuditEntry, Staff
from sanbuting.web.app import create_app
from sanbuting.web.security import CSRF_COOKIE
from store_databases import BACKENDS, database, write_folder

PASSWORD = "correct horse battery"
BACKOFF = throttle.Policy(free_failures=5, max_wait_seconds=3600)
NOW = datetime(2020, 1, 25, 2, 0, tzinfo=UTC)
ACCOUNTS = """
    account_id,utility,customer_class,region,phone
    H1,power,residential,420102,13800000001
    G1,power,residential,440104,13800000002
    S1,gas,residential,420102,13800000003
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    BH1,H1,2019-12,2019-12-05,2019-12-20,10000
"""
STAFF = (
    ("power-agent", "power", "agent"),
    ("power-super", "power", "supervisor"),
    ("power-admin", "power", "policy_admin"),
    ("power-regulator", "power", "regulator"),
    ("gas-agent", "gas", "agent"),
)
REPAIR = {"fault": "no_power", "address": "某路 1 号", "contact_phone": "13800000009"}


def company(session: Session, code: str) -> Company:
    found = session.scalar(select(Company).where(Company.code == code))
    assert found is not None
    return found


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        outcome = import_and_book(
            data=write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS),
            start=date(2020, 1, 1),
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=tmp_path / "rejects.csv",
            url=value,
        )
        assert not outcome.refused
        engine = make_engine(value)
        run_daily(engine=engine, through=date(2020, 1, 24), single=False, now=lambda: NOW)
        with sessions(engine).begin() as session:
            hashed = ""
            for username, code, role in STAFF:
                if not hashed:  # argon2 is slow on purpose: hash once, share it
                    first = staff_service.add_staff(
                        session=session,
                        company=company(session, code),
                        username=username,
                        name=username,
                        role=role,
                        password=PASSWORD,
                    )
                    hashed = first.password_hash
                    continue
                session.add(
                    Staff(
                        company_id=company(session, code).id,
                        username=username,
                        name=username,
                        role=role,
                        password_hash=hashed,
                        active=True,
                    )
                )
        engine.dispose()
        yield value


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    made = make_engine(url)
    yield made
    made.dispose()


def make_client(url: str, address: str = "testclient", **settings: object) -> TestClient:
    app = create_app(Settings(database_url=url, secret_key="k" * 32, **settings))
    client = TestClient(app, client=(address, 50000))
    client.get("/console/signin")  # the CSRF cookie
    return client


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    with make_client(url) as made:
        yield made
        made.app.state.engine.dispose()  # type: ignore[attr-defined]


def csrf(client: TestClient) -> str:
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    return token


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> int:
    answer = client.post(
        "/console/signin",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    return answer.status_code


def audit_rows(engine: Engine, username: str) -> list[tuple[str, str, dict[str, object]]]:
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.detail)
            .join(Staff, Staff.id == AuditEntry.staff_id)
            .where(Staff.username == username)
            .order_by(AuditEntry.id)
        ).all()
    return [(action, target, json.loads(detail)) for action, target, detail in rows]


def test_passwords_are_argon2_hashes_and_refusals_do_not_tell_which(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        member = session.scalar(select(Staff).where(Staff.username == "power-agent"))
        assert member is not None
        assert member.password_hash.startswith("$argon2id$")
        assert PASSWORD not in member.password_hash
        found = staff_service.authenticate(
            session=session,
            username="Power-Agent",
            password=PASSWORD,
            ip="",
            now=NOW,
            backoff=BACKOFF,
        )
        assert found.id == member.id
        refusals = []
        for username, password in (("power-agent", "wrong password"), ("nobody", PASSWORD)):
            with pytest.raises(Unauthorized) as refused:
                staff_service.authenticate(
                    session=session,
                    username=username,
                    password=password,
                    ip="",
                    now=NOW,
                    backoff=BACKOFF,
                )
            refusals.append(str(refused.value))
        assert refusals == ["wrong username or password"] * 2
        power = company(session, "power")
        with pytest.raises(Conflict, match="taken"):
            staff_service.add_staff(
                session=session,
                company=power,
                username="power-agent",
                name="x",
                role="agent",
                password=PASSWORD,
            )
        with pytest.raises(SanbutingError, match="role 'boss'"):
            staff_service.add_staff(
                session=session, company=power, username="boss", name="x", role="boss", password="p"
            )
        with pytest.raises(SanbutingError, match="10 to 200 characters"):
            staff_service.add_staff(
                session=session,
                company=power,
                username="short",
                name="x",
                role="agent",
                password="short",
            )
        assert staff_service.can_see_personal_data(member) is False
    assert audit_rows(engine, "power-agent") == [("sign_in_refused", "power-agent", {"ip": "-"})]


def test_sign_in_the_dashboard_and_sign_out(client: TestClient, engine: Engine) -> None:
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/signin"
    refused = client.post(
        "/console/signin",
        data={"username": "power-agent", "password": "nope", "csrf_token": csrf(client)},
    )
    assert refused.status_code == 401 and 'id="signin-error"' in refused.text
    no_csrf = client.post("/console/signin", data={"username": "a", "password": "b"})
    assert no_csrf.status_code == 422  # the token is a required field
    forged = client.post(
        "/console/signin", data={"username": "a", "password": "b", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert sign_in(client, "power-agent") == 303
    home = client.get("/console")
    assert home.status_code == 200
    assert 'data-test="count-submitted">0<' in home.text
    assert 'id="nav-policies"' not in home.text  # not for an agent
    out = client.post("/console/signout", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303
    actions = [action for action, _, _ in audit_rows(engine, "power-agent")]
    assert actions == ["sign_in_refused", "sign_in", "sign_out"]


def test_search_masks_the_phone_for_an_agent_and_stays_in_the_company(
    client: TestClient, engine: Engine
) -> None:
    sign_in(client, "power-agent")
    found = client.get("/console/accounts", params={"q": "13800000001"})
    assert re.findall(r'data-account="(\w+)"', found.text) == ["H1"]
    assert "138****0001" in found.text and "13800000001" not in found.text.replace(
        'value="13800000001"', ""
    )
    every = client.get("/console/accounts", params={"q": "G"})
    assert re.findall(r'data-account="(\w+)"', every.text) == ["G1"]
    gas = client.get("/console/accounts", params={"q": "S1"})
    assert 'id="no-results"' in gas.text
    assert client.get("/console/accounts/S1").status_code == 404
    story = client.get("/console/accounts/H1")
    assert story.status_code == 200
    assert "账户 H1 情况说明（2020-01-01 至 2020-01-24）" in story.text
    assert 'id="account-phone">138****0001<' in story.text
    assert 'data-bill="BH1"' in story.text
    assert "power:notice:H1:2020-01-20" in story.text  # the order the run queued
    rows = audit_rows(engine, "power-agent")
    assert [(a, t) for a, t, _ in rows[1:]] == [
        ("search_accounts", "138****0001"),
        ("search_accounts", "G"),
        ("search_accounts", "S1"),
        ("view_account", "H1"),
    ]
    sign_in(client, "power-super")
    whole = client.get("/console/accounts", params={"q": "H1"})
    assert 'data-test="phone">13800000001<' in whole.text


def submit_repair(engine: Engine, account_id: str) -> str:
    with sessions(engine).begin() as session:
        account = session.scalar(select(Account).where(Account.account_id == account_id))
        assert account is not None
        made = applications.submit(
            session=session,
            business="power-fault-repair" if account.utility == "power" else "gas-fault-repair",
            company=session.get(Company, account.company_id),  # type: ignore[arg-type]
            account=account,
            customer=None,
            fields=REPAIR if account.utility == "power" else {**REPAIR, "fault": "leak"},
            documents=[],
            now=NOW,
        )
        return made.number


def test_an_agent_works_an_application_of_their_company_only(
    client: TestClient, engine: Engine
) -> None:
    power_number = submit_repair(engine, "H1")
    gas_number = submit_repair(engine, "S1")
    sign_in(client, "power-agent")
    queue = client.get("/console/applications")
    assert re.findall(r'data-number="(SQ\d+)"', queue.text) == [power_number]
    page = client.get(f"/console/applications/{power_number}")
    assert 'data-status="submitted"' in page.text and 'id="move-accepted"' in page.text
    assert 'data-field="contact_phone">138****0009<' in page.text
    moved = client.post(
        f"/console/applications/{power_number}",
        data={"status": "accepted", "note": "已派单", "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    illegal = client.post(
        f"/console/applications/{power_number}",
        data={"status": "completed", "note": "", "csrf_token": csrf(client)},
    )
    assert illegal.status_code == 409 and 'id="transition-error"' in illegal.text
    assert (
        client.post(
            f"/console/applications/{power_number}", data={"status": "in_progress"}
        ).status_code
        == 403
    )  # no CSRF token
    assert client.get(f"/console/applications/{gas_number}").status_code == 404
    assert (
        client.post(
            f"/console/applications/{gas_number}",
            data={"status": "accepted", "csrf_token": csrf(client)},
        ).status_code
        == 404
    )
    shown = client.get(f"/console/applications/{power_number}")
    assert "已派单" in shown.text and 'data-status="accepted"' in shown.text
    assert "工作人员 power-agent — 已派单" in shown.text and "staff:" not in shown.text
    rows = audit_rows(engine, "power-agent")
    assert ("work_application", power_number, {"after": "accepted", "before": "submitted"}) in rows
    assert ("view_application", power_number, {}) in rows
    sign_in(client, "power-regulator")
    assert 'id="move-in_progress"' not in client.get(f"/console/applications/{power_number}").text
    assert (
        client.post(
            f"/console/applications/{power_number}",
            data={"status": "in_progress", "csrf_token": csrf(client)},
        ).status_code
        == 403
    )


def test_an_agent_cannot_touch_policies(client: TestClient) -> None:
    sign_in(client, "power-agent")
    assert client.get("/console/policies").status_code == 403
    assert client.get("/console/audit").status_code == 403
    activate = client.post(
        "/console/policies/activate",
        data={"trial": "1", "confirm": "yes", "csrf_token": csrf(client)},
    )
    assert activate.status_code == 403
    tried = client.post(
        "/console/policies/what-if",
        data={"csrf_token": csrf(client)},
        files={"file": ("x.yaml", b"policies: []\n", "application/yaml")},
    )
    assert tried.status_code == 403


def test_staff_add_on_the_command_line(url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import sanbuting.cli.staff  # noqa: F401  (registers `staff` until cli/__init__ lists it)
    from sanbuting.cli import app

    secret = tmp_path / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    env = {"SANBUTING_DATABASE_URL": url}
    args = ["staff", "add", "power-new", "--company", "power", "--role", "supervisor"]
    done = CliRunner().invoke(
        app, [*args, "--name", "新人", "--password-file", str(secret)], env=env
    )
    assert done.exit_code == 0, done.output
    assert done.output == "staff power-new added: supervisor of power\n"
    unknown = CliRunner().invoke(
        app,
        ["staff", "add", "x-new", "--company", "water", "--role", "agent", "--name", "x"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=env,
    )
    assert unknown.exit_code == 1
    assert "no company 'water' in the store (companies: gas, power)" in unknown.output
