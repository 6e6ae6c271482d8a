"""Signing in to the API, on SQLite and PostgreSQL: a customer asks for a code (it leaves as an
SMS in the SMS queue), trades it for a bearer token once, binds an account by region, number and
the holder's name, and signs out; a wrong code is counted even though it is refused; codes are
rate-limited; staff sign in with a password (a refusal is audited) and their calls are
audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Select, select

from sanbuting.domain import read_utc
from sanbuting.guard.hashing import token_hash
from sanbuting.sms.queue import SmsMessage
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.web_models import AuditEntry, LoginCode, Staff, WebSession
from store_databases import BACKENDS
from test_api_world import PASSWORD, World, clients, worlds

PHONE = "13911112222"


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


def stored(world: World, query: Select[Any]) -> list[Any]:
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        rows = list(session.scalars(query))
        session.expunge_all()
    engine.dispose()
    return rows


def code_sent(world: World, phone: str) -> str:
    """The code in the last sign-in SMS queued for `phone`."""
    rows = stored(world, select(SmsMessage).where(SmsMessage.category == "sign_in"))
    text = [row.text for row in sorted(rows, key=lambda r: r.id) if row.phone == phone][-1]
    found = re.search(r"[0-9]{6}", text)
    assert found is not None, text
    return found.group(0)


def sign_in(client: TestClient, world: World, phone: str = PHONE) -> str:
    sent = client.post("/api/v1/auth/code", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"phone": f"{phone[:3]}****{phone[-4:]}", "expires_in": 600}
    answer = client.post(
        "/api/v1/auth/verify", json={"phone": phone, "code": code_sent(world, phone)}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer"
    token: str = answer.json()["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_customer_signs_in_with_a_code_and_binds_an_account(
    world: World, client: TestClient
) -> None:
    token = sign_in(client, world)
    assert client.get("/api/v1/me/accounts", headers=bearer(token)).json() == {"items": []}
    assert client.get("/api/v1/accounts/P2", headers=bearer(token)).status_code == 404

    wrong = {"region": "440104", "account_id": "P2", "holder_name": "王小明", "last_bill_fen": 5000}
    refused = client.post("/api/v1/me/accounts", json=wrong, headers=bearer(token))
    assert refused.status_code == 404
    assert "P2" not in refused.json()["detail"] and "王" not in refused.json()["detail"]
    name_only = {**wrong, "holder_name": "李四", "last_bill_fen": 4999}  # the name is not enough
    assert (
        client.post("/api/v1/me/accounts", json=name_only, headers=bearer(token)).status_code == 404
    )

    right = {**wrong, "holder_name": " 李 四 "}  # B3, 50.00 yuan: P2's latest bill
    bound = client.post("/api/v1/me/accounts", json=right, headers=bearer(token))
    assert bound.status_code == 201, bound.text
    assert bound.json()["account_id"] == "P2"
    position = client.get("/api/v1/accounts/P2", headers=bearer(token))
    assert position.status_code == 200
    assert (position.json()["holder"], position.json()["phone"]) == ("李*", "138****0002")


def test_a_code_works_once_and_a_wrong_code_is_counted(world: World, client: TestClient) -> None:
    client.post("/api/v1/auth/code", json={"phone": PHONE})
    code = code_sent(world, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/api/v1/auth/verify", json={"phone": PHONE, "code": wrong})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    [row] = stored(world, select(LoginCode).where(LoginCode.phone == PHONE))
    assert row.attempts == 1

    good = client.post("/api/v1/auth/verify", json={"phone": PHONE, "code": code})
    assert good.status_code == 200
    again = client.post("/api/v1/auth/verify", json={"phone": PHONE, "code": code})
    assert again.status_code == 401


def test_codes_are_rate_limited(world: World, client: TestClient) -> None:
    assert client.post("/api/v1/auth/code", json={"phone": PHONE}).status_code == 202
    too_soon = client.post("/api/v1/auth/code", json={"phone": PHONE})
    assert too_soon.status_code == 429
    assert too_soon.json()["title"] == "Too many requests"
    assert client.post("/api/v1/auth/code", json={"phone": "12345"}).status_code == 422


def test_codes_follow_the_wall_clock_and_one_rule_in_both_channels(
    world: World, client: TestClient
) -> None:
    """The API's clock is pinned to 2020-03-10 (as under `serve --today`): a code is still
    made and expires on the wall clock, and the portal's one-a-minute gap holds in the API."""
    assert client.post("/api/v1/auth/code", json={"phone": PHONE}).status_code == 202
    [row] = stored(world, select(LoginCode).where(LoginCode.phone == PHONE))
    assert abs(read_utc(row.created_at) - datetime.now(tz=UTC)) < timedelta(minutes=5)
    code = code_sent(world, PHONE)
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:  # the code's ten minutes pass
        found = session.scalars(select(LoginCode).where(LoginCode.phone == PHONE)).one()
        found.expires_at = datetime.now(tz=UTC) - timedelta(seconds=1)
    engine.dispose()
    expired = client.post("/api/v1/auth/verify", json={"phone": PHONE, "code": code})
    assert expired.status_code == 401
    portal = client.post(
        "/signin/code",
        data={"phone": PHONE, "csrf_token": client.cookies.get("sbt_csrf", "")},
    )
    assert portal.status_code == 429  # the gap since the API's code holds in the portal too


def test_signing_in_again_rotates_and_signing_out_ends_the_session(
    world: World, client: TestClient
) -> None:
    first = sign_in(client, world)
    assert client.get("/api/v1/me/accounts", headers=bearer(first)).status_code == 200
    assert client.post("/api/v1/auth/signout", headers=bearer(first)).status_code == 204
    assert client.get("/api/v1/me/accounts", headers=bearer(first)).status_code == 401
    assert client.post("/api/v1/auth/signout").status_code == 204  # nothing to end: still fine


def test_staff_sign_in_and_every_staff_call_is_audited(world: World, client: TestClient) -> None:
    refused = client.post("/api/v1/auth/staff", json={"username": "agent_p", "password": "nope"})
    assert refused.status_code == 401
    unknown = client.post("/api/v1/auth/staff", json={"username": "nobody", "password": "nope"})
    assert unknown.json()["detail"] == refused.json()["detail"]

    good = client.post("/api/v1/auth/staff", json={"username": "agent_p", "password": PASSWORD})
    assert good.status_code == 200, good.text
    assert (good.json()["role"], good.json()["company"]) == ("agent", "power")
    token = good.json()["token"]
    assert client.get("/api/v1/staff/accounts?q=P", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/staff/accounts/P1", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/policies", headers=bearer(token)).status_code == 200

    [agent] = stored(world, select(Staff).where(Staff.username == "agent_p"))
    entries = stored(
        world,
        select(AuditEntry).where(AuditEntry.staff_id == agent.id).order_by(AuditEntry.id),
    )
    assert [(e.action, e.target) for e in entries] == [
        ("sign_in_refused", "agent_p"),
        ("api.sign_in", "agent_p"),
        ("api.accounts.search", "P"),
        ("api.accounts.read", "P1"),
        ("api.policies", ""),
    ]


def test_a_session_idle_past_the_limit_ends_and_a_recent_one_is_not_rewritten(
    client: TestClient, world: World
) -> None:
    """Idle 31 minutes (the limit is 30): refused. Seen 20 s ago: served, and not written
    again (a session is touched at most once a minute)."""
    token = sign_in(client, world)
    engine = make_engine(world.url)
    now = datetime.now(tz=UTC)
    mine = select(WebSession).where(WebSession.token_hash == token_hash(token))
    for idle, status in ((timedelta(seconds=20), 200), (timedelta(minutes=31), 401)):
        with sessions(engine).begin() as session:
            web = session.scalars(mine).one()
            web.last_seen_at = now - idle
        answer = client.get("/api/v1/me/accounts", headers=bearer(token))
        assert answer.status_code == status, answer.text
        if status == 200:
            with sessions(engine).begin() as session:
                seen = read_utc(session.scalars(mine).one().last_seen_at)
            assert seen == now - idle
    engine.dispose()
