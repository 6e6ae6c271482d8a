"""Field work orders over HTTP, on SQLite and PostgreSQL, in the API tests' world
(`test_api_world`, the business clock at 2020-03-10 12:00 in Shanghai) with the orders of
`helpers_field`: the console's page for the dispatcher's desk and the crew (address, arrears,
deadline, crew, overdue flagged; hand to a crew; report), the staff API (list, assign, report;
paid at the door posts no payment), the customer's promised reconnection on the portal, and
other companies' staff refused with 404."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helpers_field import seed_field_orders
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Payment, Posting
from sanbuting.web.security import SESSION_COOKIE
from test_api_world import BACKENDS, World, clients, worlds


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


@pytest.fixture
def ids(world: World) -> dict[tuple[str, str], int]:
    return seed_field_orders(world.url)


def as_(client: TestClient, world: World, who: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, world.tokens[who])
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def row(page: str, order: int) -> str:
    found = re.search(rf'<tr data-test="field-row" data-order="{order}".*?</tr>', page, re.S)
    assert found, page
    return found.group(0)


def money(world: World) -> tuple[int, int]:
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        counted = (
            session.scalar(select(func.count()).select_from(Payment)) or 0,
            session.scalar(select(func.count()).select_from(Posting)) or 0,
        )
    engine.dispose()
    return counted


SHOWN = [
    # order, state at 12:00, deadline shown, arrears shown
    (("P1", "disconnect"), "overdue", "2020-03-10 00:00", "18000"),
    (("P1", "reconnect"), "running", "2020-03-10 22:00", "18000"),
]


def test_the_console_shows_dispatches_and_takes_reports(
    world: World, client: TestClient, ids: dict[tuple[str, str], int]
) -> None:
    page = as_(client, world, "super_p").get("/console/field")
    assert page.status_code == 200
    assert "外勤工单" in page.text and "Field work orders" not in page.text
    for key, state, deadline, fen in SHOWN:
        shown = row(page.text, ids[key])
        assert f'data-state="{state}"' in shown and deadline in shown
        assert f'data-fen="{fen}"' in shown and "广东省 广州市 越秀区" in shown
    assert f'data-order="{ids[("G1", "disconnect")]}"' not in page.text  # gas's
    overdue = client.get("/console/field?view=overdue").text
    assert re.findall(r'data-order="(\d+)"', overdue) == [str(ids[("P1", "disconnect")])]
    assert "Field work orders" in client.get("/console/field?lang=en").text
    cut = ids[("P1", "disconnect")]
    token = csrf_of(page.text)
    handed = client.post(
        f"/console/field/{cut}/crew",
        data={"team": "east", "csrf_token": token},
        follow_redirects=False,
    )
    assert handed.status_code == 303

    crew = as_(client, world, "agent_p").get("/console/field")
    assert 'data-test="report-form"' in row(crew.text, cut)
    assert f'data-order="{ids[("P1", "reconnect")]}"' not in crew.text  # not the crew's
    token = csrf_of(crew.text)
    no_reason = client.post(
        f"/console/field/{cut}/report", data={"outcome": "not_done", "csrf_token": token}
    )
    assert no_reason.status_code == 400 and "请选择未完成的原因后再提交" in no_reason.text
    done = client.post(
        f"/console/field/{cut}/report",
        data={"outcome": "done", "note": "已停电", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    closed = client.get("/console/field?view=closed").text
    assert 'data-status="done"' in row(closed, cut)

    assert as_(client, world, "reg_p").get("/console/field").status_code == 403
    gas = as_(client, world, "agent_g").get("/console/field")
    assert gas.status_code == 200 and 'id="field-refused"' in gas.text
    other = client.post(
        f"/console/field/{cut}/report", data={"outcome": "done", "csrf_token": csrf_of(gas.text)}
    )
    assert other.status_code == 404


def test_the_api_lists_assigns_and_takes_a_claim_without_posting_it(
    world: World, client: TestClient, ids: dict[tuple[str, str], int]
) -> None:
    cut, reconnect = ids[("P1", "disconnect")], ids[("P1", "reconnect")]
    listed = client.get("/api/v1/staff/field-orders", headers=world.auth("super_p")).json()
    assert [(o["id"], o["kind"], o["state"], o["overdue"]) for o in listed["items"]] == [
        (cut, "cut_off", "overdue", True),
        (reconnect, "reconnect", "running", False),
    ]
    first = listed["items"][0]
    assert (first["account_id"], first["address"], first["arrears_fen"]) == (
        "P1",
        "广东省 广州市 越秀区",
        18000,
    )
    assert first["deadline"].startswith("2020-03-10T00:00:00+08:00")
    overdue = client.get(
        "/api/v1/staff/field-orders?view=overdue", headers=world.auth("super_p")
    ).json()
    assert [o["id"] for o in overdue["items"]] == [cut]
    path = f"/api/v1/staff/field-orders/{cut}"
    not_yet = client.put(f"{path}/crew", json={"team": "east"}, headers=world.auth("agent_p"))
    assert not_yet.status_code == 404  # not the crew's order (yet)
    handed = client.put(f"{path}/crew", json={"team": "east"}, headers=world.auth("super_p"))
    assert (handed.status_code, handed.json()["team"]) == (200, "east")
    refused = client.put(f"{path}/crew", json={"team": "east"}, headers=world.auth("agent_p"))
    assert refused.status_code == 403  # a crew does not dispatch
    before = money(world)
    claim = {"outcome": "paid_at_door", "paid_fen": 18000, "note": "客户称已在营业厅缴费"}
    reported = client.post(f"{path}/report", json=claim, headers=world.auth("agent_p"))
    assert reported.status_code == 200, reported.text
    assert (reported.json()["status"], reported.json()["paid_fen"]) == ("paid_at_door", 18000)
    assert money(world) == before
    again = client.post(f"{path}/report", json=claim, headers=world.auth("agent_p"))
    assert again.status_code == 409
    claims = client.get(
        "/api/v1/staff/field-orders?view=paid_at_door", headers=world.auth("cash_p")
    ).json()
    assert [o["id"] for o in claims["items"]] == [cut]
    for who, order in (("agent_g", cut), ("super_p", ids[("G1", "disconnect")])):
        assert (
            client.get(f"/api/v1/staff/field-orders/{order}", headers=world.auth(who)).status_code
            == 404
        )


def test_the_customer_sees_when_supply_comes_back(
    world: World, client: TestClient, ids: dict[tuple[str, str], int]
) -> None:
    page = as_(client, world, "alice").get("/accounts/P1")
    assert page.status_code == 200
    assert "预计 2020-03-10 22:00 前恢复供电" in page.text
    assert "依据：中国南方电网供电服务承诺" in page.text
    english = client.get("/accounts/P1?lang=en").text
    assert "Power is expected back by 2020-03-10 22:00" in english
    assert 'id="reconnect-promise"' not in client.get("/accounts/G1").text
