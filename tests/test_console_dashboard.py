"""The console dashboard's charts, one set per role, inline SVG drawn on the server
(`web.console.dashboard`), on SQLite and PostgreSQL.

The store: Guangzhou's power account G1 owes a bill due 2019-12-20, Wuhan's H1 another; the
deployment's set exempts Guangzhou (4401) power from 01-15 up to 02-01, so G1's notice of 01-20
(more than 30 days overdue) is prevented: one protection event, on 01-20, in 广东省. The daily
run records 01-01 through 01-24. A policy administrator's what-if of a Hubei exempt set then
shows H1's cut-off of 01-23 gone."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.reports import store_frames
from sanbuting.settings import Settings
from sanbuting.staff import service as staff_service
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company
from sanbuting.store.web_models import Staff
from sanbuting.web.app import create_app
from sanbuting.web.console.dashboard import forget
from sanbuting.web.security import CSP
from store_databases import BACKENDS, database, write_folder

PASSWORD = "correct horse battery"
NOW = datetime(2020, 1, 25, 2, 0, tzinfo=UTC)
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
ACTIVE = """
    policies:
      - id: gz-exempt
        effect: exempt
        scope: {utility: [power], region: ["4401"]}
        window: {start: 2020-01-15, end: 2020-02-01}
"""
UPLOADED = """
    policies:
      - id: hb-exempt
        effect: exempt
        scope: {utility: [power], region: ["42"]}
        window: {start: 2020-01-20, end: 2020-02-01}
"""
ROLES = ("agent", "supervisor", "policy_admin", "regulator", "cashier")


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
        active = tmp_path / "active.yaml"
        active.write_text(textwrap.dedent(ACTIVE).lstrip(), encoding="utf-8")
        engine = make_engine(value)
        with sessions(engine).begin() as session:
            activate(session=session, path=active, by="test", at=NOW, company=None)
        run_daily(engine=engine, through=date(2020, 1, 24), single=False, now=lambda: NOW)
        with sessions(engine).begin() as session:
            power = session.scalar(select(Company).where(Company.code == "power"))
            assert power is not None
            first = staff_service.add_staff(
                session=session,
                company=power,
                username="power-agent",
                name="agent",
                role="agent",
                password=PASSWORD,
            )
            for role in ROLES[1:]:  # argon2 is slow on purpose: hash once, share it
                session.add(
                    Staff(
                        company_id=power.id,
                        username=f"power-{role}",
                        name=role,
                        role=role,
                        password_hash=first.password_hash,
                        active=True,
                    )
                )
        engine.dispose()
        forget()
        yield value


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=url, secret_key="k" * 32))
    with TestClient(app) as made:
        made.get("/console/signin")
        yield made
        made.app.state.engine.dispose()  # type: ignore[attr-defined]


def form_token(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, role: str) -> None:
    answer = client.post(
        "/console/signin",
        data={
            "username": f"power-{role}",
            "password": PASSWORD,
            "csrf_token": form_token(client, "/console/signin"),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303


def charts_of(page: str) -> dict[str, str]:
    """The dashboard's charts by name: the SVG of each."""
    return dict(
        re.findall(r'<figure class="chart" data-chart="([a-z_]+)">(<svg.*?</svg>)</figure>', page)
    )


def assert_inline(svg: str) -> None:
    assert "<script" not in svg and "style=" not in svg
    assert re.findall(r"https?://[^\s\"'<>]*", svg) == ["http://www.w3.org/2000/svg"]


@pytest.mark.parametrize(
    ("role", "names", "words"),
    [
        ("supervisor", ["protected_by_day", "people_times_by_week"], ["1月20日", "免停", "电网"]),
        ("regulator", ["by_province", "people_times_by_week"], ["广东省", "2020-W04"]),
        ("agent", ["worklist"], ["我的工单", "全部未办结"]),
        ("policy_admin", ["protected_by_day"], ["每日受保护户数（当日有保护事件的户）"]),
        ("cashier", [], []),
    ],
)
def test_each_role_sees_its_charts_inline(
    client: TestClient, role: str, names: list[str], words: list[str]
) -> None:
    sign_in(client, role)
    page = client.get("/console")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    drawn = charts_of(page.text)
    assert list(drawn) == names
    assert page.text.count("<svg") == len(names)
    for svg in drawn.values():
        assert_inline(svg)
    for word in words:
        assert any(word in svg for svg in drawn.values()), word
    assert client.get("/console").text == page.text  # kept: drawn once


def test_the_supervisor_counts_the_protected_account_of_its_day(client: TestClient) -> None:
    sign_in(client, "supervisor")
    svg = charts_of(client.get("/console").text)["protected_by_day"]
    assert re.findall(r'aria-label="(日期: 1月20日; [^"]*)"', svg) == [
        "日期: 1月20日; 受保护户数: 1; 行业: 电网"
    ]
    english = charts_of(client.get("/console?lang=en").text)
    assert "Protected accounts per day" in english["protected_by_day"]


def test_the_policy_administrator_sees_the_latest_what_if(client: TestClient) -> None:
    sign_in(client, "policy_admin")
    answer = client.post(
        "/console/policies/what-if",
        data={"csrf_token": form_token(client, "/console/policies")},
        files={"file": ("hubei.yaml", textwrap.dedent(UPLOADED).encode("utf-8"), "text/yaml")},
    )
    assert answer.status_code == 200, answer.text
    drawn = charts_of(client.get("/console").text)
    assert list(drawn) == ["whatif_cutoffs", "whatif_events"]
    assert "现行政策" in drawn["whatif_cutoffs"] and "上传的政策" in drawn["whatif_cutoffs"]
    assert_inline(drawn["whatif_cutoffs"])
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with sessions(engine).begin() as session:
        power = session.scalar(select(Company).where(Company.code == "power"))
        assert power is not None
        found = store_frames.latest_whatif(session, power)
    assert found is not None
    frame = found[1]
    assert frame["day"].min() == date(2020, 1, 20) and frame["day"].max() == date(2020, 1, 31)
    nonzero = frame.filter(pl.col("count") > 0).sort("day", "measure", "scenario").rows()
    assert nonzero == [
        (date(2020, 1, 20), "after", 2, "events"),  # G1 (gz-exempt) and H1 (hb-exempt)
        (date(2020, 1, 20), "before", 1, "events"),  # G1 alone
        (date(2020, 1, 23), "before", 1, "cutoffs"),  # H1's disconnect, gone with hb-exempt
    ]
