"""Reading and working over the API, on SQLite and PostgreSQL: an account's position, its bills
with the late fee told day range by day range (P1's January bill accrues nothing in February
under gd-power-waive-jan-2020), its ledger, "am I protected?", pages with totals; the business
catalogue, applications and tickets with their lifecycle; staff roles (masking, who may move
an application, who may read the figures); the regulator's figures from the daily run; errors
as problem details."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanbuting.web import deps
from store_databases import BACKENDS
from test_api_world import World, clients, worlds

REPAIR = {
    "business": "power-fault-repair",
    "account_id": "P1",
    "fields": {"fault": "no_power", "address": "越秀区1号", "contact_phone": "13900000001"},
}


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path, daily=True)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


def get(client: TestClient, world: World, who: str, path: str) -> Any:
    answer = client.get(f"/api/v1{path}", headers=world.auth(who))
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def test_an_accounts_position_bills_and_ledger(world: World, client: TestClient) -> None:
    position = get(client, world, "alice", "/accounts/P1")
    assert position | {"holder": "", "phone": ""} == {
        "account_id": "P1",
        "company": "power",
        "utility": "power",
        "region": "440104",
        "customer_class": "residential",
        "billing_mode": "postpaid",
        "as_of": "2020-03-10",
        "state": "disconnected",  # cut off on the day run after the exempt ended
        "cut_off": True,
        "arrears_fen": 18000,
        "balance_fen": 0,
        "due_fen": 18000 + 210 + 152,  # B1's fee 21 days × 10 fen, B2's 19 days × 8 fen
        "holder": "",
        "phone": "",
    }
    assert (position["holder"], position["phone"]) == ("王*明", "138****0001")

    first = get(client, world, "alice", "/accounts/P1/bills?size=1")
    assert (first["total"], first["page"], first["size"]) == (2, 1, 1)
    assert [b["bill_id"] for b in first["items"]] == ["B2"]  # newest first
    [b1] = get(client, world, "alice", "/accounts/P1/bills?size=1&page=2")["items"]
    assert (b1["bill_id"], b1["fee_fen"], b1["fee_days"], b1["waived_days"]) == ("B1", 210, 21, 29)
    assert (b1["waived_fen"], b1["finalized"], b1["overdue"], b1["due_fen"]) == (
        290,
        False,
        True,
        10210,
    )
    assert any("免收" in line and "2020-02-01" in line for line in b1["explain_zh"])
    assert any("waived" in line for line in b1["explain_en"])
    assert get(client, world, "alice", "/accounts/P1/bills?page=9")["items"] == []

    ledger = get(client, world, "alice", "/accounts/P1/ledger?size=50")
    assert {p["key"] for p in ledger["items"]} >= {"charge:B1", "charge:B2"}
    assert all(sum(line["amount_fen"] for line in p["lines"]) == 0 for p in ledger["items"])
    days = [p["effective_on"] for p in ledger["items"]]
    assert days == sorted(days, reverse=True)


def test_am_i_protected(world: World, client: TestClient) -> None:
    assert get(client, world, "alice", "/accounts/P1/relief")["protections"] == []  # 10 March
    client.app.dependency_overrides[deps.now] = lambda: datetime(2020, 2, 15, 4, tzinfo=UTC)  # type: ignore[attr-defined]
    relief = get(client, world, "alice", "/accounts/P1/relief")
    found = {(p["policy_id"], p["kind"], p["active"], p["end"]) for p in relief["protections"]}
    assert found == {
        ("gd-power-exempt-residential-2020", "exempt", True, "2020-02-29"),
        ("gd-power-waive-jan-2020", "waive_late_fee", True, "2020-02-29"),
    }
    exempt = next(p for p in relief["protections"] if p["kind"] == "exempt")
    assert "欠费不停电" in exempt["zh"] and "No power cut" in exempt["en"]
    gas = get(client, world, "alice", "/accounts/G1/relief")
    assert gas["protections"] == []  # the 2020 set has no Guangzhou gas policy


def test_business_applications_and_tickets(world: World, client: TestClient) -> None:
    catalogue = client.get("/api/v1/business-types").json()["items"]
    assert len({b["code"] for b in catalogue if b["category"] == "business"}) >= 22
    assert {"power-fault-repair", "complaint"} <= {b["code"] for b in catalogue}

    ticket = client.post("/api/v1/tickets", json=REPAIR, headers=world.auth("alice"))
    assert ticket.status_code == 201, ticket.text
    # a ticket, in Guangzhou whose relief ended on 2020-03-01: neither a hospital nor a region
    # a relief policy names on 2020-03-10 (applications.priority)
    assert (ticket.json()["category"], ticket.json()["priority"]) == ("ticket", 3)
    not_a_ticket = {**REPAIR, "business": "power-meter-test"}
    refused = client.post("/api/v1/tickets", json=not_a_ticket, headers=world.auth("alice"))
    assert refused.status_code == 422
    bad = client.post(
        "/api/v1/applications",
        json={**REPAIR, "fields": {"fault": "boom", "surprise": "x"}},
        headers=world.auth("alice"),
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["errors"]} == {
        ("body", "fields", "fault"),
        ("body", "fields", "surprise"),
        ("body", "fields", "address"),
        ("body", "fields", "contact_phone"),
    }
    nowhere = client.post(
        "/api/v1/applications",
        json={"business": "power-new-connection", "fields": {}},
        headers=world.auth("alice"),
    )
    assert nowhere.status_code == 422

    number = ticket.json()["number"]
    assert number.startswith("SQ20200310")
    mine = get(client, world, "alice", "/tickets")
    assert [t["number"] for t in mine["items"]] == [number]
    assert get(client, world, "alice", "/applications")["total"] == 1


def test_staff_work_an_application(world: World, client: TestClient) -> None:
    number = client.post("/api/v1/tickets", json=REPAIR, headers=world.auth("alice")).json()[
        "number"
    ]
    path = f"/api/v1/staff/applications/{number}/transitions"

    def move(who: str, status: str) -> Any:
        return client.post(path, json={"status": status, "note": "ok"}, headers=world.auth(who))

    assert move("reg_p", "accepted").status_code == 403
    assert move("admin_p", "accepted").status_code == 403
    assert move("agent_p", "completed").status_code == 409
    assert move("agent_p", "accepted").status_code == 200
    assert move("super_p", "in_progress").status_code == 200
    done = move("agent_p", "completed")
    assert done.status_code == 200
    assert [e["status"] for e in done.json()["history"]] == [
        "submitted",
        "accepted",
        "in_progress",
        "completed",
    ]
    assert done.json()["next_statuses"] == []
    assert move("agent_p", "cancelled").status_code == 409
    seen = get(client, world, "alice", f"/applications/{number}")
    assert seen["status"] == "completed" and seen["history"][1]["by"] == "agent_p"

    assert get(client, world, "agent_p", "/staff/applications?status=open")["total"] == 0
    assert get(client, world, "agent_p", "/staff/applications?status=completed")["total"] == 1
    bad = client.get("/api/v1/staff/applications?status=nonsense", headers=world.auth("agent_p"))
    assert bad.status_code == 422


def test_personal_data_is_masked_unless_the_role_may_see_it(
    world: World, client: TestClient
) -> None:
    for who, holder, phone in (
        ("agent_p", "王*明", "138****0001"),
        ("reg_p", "王*明", "138****0001"),
        ("super_p", "王小明", "13800000001"),
    ):
        found = get(client, world, who, "/staff/accounts?q=13800000001")
        assert [(a["account_id"], a["holder"], a["phone"]) for a in found["items"]] == [
            ("P1", holder, phone)
        ]
        position = get(client, world, who, "/staff/accounts/P1")
        assert (position["holder"], position["phone"]) == (holder, phone)
    everyone = get(client, world, "agent_p", "/staff/accounts?size=2")
    assert (everyone["total"], len(everyone["items"])) == (3, 2)


def test_policies_and_figures(world: World, client: TestClient) -> None:
    policies = get(client, world, "agent_p", "/policies")
    assert (policies["deployment_version"], policies["active_version"]) == (1, None)
    assert [(v["version"], v["scope"]) for v in policies["versions"]] == [(1, "deployment")]
    waiver = next(p for p in policies["active"] if p["id"] == "gd-power-waive-jan-2020")
    assert (waiver["effect"], waiver["start"], waiver["end"]) == (
        "waive_late_fee",
        "2020-02-01",
        "2020-03-01",
    )
    assert waiver["terms"] == {"issued_in": "2020-01"}

    assert client.get("/api/v1/figures", headers=world.auth("agent_p")).status_code == 403
    figures = get(client, world, "reg_p", "/figures")
    assert figures == get(client, world, "super_p", "/figures")
    assert (figures["company"], figures["first_day"], figures["last_day"]) == (
        "power",
        "2020-01-01",
        "2020-03-09",
    )
    # P1's and P2's notices fall on 2020-02-20, inside the residential exempt: one event (人次)
    # each, two accounts (户); their arrears that day are B1 (100.00; B2 is due that very day)
    # and B3 (50.00). The notices follow on 1 March, the cut-offs on 4 March.
    assert figures["by_policy"] == [
        {
            "policy_id": "gd-power-exempt-residential-2020",
            "kind": "exempt",
            "events": 2,
            "accounts": 2,
        }
    ]
    assert (figures["events"], figures["protected_accounts"]) == (2, 2)
    assert figures["protected_arrears_fen"] == 15000
    assert figures["actions"]["disconnect"] == 2
    gas = get(client, world, "agent_g", "/staff/accounts")
    assert gas["total"] == 1


def test_errors_are_problem_details(world: World, client: TestClient) -> None:
    for path, status in (
        ("/api/v1/accounts/NOSUCH", 404),
        ("/api/v1/accounts/bad%20id", 422),
        ("/api/v1/accounts/P1/bills?size=1000", 422),
        ("/api/v1/applications/not-a-number", 422),
    ):
        answer = client.get(path, headers=world.auth("alice"))
        assert answer.status_code == status, path
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert (body["status"], body["type"]) == (status, "about:blank")
        assert body["detail"]
