"""Relief policies in the console, on SQLite and PostgreSQL: one company's set is its own.

A policy administrator uploads a bad file (every problem shown, nothing changed), a good one
(its what-if figures for their company alone), and activates it from the what-if the server
remembered, with an explicit confirmation (a new version of their company's set, with who and
when); the browser never sends the file or a hash again. The attack this answers: the gas
company's administrator activated a gas-only file and every power and telecom policy was gone.
Now the gas set is gas's own, the deployment-wide set stays, and power's audit log shows
nothing of it. The policy authority holds the deployment-wide set: its what-if shows every
company and its activation is audited in each company it changes. A regulator reads and tries
but cannot activate; two activations at the same moment never both apply. The figures
themselves are checked in test_whatif.py."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sanbuting.jobs.activation import activate
from sanbuting.jobs.importing import import_and_book
from sanbuting.settings import Settings
from sanbuting.staff.service import add_staff
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company, PolicyVersion
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.web_models import AuditEntry, Staff
from sanbuting.web.app import create_app
from store_databases import BACKENDS, database, write_folder

PASSWORD = "correct horse battery"
ACCOUNTS = """
    account_id,utility,customer_class,region
    H1,power,residential,420102
    G1,power,residential,440104
    S1,gas,residential,420102
    T1,telecom,residential,420102
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
ANNOUNCEMENT = """\
policies:
  - id: all-exempt
    effect: exempt
    scope: {region: ["42"]}
    window: {start: 2020-01-24, end: 2020-03-01}
"""
GAS_ONLY = """\
policies:
  - id: hb-gas-credit
    effect: emergency_credit
    scope: {utility: [gas], region: ["42"], billing_mode: [prepaid]}
    credit_fen: 10000
    window: {start: 2020-01-24, end: 2020-03-31}
"""
STAFF = (
    ("power-admin", "power", "policy_admin"),
    ("power-admin-2", "power", "policy_admin"),
    ("power-regulator", "power", "regulator"),
    ("power-agent", "power", "agent"),
    ("gas-admin", "gas", "policy_admin"),
    ("authority", "power", "policy_authority"),
)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for made in database(request.param, tmp_path):
        upgrade(made)
        outcome = import_and_book(
            data=write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS),
            start=date(2020, 1, 1),
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=tmp_path / "rejects.csv",
            url=made,
        )
        assert not outcome.refused
        engine = make_engine(made)
        with sessions(engine).begin() as session:
            hashed = ""
            for username, code, role in STAFF:
                company = session.scalar(select(Company).where(Company.code == code))
                assert company is not None
                if not hashed:
                    hashed = add_staff(
                        session=session,
                        company=company,
                        username=username,
                        name=username,
                        role=role,
                        password=PASSWORD,
                    ).password_hash
                    continue
                session.add(
                    Staff(
                        company_id=company.id,
                        username=username,
                        name=username,
                        role=role,
                        password_hash=hashed,
                        active=True,
                    )
                )
        engine.dispose()
        yield made


def browser(url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=url, secret_key="k" * 32))
    with TestClient(app) as made:
        made.get("/console/signin")
        yield made
    app.state.engine.dispose()


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    yield from browser(url)


def form_token(client: TestClient, path: str = "/console/policies") -> str:
    """The CSRF token a page of `path` gives its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/console/signin",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": form_token(client, "/console/signin"),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303


def upload(client: TestClient, name: str, text: str) -> tuple[int, str]:
    answer = client.post(
        "/console/policies/what-if",
        data={"csrf_token": form_token(client)},
        files={"file": (name, text.encode("utf-8"), "application/yaml")},
    )
    return answer.status_code, answer.text


def trial_of(page: str) -> str:
    found = re.search(r'name="trial" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


def activate_trial(client: TestClient, trial: str, confirm: bool = True) -> int:
    data = {"csrf_token": form_token(client), "trial": trial}
    if confirm:
        data["confirm"] = "yes"
    answer = client.post("/console/policies/activate", data=data, follow_redirects=False)
    return answer.status_code


def versions(url: str) -> list[tuple[int, str | None, str]]:
    """(version, company code or None, who) of every version."""
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        codes = {c.id: c.code for c in session.scalars(select(Company))}
        rows = session.execute(
            select(
                PolicyVersion.version, PolicyVersion.company_id, PolicyVersion.activated_by
            ).order_by(PolicyVersion.version)
        ).all()
    engine.dispose()
    return [(v, codes.get(c) if c else None, by) for v, c, by in rows]


def in_force(url: str, code: str) -> list[str]:
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        company = session.scalar(select(Company).where(Company.code == code))
        assert company is not None
        found = [p.id for p in policies_for(session=session, company_id=company.id)]
    engine.dispose()
    return found


def audit_of(url: str, code: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        company = session.scalar(select(Company).where(Company.code == code))
        assert company is not None
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.company_id == company.id)
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    return [(a, t) for a, t in rows]


def figure(page: str, key: str, company: str = "power") -> str:
    row = re.search(rf'<tr data-figure="{key}">(.*?)</tr>', page, re.S)
    assert row is not None, key
    found = re.search(rf'data-company="{company}" data-value="(-?\d+)"', row.group(1))
    assert found is not None
    return found.group(1)


def test_a_policy_administrator_checks_tries_and_activates(url: str, client: TestClient) -> None:
    sign_in(client, "power-admin")
    assert 'id="policy-versions"' in client.get("/console/policies").text
    status, page = upload(client, "bad.yaml", BAD)
    assert status == 422
    problems = re.findall(r"<li class=\"error\"><code>(.*?)</code></li>", page)
    assert len(problems) >= 2 and all(p.startswith("bad.yaml:") for p in problems)
    assert 'id="activate-form"' not in page
    assert versions(url) == []
    assert upload(client, "notes.txt", GOOD)[0] == 400
    status, page = upload(client, "big.yaml", "#" * (1024 * 1024 + 1))
    assert status == 422 and "1,024 KB" in page

    status, page = upload(client, "hubei 2020.yaml", GOOD)
    assert status == 200
    assert 'data-scope="power"' in page and 'data-company="gas"' not in page
    # today is after the window: arrears are read on its last day, 02-29 (H1's 10000 unpaid)
    assert (figure(page, "touched"), figure(page, "arrears_fen")) == ("1", "10000")
    assert (figure(page, "cutoffs_without"), figure(page, "cutoffs_with")) == ("2", "1")
    assert (figure(page, "events_with"), figure(page, "protected_with")) == ("1", "1")
    trial = trial_of(page)
    form = page[page.index('id="activate-form"') :]
    assert 'id="activate-confirm"' in form
    assert 'name="text"' not in form and 'name="sha256"' not in form

    assert activate_trial(client, trial, confirm=False) == 400  # the box not ticked
    assert activate_trial(client, "999999") == 404  # no such what-if
    assert versions(url) == []
    assert activate_trial(client, trial) == 303
    assert versions(url) == [(1, "power", "power-admin (power)")]
    assert activate_trial(client, trial) == 409  # used already
    shown = client.get("/console/policies?activated=1")
    assert 'id="activated"' in shown.text and 'data-version="1"' in shown.text
    assert audit_of(url, "power")[-1] == ("activate_policies", "hubei_2020.yaml")
    assert audit_of(url, "gas") == []


def test_the_activation_form_takes_no_file_and_no_hash(url: str, client: TestClient) -> None:
    """The old form sent the text and a client-computed hash: both are ignored now."""
    sign_in(client, "power-admin")
    answer = client.post(
        "/console/policies/activate",
        data={
            "csrf_token": form_token(client),
            "file_name": "x.yaml",
            "sha256": "0" * 64,
            "text": GOOD,
            "confirm": "yes",
        },
    )
    assert answer.status_code == 422 and versions(url) == []


def test_a_what_if_is_its_makers_and_goes_stale(url: str) -> None:
    first, second = browser(url), browser(url)
    admin, other = next(first), next(second)
    try:
        sign_in(admin, "power-admin")
        sign_in(other, "power-admin-2")
        trial = trial_of(upload(admin, "a.yaml", GOOD)[1])
        assert activate_trial(other, trial) == 404  # someone else's what-if
        stale = trial_of(upload(other, "b.yaml", GOOD.replace("hb-exempt", "hb-2"))[1])
        assert activate_trial(admin, trial) == 303
        assert activate_trial(other, stale) == 409  # made on the set just replaced
        assert [v for v, _, _ in versions(url)] == [1]
    finally:
        for made in (first, second):
            next(made, None)


def test_a_company_set_never_erases_another_companys_relief(
    url: str, client: TestClient, tmp_path: Path
) -> None:
    """The attack, replayed: a deployment-wide set is in force; gas's administrator
    activates a gas-only file. Power and telecom keep every policy, and power's audit log
    shows nothing of it."""
    announcement = tmp_path / "announcement.yaml"
    announcement.write_text(ANNOUNCEMENT, encoding="utf-8")
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        activate(
            session=session,
            path=announcement,
            by="authority",
            at=datetime(2020, 1, 24, 1, 0, tzinfo=UTC),
            company=None,
        )
    engine.dispose()
    before_power = audit_of(url, "power")
    sign_in(client, "gas-admin")
    status, page = upload(client, "gas.yaml", GAS_ONLY)
    assert status == 200 and 'data-company="power"' not in page
    assert 'data-company="gas"' in page
    assert activate_trial(client, trial_of(page)) == 303
    assert in_force(url, "power") == ["all-exempt"]
    assert in_force(url, "telecom") == ["all-exempt"]
    assert in_force(url, "gas") == ["all-exempt", "hb-gas-credit"]
    assert audit_of(url, "power") == before_power
    assert ("activate_policies", "gas.yaml") in audit_of(url, "gas")


def test_the_policy_authority_holds_the_deployment_wide_set(url: str, client: TestClient) -> None:
    sign_in(client, "authority")
    status, page = upload(client, "announcement.yaml", ANNOUNCEMENT)
    assert status == 200 and 'data-scope="deployment"' in page
    for code in ("gas", "power", "telecom"):
        assert f'data-company="{code}"' in page
    assert activate_trial(client, trial_of(page)) == 303
    assert versions(url) == [(1, None, "authority (deployment)")]
    for code in ("gas", "power", "telecom"):
        assert in_force(url, code) == ["all-exempt"]
        assert ("activate_policies", "announcement.yaml") in audit_of(url, code)
    # a company's set that reuses an id in force deployment-wide is refused whole
    same_id = GOOD.replace("hb-exempt", "all-exempt")
    assert trial_of(upload(client, "again.yaml", ANNOUNCEMENT)[1])  # it may try again
    second = browser(url)
    admin = next(second)
    try:
        sign_in(admin, "power-admin")
        status, page = upload(admin, "mine.yaml", same_id)
        assert status == 422 and "in force in the deployment-wide set" in page
        assert in_force(url, "power") == ["all-exempt"]
    finally:
        next(second, None)


def test_a_regulator_reads_and_tries_but_cannot_activate(url: str, client: TestClient) -> None:
    sign_in(client, "power-regulator")
    page = client.get("/console/policies")
    assert page.status_code == 200 and 'id="whatif-form"' in page.text
    status, tried = upload(client, "hubei.yaml", GOOD)
    assert status == 200 and 'id="whatif-figures"' in tried and 'id="activate-form"' not in tried
    refused = client.post(
        "/console/policies/activate",
        data={"csrf_token": form_token(client), "trial": "1", "confirm": "yes"},
    )
    assert refused.status_code == 403
    assert versions(url) == []
    assert client.get("/console/audit").status_code == 200


def test_two_activations_at_once_never_both_apply(url: str) -> None:
    """Two administrators activate what-ifs made on the same sets at the same moment: one
    version is made, the other is refused as stale (no lost update, no duplicate version)."""
    made = [browser(url), browser(url)]
    clients = [next(m) for m in made]
    try:
        sign_in(clients[0], "power-admin")
        sign_in(clients[1], "power-admin-2")
        trials = [
            trial_of(upload(c, f"{n}.yaml", GOOD.replace("hb-exempt", f"hb-{n}"))[1])
            for n, c in enumerate(clients)
        ]
        tokens = [form_token(c) for c in clients]
        start = threading.Barrier(2)
        codes: list[int] = []

        def go(index: int) -> None:
            start.wait()
            answer = clients[index].post(
                "/console/policies/activate",
                data={"csrf_token": tokens[index], "trial": trials[index], "confirm": "yes"},
                follow_redirects=False,
            )
            codes.append(answer.status_code)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [303, 409]
        assert [v for v, _, _ in versions(url)] == [1]
    finally:
        for m in made:
            next(m, None)


def test_every_activation_leaves_an_audit_trail(url: str, client: TestClient) -> None:
    sign_in(client, "power-admin")
    trial = trial_of(upload(client, "hubei.yaml", GOOD)[1])
    assert activate_trial(client, trial) == 303
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    actions = [action for action, _ in rows]
    assert actions == ["sign_in", "what_if", "activate_policies"]
    activated = json.loads(rows[-1][1])
    assert (activated["version"], activated["scope"]) == (1, "power")
