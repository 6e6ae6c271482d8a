"""The deployment regulator (监管机构): read-only figures of every company of the deployment,
compared, and nothing else; a company's regulator still reads only its own company. On SQLite
and PostgreSQL.

The store: three companies named with their groups — 国网湖北省电力有限公司 (power), 中国电信股份有
限公司湖北分公司 (telecom) and 武汉华润燃气有限公司 (gas) — under the 2020 epidemic set, the daily
run recorded through 2020-03-09. Wuhan's power account P1 and telecom account T1 fall due on
2019-12-25: their notice and suspension of late January are prevented (exempt); Guangzhou's
telecom T2 is deferred; Wuhan's gas Q1, due 2019-12-01, is exempt from its notice in
mid-February. The deployment regulator was added in the gas company."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from sanbuting.cli import app as cli_app
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.reports import charts
from sanbuting.reports.svg import ChartError
from sanbuting.settings import Settings
from sanbuting.staff.service import readable_companies
from sanbuting.store.companies import name_company
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company
from sanbuting.store.web_models import AuditEntry, Staff
from sanbuting.web import deps
from sanbuting.web.app import create_app
from sanbuting.web.console.dashboard import forget
from sanbuting.web.security import SESSION_COOKIE
from store_databases import BACKENDS, database, import_into, write_folder
from test_api_world import new_session, password_hash

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2020, 3, 10, 4, 0, tzinfo=UTC)
ACCOUNTS = """
    account_id,utility,customer_class,region,phone
    P1,power,residential,420102,13800000001
    P2,power,residential,440104,13800000002
    T1,telecom,residential,420102,13800000003
    T2,telecom,residential,440104,13800000004
    Q1,gas,residential,420102,13800000005
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    BP1,P1,2019-12,2019-12-10,2019-12-25,12000
    BP2,P2,2020-01,2020-01-05,2020-01-20,8000
    BT1,T1,2019-12,2019-12-10,2019-12-25,5000
    BT2,T2,2019-12,2019-12-10,2019-12-25,6000
    BQ1,Q1,2019-11,2019-11-16,2019-12-01,3000
"""
NAMES = {
    "power": ("国网湖北省电力有限公司", "国家电网"),
    "telecom": ("中国电信股份有限公司湖北分公司", "中国电信"),
    "gas": ("武汉华润燃气有限公司", "华润燃气"),
}
STAFF = {
    "deployment": ("gas", "deployment_regulator"),
    "reg-power": ("power", "regulator"),
    "reg-telecom": ("telecom", "regulator"),
    "reg-gas": ("gas", "regulator"),
    "super-power": ("power", "supervisor"),
    "agent-power": ("power", "agent"),
}
PERSONAL = re.compile(r"\b(P1|P2|T1|T2|Q1)\b|138000000|138\*{4}")
"""An account number or a phone (whole or masked) of the store."""


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The store's URL and a session token for each member of staff in `STAFF`."""
    for url in database(request.param, tmp_path):
        upgrade(url)
        import_into(url, write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS), tmp_path)
        engine = make_engine(url)
        tokens: dict[str, str] = {}
        try:
            with sessions(engine).begin() as session:
                activate(
                    session=session,
                    path=ROOT / "examples" / "policies" / "2020-epidemic.yaml",
                    by="test",
                    at=NOW,
                    company=None,
                )
            run_daily(engine=engine, through=date(2020, 3, 9), single=False, now=lambda: NOW)
            with sessions(engine).begin() as session:
                for code, (name, group) in NAMES.items():
                    name_company(session=session, code=code, name=name, group=group)
                companies = {c.code: c for c in session.scalars(select(Company))}
                for username, (code, role) in STAFF.items():
                    member = Staff(
                        company_id=companies[code].id,
                        username=username,
                        name=username,
                        role=role,
                        password_hash=password_hash(),
                        active=True,
                    )
                    session.add(member)
                    session.flush()
                    tokens[username] = new_session(session, staff_id=member.id)
        finally:
            engine.dispose()
        forget()
        yield url, tokens


@pytest.fixture
def client(store: tuple[str, dict[str, str]]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=store[0], secret_key="k" * 32))
    app.dependency_overrides[deps.now] = lambda: NOW
    with TestClient(app) as made:
        yield made
    app.state.engine.dispose()


def bearer(store: tuple[str, dict[str, str]], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {store[1][who]}"}


def as_staff(client: TestClient, store: tuple[str, dict[str, str]], who: str) -> TestClient:
    """The console with `who`'s session cookie."""
    client.cookies.set(SESSION_COOKIE, store[1][who])
    return client


def test_the_deployment_regulator_reads_every_company_compared(
    client: TestClient, store: tuple[str, dict[str, str]]
) -> None:
    answer = client.get("/api/v1/figures/companies", headers=bearer(store, "deployment"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = {row["company"]: row for row in body["companies"]}
    assert sorted(rows) == ["gas", "power", "telecom"]
    for code, (name, group) in NAMES.items():
        assert (rows[code]["name"], rows[code]["group"], rows[code]["utility"]) == (
            name,
            group,
            code,
        )
        assert rows[code]["days_run"] == 69 and rows[code]["last_day"] == "2020-03-09"
    assert rows["power"]["exempt_events"] > 0 and rows["power"]["protected_accounts"] == 2
    assert rows["telecom"]["exempt_events"] > 0 and rows["telecom"]["defer_events"] > 0
    assert rows["telecom"]["protected_accounts"] == 2
    assert rows["gas"]["exempt_events"] > 0 and rows["gas"]["protected_accounts"] == 1
    assert rows["power"]["protected_arrears_fen"] >= 12000 + 8000
    for name, total in body["total"].items():
        assert total == sum(row[name] for row in body["companies"]), name
    # each company's figures are those its own regulator reads at /figures
    for code in NAMES:
        own = client.get("/api/v1/figures", headers=bearer(store, f"reg-{code}")).json()
        row = rows[code]
        assert row["exempt_events"] + row["defer_events"] == own["events"]
        assert row["protected_accounts"] == own["protected_accounts"]
        assert row["protected_arrears_fen"] == own["protected_arrears_fen"]
        assert row["waived_fen"] == own["waived_fen"]
        assert row["reconnections"] == own["actions"].get("reconnect", 0)
        assert row["accounts"] == own["accounts"]
    assert not PERSONAL.search(answer.text)


def test_one_company_by_week_and_by_province(
    client: TestClient, store: tuple[str, dict[str, str]]
) -> None:
    answer = client.get("/api/v1/figures/companies/telecom", headers=bearer(store, "deployment"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    figures = body["figures"]
    weeks = body["by_week"]
    assert weeks and all(re.fullmatch(r"2020-W[0-9]{2}", w["week"]) for w in weeks)
    assert all(date.fromisoformat(w["week_start"]).weekday() == 0 for w in weeks)
    assert sum(w["exempt_events"] for w in weeks) == figures["exempt_events"]
    assert sum(w["defer_events"] for w in weeks) == figures["defer_events"]
    assert all(w["protected_accounts"] <= figures["protected_accounts"] for w in weeks)
    places = {p["province"]: p for p in body["by_province"]}
    assert {code: p["name"] for code, p in places.items()} == {"42": "湖北省", "44": "广东省"}
    assert sum(p["events"] for p in places.values()) == (
        figures["exempt_events"] + figures["defer_events"]
    )
    assert sum(p["protected_accounts"] for p in places.values()) == figures["protected_accounts"]
    assert not PERSONAL.search(answer.text)
    missing = client.get("/api/v1/figures/companies/water", headers=bearer(store, "deployment"))
    assert missing.status_code == 404


def test_a_company_regulator_still_reads_only_its_company(
    client: TestClient, store: tuple[str, dict[str, str]]
) -> None:
    mine = client.get("/api/v1/figures/companies", headers=bearer(store, "reg-power")).json()
    assert [row["company"] for row in mine["companies"]] == ["power"]
    assert client.get(
        "/api/v1/figures/companies/power", headers=bearer(store, "reg-power")
    ).is_success
    for other in ("telecom", "gas"):
        refused = client.get(
            f"/api/v1/figures/companies/{other}", headers=bearer(store, "reg-power")
        )
        assert refused.status_code == 404
    supervisor = client.get("/api/v1/figures/companies", headers=bearer(store, "super-power"))
    assert [row["company"] for row in supervisor.json()["companies"]] == ["power"]
    agent = client.get("/api/v1/figures/companies", headers=bearer(store, "agent-power"))
    assert agent.status_code == 403
    assert client.get("/api/v1/figures/companies").status_code == 401

    console = as_staff(client, store, "reg-power")
    page = console.get("/console/companies")
    assert page.status_code == 200
    assert re.findall(r'data-test="company-row" data-company="([a-z]+)"', page.text) == ["power"]
    assert 'id="nav-companies"' in page.text
    assert console.get("/console/companies/power").status_code == 200
    assert console.get("/console/companies/gas").status_code == 404
    home = console.get("/console")  # a company regulator's dashboard is its own company's
    assert home.status_code == 200 and 'id="company-table"' not in home.text


API_REFUSED = (
    ("get", "/api/v1/figures"),
    ("get", "/api/v1/policies"),
    ("get", "/api/v1/staff/accounts"),
    ("get", "/api/v1/staff/accounts/Q1"),
    ("get", "/api/v1/staff/accounts/Q1/holds"),
    ("get", "/api/v1/staff/worklist"),
    ("get", "/api/v1/staff/applications"),
    ("get", "/api/v1/staff/tickets"),
    ("get", "/api/v1/staff/field-orders"),
    ("get", "/api/v1/staff/adjustments"),
    ("post", "/api/v1/accounts/Q1/payments"),
    ("post", "/api/v1/staff/accounts/Q1/holds"),
)
CONSOLE_REFUSED = (
    "/console/accounts",
    "/console/accounts?q=Q1",
    "/console/accounts/Q1",
    "/console/worklist",
    "/console/adjustments",
    "/console/applications",
    "/console/tickets",
    "/console/field",
    "/console/orders",
    "/console/policies",
    "/console/audit",
)


def test_the_deployment_regulator_opens_no_account_queue_or_action(
    client: TestClient, store: tuple[str, dict[str, str]]
) -> None:
    headers = bearer(store, "deployment")
    for method, path in API_REFUSED:
        if method == "post":
            answer = client.post(
                path,
                headers={**headers, "Idempotency-Key": "regulator-key-1"},
                json={"amount_fen": 100},
            )
        else:
            answer = client.get(path, headers=headers)
        assert answer.status_code in (403, 404), (path, answer.status_code, answer.text)
        assert not PERSONAL.search(answer.text), path
    console = as_staff(client, store, "deployment")
    for path in CONSOLE_REFUSED:
        answer = console.get(path)
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert not PERSONAL.search(answer.text), path


def test_the_deployment_regulators_dashboard_compares_the_companies(
    client: TestClient, store: tuple[str, dict[str, str]]
) -> None:
    console = as_staff(client, store, "deployment")
    page = console.get("/console")
    assert page.status_code == 200
    text = page.text
    rows = re.findall(r'data-test="company-row" data-company="([a-z]+)"', text)
    assert rows == ["power", "telecom", "gas"]  # power, telecom, gas, as everywhere
    for name, group in NAMES.values():
        assert name in text and group in text
    for utility in ("电网", "电信", "燃气"):
        assert f'<td data-test="utility">{utility}</td>' in text
    assert 'data-test="company-total"' in text
    charts = re.findall(r'<figure class="chart" data-chart="([a-z_]+)"><svg', text)
    assert charts == ["by_company", "weekly_by_company", "provinces_by_company"]
    assert not PERSONAL.search(text)
    nav = re.findall(r'id="nav-([a-z]+)"', text)
    assert nav == ["dashboard"]  # no accounts, queues, orders or policies
    shown = re.sub(r"<[^>]+>", " ", text)  # what a reader sees: no company code
    assert not re.search(r"\b(power|telecom|gas)\b", shown)
    assert console.get("/console/companies").text.count('data-test="company-row"') == 3

    one = console.get("/console/companies/gas")
    assert one.status_code == 200
    assert "武汉华润燃气有限公司" in one.text and 'data-province="42"' in one.text
    assert re.findall(r'data-chart="([a-z_]+)"><svg', one.text) == [
        "protected_by_day",
        "people_times_by_week",
        "by_province",
    ]
    assert 'data-test="week-row"' in one.text
    assert not PERSONAL.search(one.text)
    english = console.get("/console?lang=en")
    assert "Every company&#39;s relief figures" in english.text and ">Gas<" in english.text


def test_reads_are_audited_in_the_regulators_own_company(
    client: TestClient, store: tuple[str, dict[str, str]]
) -> None:
    client.get("/api/v1/figures/companies", headers=bearer(store, "deployment"))
    as_staff(client, store, "deployment").get("/console/companies/power")
    engine = make_engine(store[0])
    try:
        with sessions(engine).begin() as session:
            member = session.scalar(select(Staff).where(Staff.username == "deployment"))
            assert member is not None
            gas = session.scalar(select(Company).where(Company.code == "gas"))
            assert gas is not None
            entries = session.execute(
                select(AuditEntry.action, AuditEntry.target, AuditEntry.company_id).where(
                    AuditEntry.staff_id == member.id
                )
            ).all()
            assert ("api.figures.companies", "*", gas.id) in entries
            assert ("companies.read", "power", gas.id) in entries
            assert [c.code for c in readable_companies(session=session, staff=member)] == [
                "gas",
                "power",
                "telecom",
            ]
    finally:
        engine.dispose()


def test_staff_add_makes_a_deployment_regulator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    import_into(url, write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS), tmp_path)
    secret = tmp_path / "password"
    secret.write_text("a long enough password\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli_app,
        [
            "staff",
            "add",
            "nea-regulator",
            "--company",
            "power",
            "--role",
            "deployment_regulator",
            "--name",
            "监管机构",
            "--password-file",
            str(secret),
        ],
        env={"SANBUTING_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert "nea-regulator added: deployment_regulator of power" in result.output
    assert "every company" in result.output
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            member = session.scalar(select(Staff).where(Staff.username == "nea-regulator"))
            assert member is not None and member.role == "deployment_regulator"
    finally:
        engine.dispose()


def test_the_company_charts_name_companies_and_keep_their_colours() -> None:
    kinds = pl.DataFrame(
        {
            "company": ["甲公司", "甲公司", "乙公司"],
            "kind": ["exempt", "defer", "exempt"],
            "count": [5, 2, 9],
        }
    )
    drawn = charts.by_company(kinds, "zh")
    assert "各企业免停、缓停人次" in drawn and "甲公司" in drawn and "免停" in drawn
    weeks = pl.DataFrame(
        {
            "week": ["2020-W05", "2020-W05", "2020-W06"],
            "company": ["甲公司", "乙公司", "甲公司"],
            "count": [1, 2, 3],
        }
    )
    first = charts.weekly_by_company(weeks, "zh", companies=("乙公司", "甲公司"))
    again = charts.weekly_by_company(weeks.reverse(), "zh", companies=("乙公司", "甲公司"))
    assert first == again  # same frame, same bytes, whatever the row order
    colours = charts.COMPANY_COLOURS
    assert first.index(colours[0]) > 0 and colours[1] in first  # 乙 first, 甲 second
    places = pl.DataFrame(
        {"province": ["湖北省", "广东省"], "company": ["甲公司", "乙公司"], "count": [3, 1]}
    )
    assert "各省受保护户数（按企业）" in charts.provinces_by_company(places, "zh", top=1)
    assert "nothing to show yet" in charts.by_company(kinds.clear(), "en")
    with pytest.raises(ChartError, match="company"):
        charts.weekly_by_company(weeks.drop("company"), "zh")
