"""Relief policies in the console, on SQLite and PostgreSQL: a policy administrator uploads a
bad file (every problem shown, the active set unchanged), a good one (its what-if figures),
and activates it (a new version with who and when); a regulator reads and tries but cannot
activate; every step is audited. The figures themselves are checked in test_whatif.py."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sanbuting.settings import Settings
from sanbuting.staff.service import add_staff
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.importing import import_and_book
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company, PolicyVersion
from sanbuting.store.web_models import AuditEntry, Staff
from sanbuting.web.app import create_app
from sanbuting.web.security import CSRF_COOKIE
from store_databases import BACKENDS, database, write_folder

PASSWORD = "correct horse battery"
ACCOUNTS = """
    account_id,utility,customer_class,region
    H1,power,residential,420102
    G1,power,residential,440104
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    BH1,H1,2019-12,2019-12-05,2019-12-20,10000
    BG1,G1,2019-12,2019-12-05,2019-12-20,10000
"""
# H1 (Hubei) would be noticed on 01-20 and cut off on 01-23; the set exempts it.
GOOD = """\
policies:
  - id: hb-exempt
    effect: exempt
    scope: {utility: [power], region: ["42"]}
    window: {start: 2020-01-20, end: 2020-03-01}
"""
BAD = """\
policies:
  - id: hb-exempt
    effect: exempt
    scope: {utility: [power], region: ["99"]}
    window: {start: 2020-03-01, end: 2020-01-20}
"""


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    for url in database(request.param, tmp_path):
        upgrade(url)
        outcome = import_and_book(
            data=write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS),
            start=date(2020, 1, 1),
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=tmp_path / "rejects.csv",
            url=url,
        )
        assert not outcome.refused
        engine = make_engine(url)
        with sessions(engine).begin() as session:
            power = session.scalar(select(Company).where(Company.code == "power"))
            assert power is not None
            admin = add_staff(
                session=session,
                company=power,
                username="power-admin",
                name="政策管理员",
                role="policy_admin",
                password=PASSWORD,
            )
            for username, role in (("power-regulator", "regulator"), ("power-agent", "agent")):
                session.add(
                    Staff(
                        company_id=power.id,
                        username=username,
                        name=username,
                        role=role,
                        password_hash=admin.password_hash,
                        active=True,
                    )
                )
        engine.dispose()
        app = create_app(Settings(database_url=url, secret_key="k" * 32))
        with TestClient(app) as made:
            made.get("/console/signin")
            yield made
        app.state.engine.dispose()


def csrf(client: TestClient) -> str:
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    return token


def sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/console/signin",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303


def upload(client: TestClient, name: str, text: str) -> tuple[int, str]:
    answer = client.post(
        "/console/policies/what-if",
        data={"csrf_token": csrf(client)},
        files={"file": (name, text.encode("utf-8"), "application/yaml")},
    )
    return answer.status_code, answer.text


def versions(client: TestClient) -> list[tuple[int, str]]:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(PolicyVersion.version, PolicyVersion.activated_by).order_by(
                PolicyVersion.version
            )
        ).all()
    return [(v, by) for v, by in rows]


def figure(page: str, key: str) -> str:
    row = re.search(rf'<tr data-figure="{key}">(.*?)</tr>', page, re.S)
    assert row is not None, key
    found = re.search(r'data-utility="power" data-value="(-?\d+)"', row.group(1))
    assert found is not None
    return found.group(1)


def test_a_policy_administrator_checks_tries_and_activates(client: TestClient) -> None:
    sign_in(client, "power-admin")
    assert 'id="policy-versions"' in client.get("/console/policies").text
    status, page = upload(client, "bad.yaml", BAD)
    assert status == 422
    problems = re.findall(r"<li class=\"error\"><code>(.*?)</code></li>", page)
    assert len(problems) >= 2 and all(p.startswith("bad.yaml:") for p in problems)
    assert 'id="activate-form"' not in page
    assert versions(client) == []
    assert upload(client, "notes.txt", GOOD)[0] == 400
    assert upload(client, "big.yaml", "#" * (256 * 1024 + 1))[0] == 400

    status, page = upload(client, "hubei 2020.yaml", GOOD)
    assert status == 200
    # today is after the window: arrears are read on its last day, 02-29 (H1's 10000 unpaid)
    assert (figure(page, "touched"), figure(page, "arrears_fen")) == ("1", "10000")
    assert (figure(page, "cutoffs_without"), figure(page, "cutoffs_with")) == ("2", "1")
    assert (figure(page, "events_with"), figure(page, "protected_with")) == ("1", "1")
    digest = hashlib.sha256(GOOD.encode("utf-8")).hexdigest()
    assert f'data-sha256="{digest}"' in page and 'id="activate-submit"' in page
    changed = client.post(
        "/console/policies/activate",
        data={
            "csrf_token": csrf(client),
            "file_name": "hubei_2020.yaml",
            "sha256": digest,
            "text": GOOD + "# changed\n",
        },
    )
    assert changed.status_code == 400
    done = client.post(
        "/console/policies/activate",
        data={
            "csrf_token": csrf(client),
            "file_name": "hubei_2020.yaml",
            "sha256": digest,
            "text": GOOD.replace("\n", "\r\n"),  # as a browser sends a form's text
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/policies?activated=1"
    assert versions(client) == [(1, "power-admin (power)")]
    shown = client.get(done.headers["location"])
    assert 'id="activated"' in shown.text and 'data-version="1" data-active="true"' in shown.text

    engine = client.app.state.engine  # type: ignore[attr-defined]
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.detail).order_by(AuditEntry.id)
        ).all()
    actions = [(action, target) for action, target, _ in rows]
    assert actions == [
        ("sign_in", "power-admin"),
        ("upload_policies", "bad.yaml"),
        ("what_if", "hubei_2020.yaml"),
        ("activate_policies", "hubei_2020.yaml"),
    ]
    activated = json.loads(rows[-1][2])
    assert (activated["version"], activated["sha256"]) == (1, digest)


def test_a_regulator_reads_and_tries_but_cannot_activate(client: TestClient) -> None:
    sign_in(client, "power-regulator")
    page = client.get("/console/policies")
    assert page.status_code == 200 and 'id="whatif-form"' in page.text
    status, tried = upload(client, "hubei.yaml", GOOD)
    assert status == 200 and 'id="whatif-figures"' in tried and 'id="activate-form"' not in tried
    refused = client.post(
        "/console/policies/activate",
        data={
            "csrf_token": csrf(client),
            "file_name": "hubei.yaml",
            "sha256": hashlib.sha256(GOOD.encode("utf-8")).hexdigest(),
            "text": GOOD,
        },
    )
    assert refused.status_code == 403
    assert versions(client) == []
    assert client.get("/console/audit").status_code == 200
