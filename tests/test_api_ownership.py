"""Ownership over HTTP, on SQLite and PostgreSQL: for every API route that takes an account
number or an application number, another customer's is refused with 404 (exactly as a number
that does not exist) while the owner gets an answer; staff of one company cannot read or work
another company's accounts and applications; a bank channel or a cashier posts only to its own
company's accounts.

The routes are enumerated from the application itself, so a new route with an `{account_id}`,
`{number}` or `{work_order}` (a field work order) in its path and no case here fails
`test_every_route_with_an_id_has_a_case`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers_field import seed_field_orders
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.web_models import Application, AuditEntry, Staff
from test_api_world import BACKENDS, World, clients, make_app, worlds


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


CONNECTION = {
    "business": "power-fault-repair",
    "account_id": "P1",
    "fields": {"fault": "no_power", "address": "越秀区1号", "contact_phone": "13900000001"},
    "documents": [],
}


def call(client: TestClient, world: World, who: str, method: str, path: str, url: str) -> Any:
    """Call a route as `who` with the body and headers it needs."""
    headers = world.auth(who)
    body: dict[str, Any] | None = None
    if path.endswith("/payments"):
        body = {"amount_fen": 100}
        headers["Idempotency-Key"] = f"own-{who}-{url.split('/')[-2]}"
    if path.endswith("/checkout"):
        body = {"amount_fen": 100}
    if path.endswith("/transitions"):
        body = {"status": "accepted", "note": "checked"}
    if path.endswith("/assignee"):
        body = {"username": who}
    if path.endswith("/crew"):
        body = {"team": "east"}
    if path.endswith("/report"):
        body = {"outcome": "done"}
    if path.endswith("/holds") and method == "POST":  # the world is recorded through 03-09
        body = {"kind": "promise", "until": "2020-03-31", "reason": "hardship", "amount_fen": 100}
    if path.endswith("/adjustments"):
        body = {"kind": "waive_fee", "reason": "hardship", "note": "test"}
    return client.request(method, url, headers=headers, json=body)


CUSTOMER_ROUTES = {
    ("GET", "/api/v1/accounts/{account_id}"),
    ("GET", "/api/v1/accounts/{account_id}/bills"),
    ("GET", "/api/v1/accounts/{account_id}/ledger"),
    ("GET", "/api/v1/accounts/{account_id}/relief"),
    ("POST", "/api/v1/accounts/{account_id}/checkout"),
    ("GET", "/api/v1/accounts/{account_id}/checkout/{order}"),
    ("GET", "/api/v1/applications/{number}"),
}
CHANNEL_ROUTES = {("POST", "/api/v1/accounts/{account_id}/payments")}
STAFF_ROUTES = {
    ("GET", "/api/v1/staff/accounts/{account_id}"),
    ("GET", "/api/v1/staff/applications/{number}"),
    ("POST", "/api/v1/staff/applications/{number}/transitions"),
    ("PUT", "/api/v1/staff/applications/{number}/assignee"),
    ("POST", "/api/v1/staff/applications/{number}/reveal-phone"),
    ("GET", "/api/v1/staff/tickets/{number}"),
    ("PUT", "/api/v1/staff/tickets/{number}/assignee"),
    ("POST", "/api/v1/staff/tickets/{number}/arrived"),
    ("POST", "/api/v1/staff/tickets/{number}/done"),
    ("GET", "/api/v1/staff/accounts/{account_id}/holds"),
    ("POST", "/api/v1/staff/accounts/{account_id}/holds"),
    ("POST", "/api/v1/staff/accounts/{account_id}/adjustments"),
}
ROLE_GATED = {
    ("PUT", "/api/v1/staff/applications/{number}/assignee"): 403,  # a supervisor assigns
    ("POST", "/api/v1/staff/applications/{number}/reveal-phone"): 403,  # only the assignee
    ("PUT", "/api/v1/staff/tickets/{number}/assignee"): 403,  # a supervisor or a team lead
}
"""Routes an agent is refused on its own company's application (another company's is 404)."""
NOTHING_TO_DO = {("POST", "/api/v1/staff/accounts/{account_id}/adjustments"): 400}
"""Routes that reach the agent's own account and find nothing to do (P1 owes no late fee)."""
CREATED = {("POST", "/api/v1/staff/accounts/{account_id}/holds")}
"""Routes answering 201 (an agent records a promise to pay on its own company's account)."""


def api_routes() -> Iterator[tuple[str, str]]:
    """(method, path) of every API route of the application, walking `app.routes` (FastAPI
    0.13x nests included routers; `iter_route_contexts` flattens them)."""
    routes: Iterable[object] = make_app("sqlite://").routes
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI keeps its routes flat
        pass
    else:
        routes = iter_route_contexts(list(routes))  # type: ignore[arg-type]
    for route in routes:
        path = getattr(route, "path", None) or ""
        if path.startswith("/api/"):
            for method in getattr(route, "methods", None) or ():
                yield method, path


FIELD_ROUTES = {
    ("GET", "/api/v1/staff/field-orders/{work_order}"),
    ("PUT", "/api/v1/staff/field-orders/{work_order}/crew"),
    ("POST", "/api/v1/staff/field-orders/{work_order}/report"),
}
"""Field work orders by id (`test_field_orders_stay_in_their_company`)."""
IDS = ("{account_id}", "{number}", "{work_order}")


def routes_with_ids() -> set[tuple[str, str]]:
    return {(m, p) for m, p in api_routes() if any(key in p for key in IDS)}


def test_every_route_with_an_id_has_a_case() -> None:
    assert routes_with_ids() == CUSTOMER_ROUTES | CHANNEL_ROUTES | STAFF_ROUTES | FIELD_ROUTES


def submit(client: TestClient, world: World, who: str, body: dict[str, Any]) -> str:
    answer = client.post("/api/v1/applications", json=body, headers=world.auth(who))
    assert answer.status_code == 201, answer.text
    number: str = answer.json()["number"]
    return number


@pytest.fixture
def demo_client(world: World) -> Iterator[TestClient]:
    """A client of the application with the sandbox payment provider (demo mode)."""
    yield from clients(world, demo=True)


def test_a_customer_reads_only_what_is_theirs(world: World, demo_client: TestClient) -> None:
    client = demo_client
    number = submit(client, world, "alice", CONNECTION)
    started = client.post(
        "/api/v1/accounts/P1/checkout", json={"amount_fen": 100}, headers=world.auth("alice")
    )
    assert started.status_code == 201, started.text
    ids = {"account_id": "P1", "number": number, "order": started.json()["order"]}
    for method, path in sorted(CUSTOMER_ROUTES):
        url = path.format(**ids)
        for stranger in ("bob", "carol"):
            refused = call(client, world, stranger, method, path, url)
            assert refused.status_code == 404, (stranger, method, url, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        nowhere = path.format(account_id="NOSUCH", number="SQ20990101000001", order="SP" + "0" * 24)
        unknown = call(client, world, "alice", method, path, nowhere)
        assert unknown.status_code == 404
        # the stranger's 404 says no more than the 404 of a number that does not exist
        assert refused.json()["title"] == unknown.json()["title"]
        mine = call(client, world, "alice", method, path, url)
        assert mine.status_code in (200, 201), (method, url, mine.text)


def test_a_customer_cannot_file_an_application_on_another_account(
    world: World, client: TestClient
) -> None:
    for path in ("/api/v1/applications", "/api/v1/tickets"):
        refused = client.post(path, json=CONNECTION, headers=world.auth("bob"))
        assert refused.status_code == 404, refused.text
    assert client.get("/api/v1/applications", headers=world.auth("bob")).json()["total"] == 0


def test_lists_hold_only_the_callers_own(world: World, client: TestClient) -> None:
    submit(client, world, "alice", CONNECTION)
    submit(client, world, "bob", {**CONNECTION, "account_id": "P2"})
    for who, account in (("alice", "P1"), ("bob", "P2")):
        listed = client.get("/api/v1/applications", headers=world.auth(who)).json()
        assert [a["account_id"] for a in listed["items"]] == [account]
        tickets = client.get("/api/v1/tickets", headers=world.auth(who)).json()
        assert [a["account_id"] for a in tickets["items"]] == [account]
    mine = client.get("/api/v1/me/accounts", headers=world.auth("bob")).json()["items"]
    assert [a["account_id"] for a in mine] == ["P2"]


def test_staff_of_one_company_cannot_read_another(world: World, client: TestClient) -> None:
    power = submit(client, world, "alice", CONNECTION)
    gas = submit(
        client,
        world,
        "alice",
        {
            "business": "gas-fault-repair",
            "account_id": "G1",
            "fields": {"fault": "leak", "address": "越秀区1号", "contact_phone": "13900000001"},
            "documents": [],
        },
    )
    own = {"agent_p": ("P1", power), "agent_g": ("G1", gas)}
    for method, path in sorted(STAFF_ROUTES):
        for who, (account, number) in own.items():
            other = "agent_g" if who == "agent_p" else "agent_p"
            theirs = own[other]
            url = path.format(account_id=theirs[0], number=theirs[1])
            refused = call(client, world, who, method, path, url)
            assert refused.status_code == 404, (who, method, url, refused.text)
            url = path.format(account_id=account, number=number)
            allowed = call(client, world, who, method, path, url)
            expected = {**ROLE_GATED, **NOTHING_TO_DO}.get(
                (method, path), 201 if (method, path) in CREATED else 200
            )
            assert allowed.status_code == expected, (who, method, url, allowed.text)
    searched = client.get("/api/v1/staff/accounts", headers=world.auth("agent_g")).json()
    assert [a["account_id"] for a in searched["items"]] == ["G1"]
    assert (
        client.get("/api/v1/staff/accounts?q=P1", headers=world.auth("agent_g")).json()["total"]
        == 0
    )
    queue = client.get("/api/v1/staff/applications", headers=world.auth("agent_g")).json()
    assert [a["number"] for a in queue["items"]] == [gas]
    figures = client.get("/api/v1/figures", headers=world.auth("reg_p")).json()
    assert figures["company"] == "power"
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        numbers = set(session.scalars(select(Application.number)))
        refusals = session.execute(
            select(Staff.username, AuditEntry.action, AuditEntry.target)
            .join(Staff, Staff.id == AuditEntry.staff_id)
            .where(AuditEntry.action.endswith(".refused"))
        ).all()
    engine.dispose()
    assert numbers == {power, gas}
    # every refused attempt on the other company's data is in the audit log
    assert sorted((who, action) for who, action, _ in refusals) == sorted(
        (who, action)
        for who in ("agent_g", "agent_p")
        for action in (
            "api.accounts.read.refused",
            "api.applications.read.refused",
            "api.applications.accepted.refused",
            "reveal_phone.refused",
            "reveal_phone.refused",
            "api.applications.assign.refused",
            "api.applications.assign.refused",
            "api.tickets.read.refused",
            "api.tickets.arrived.refused",
            "api.tickets.done.refused",
            "api.tickets.assign.refused",
            "api.tickets.assign.refused",
            "api.holds.list.refused",
            "api.holds.add.refused",
            "api.adjustments.ask.refused",
        )
    )
    assert {target for who, _, target in refusals if who == "agent_g"} == {"P1", power, gas}


def test_a_channel_or_cashier_pays_only_its_own_company(world: World, client: TestClient) -> None:
    ((method, path),) = CHANNEL_ROUTES
    for who, own, other in (("bank_p", "P1", "G1"), ("bank_g", "G1", "P1"), ("cash_p", "P2", "G1")):
        refused = call(client, world, who, method, path, path.format(account_id=other))
        assert refused.status_code == 404, (who, refused.text)
        allowed = call(client, world, who, method, path, path.format(account_id=own))
        assert allowed.status_code == 201, (who, allowed.text)


def test_customers_and_staff_tokens_do_not_cross(world: World, client: TestClient) -> None:
    assert client.get("/api/v1/staff/accounts", headers=world.auth("alice")).status_code == 401
    assert client.get("/api/v1/accounts/P1", headers=world.auth("super_p")).status_code == 401
    assert client.get("/api/v1/accounts/P1").status_code == 401
    bogus = {"Authorization": "Bearer " + "x" * 43}
    assert client.get("/api/v1/accounts/P1", headers=bogus).status_code == 401


def test_field_orders_stay_in_their_company(world: World, client: TestClient) -> None:
    ids = seed_field_orders(world.url)
    power, gas = ids[("P1", "disconnect")], ids[("G1", "disconnect")]
    for method, path in sorted(FIELD_ROUTES):  # GET, then POST (report), then PUT (crew)
        refused = call(client, world, "super_p", method, path, path.format(work_order=gas))
        assert refused.status_code == 404, (method, path, refused.text)
        stranger = call(client, world, "agent_g", method, path, path.format(work_order=power))
        assert stranger.status_code == 404, (method, path, stranger.text)
        nowhere = call(client, world, "super_p", method, path, path.format(work_order=999_999))
        assert nowhere.json()["title"] == refused.json()["title"]
    crew = call(
        client, world, "super_p", "PUT", "/crew", f"/api/v1/staff/field-orders/{power}/crew"
    )
    assert crew.status_code == 200, crew.text
    for method, path in sorted(FIELD_ROUTES):
        allowed = call(client, world, "agent_p", method, path, path.format(work_order=power))
        expected = 403 if path.endswith("/crew") else 200  # the crew reports, never dispatches
        assert allowed.status_code == expected, (method, path, allowed.text)
