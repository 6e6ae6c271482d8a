"""Paying over HTTP (POST /api/v1/accounts/{account_id}/payments), on SQLite and PostgreSQL:
the allocation of a worked example, one payment per `Idempotency-Key` (the same key and body
again answer 200 with the first result, another body 409), keys that belong to their customer,
a missing or malformed key refused, and the account's position after paying.

P1 owes B1 (100.00 yuan, due 2020-01-20; its January-issued late fee is waived in February)
and B2 (80.00 yuan, due 2020-02-20). Paying 120.00 on 2020-03-10 (the API's clock): B1's fee
is 11 days in January + 10 in March at 1‰ of 100.00 = 2.10 yuan; so B1 takes 100.00 + 2.10
and B2 the rest, 17.90, leaving 62.10 of B2 (its own fee still accruing)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Payment
from store_databases import BACKENDS
from test_api_world import World, clients, worlds

PAY = "/api/v1/accounts/{}/payments"


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


def pay(
    client: TestClient, world: World, who: str, account: str, key: str, **body: object
) -> httpx.Response:
    headers = {**world.auth(who), "Idempotency-Key": key}
    return client.post(PAY.format(account), json=body, headers=headers)


def payments_stored(world: World) -> list[tuple[str, int, str | None]]:
    """The payments the API posted (key, fen, channel)."""
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(Payment.key, Payment.amount_fen, Payment.channel)
            .where(Payment.key.startswith("api:"))
            .order_by(Payment.id)
        ).all()
    engine.dispose()
    return [(key, amount, channel) for key, amount, channel in rows]


def test_a_payment_is_allocated_and_posted_once(world: World, client: TestClient) -> None:
    first = pay(client, world, "alice", "P1", "order-0001", amount_fen=12000)
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["parts"] == [
        {"bill_id": "B1", "principal_fen": 10000, "fee_fen": 210},
        {"bill_id": "B2", "principal_fen": 1790, "fee_fen": 0},
    ]
    assert (result["arrears_before_fen"], result["arrears_after_fen"]) == (18000, 6210)
    assert (result["key"], result["paid_on"], result["repeated"]) == (
        "order-0001",
        "2020-03-10",
        False,
    )

    again = pay(client, world, "alice", "P1", "order-0001", amount_fen=12000)
    assert again.status_code == 200
    assert again.json() == {**result, "repeated": True}
    assert payments_stored(world) == [("api:1:order-0001", 12000, "online")]

    position = client.get("/api/v1/accounts/P1", headers=world.auth("alice")).json()
    assert position["arrears_fen"] == 6210
    bills = client.get("/api/v1/accounts/P1/bills", headers=world.auth("alice")).json()
    b1 = next(b for b in bills["items"] if b["bill_id"] == "B1")
    assert (b1["open_fen"], b1["fee_fen"], b1["finalized"], b1["waived_fen"]) == (0, 210, True, 290)
    ledger = client.get("/api/v1/accounts/P1/ledger", headers=world.auth("alice")).json()
    posting = next(p for p in ledger["items"] if p["key"] == "pay:api:1:order-0001")
    assert sum(line["amount_fen"] for line in posting["lines"]) == 0
    assert {"book": "cash", "amount_fen": 12000, "bill_id": None} in posting["lines"]


def test_the_same_key_with_another_body_is_refused(world: World, client: TestClient) -> None:
    assert pay(client, world, "alice", "P1", "order-0002", amount_fen=5000).status_code == 201
    for other in ({"amount_fen": 5001}, {"amount_fen": 5000, "channel": "wechat"}):
        refused = pay(client, world, "alice", "P1", "order-0002", **other)
        assert refused.status_code == 409, refused.text
        assert refused.json()["title"] == "Conflict"
    for account in ("K1", "G1"):  # another account, of the same company or another
        moved = pay(client, world, "alice", account, "order-0002", amount_fen=5000)
        assert moved.status_code == 409
    assert payments_stored(world) == [("api:1:order-0002", 5000, "online")]


def test_the_same_payment_sent_at_once_from_many_threads_is_posted_once(
    world: World, client: TestClient
) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(
                lambda _: pay(client, world, "alice", "P1", "retry-storm-1", amount_fen=700),
                range(6),
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 201]
    assert len({a.json()["arrears_after_fen"] for a in answers}) == 1
    assert payments_stored(world) == [("api:1:retry-storm-1", 700, "online")]


def test_keys_belong_to_their_customer(world: World, client: TestClient) -> None:
    mine = pay(client, world, "alice", "P1", "shared-key-1", amount_fen=100)
    theirs = pay(client, world, "bob", "P2", "shared-key-1", amount_fen=100)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert [key for key, _, _ in payments_stored(world)] == [
        "api:1:shared-key-1",
        "api:2:shared-key-1",
    ]


def test_a_long_key_is_kept_as_a_digest(world: World, client: TestClient) -> None:
    key = "k" * 128
    assert pay(client, world, "alice", "P1", key, amount_fen=100).status_code == 201
    again = pay(client, world, "alice", "P1", key, amount_fen=100)
    assert again.status_code == 200 and again.json()["key"] == key
    [(stored, _, _)] = payments_stored(world)
    assert stored.startswith("api:1:sha256:") and len(stored) <= 128


def test_a_payment_needs_a_good_key_and_amount(world: World, client: TestClient) -> None:
    no_key = client.post(PAY.format("P1"), json={"amount_fen": 100}, headers=world.auth("alice"))
    assert no_key.status_code == 422
    assert no_key.headers["content-type"] == "application/problem+json"
    for key, body in (
        ("short", {"amount_fen": 100}),
        ("has space 123", {"amount_fen": 100}),
        ("order-0003", {"amount_fen": 0}),
        ("order-0003", {"amount_fen": -5}),
        ("order-0003", {"amount_fen": 10**12}),
        ("order-0003", {"amount_fen": 100, "surprise": 1}),
        ("order-0003", {"amount_fen": 100, "channel": "Not A Channel"}),
    ):
        refused = pay(client, world, "alice", "P1", key, **body)
        assert refused.status_code == 422, (key, body)
    assert payments_stored(world) == []


def test_a_prepaid_top_up(world: World, client: TestClient) -> None:
    before = client.get("/api/v1/accounts/K1", headers=world.auth("alice")).json()
    topped = pay(client, world, "alice", "K1", "top-up-0001", amount_fen=3000, channel="alipay")
    assert topped.status_code == 201, topped.text
    assert topped.json()["parts"] == []
    after = client.get("/api/v1/accounts/K1", headers=world.auth("alice")).json()
    assert after["balance_fen"] == before["balance_fen"] + 3000
