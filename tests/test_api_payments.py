"""Posting money over HTTP (POST /api/v1/accounts/{account_id}/payments), on SQLite and
PostgreSQL: only channels (a bank's API key) and cashiers post; a customer's token is refused
and pays through the provider's checkout instead. The allocation of a worked example, one
payment per `Idempotency-Key` (the same key and body again answer 200 with the first result,
another body 409), keys that belong to their caller, the channel label from the credential,
per-channel limits, strict amounts, and the account's position after paying.

P1 owes B1 (100.00 yuan, due 2020-01-20; its January-issued late fee is waived in February)
and B2 (80.00 yuan, due 2020-02-20). Paying 120.00 on 2020-03-10 (the API's clock): B1's fee
is 11 days in January + 10 in March at 1‰ of 100.00 = 2.10 yuan; so B1 takes 100.00 + 2.10
and B2 the rest, 17.90, leaving 62.10 of B2 (its own fee still accruing)."""

from __future__ import annotations

import json
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
    """The payments the service posted (key, fen, channel), imports left out."""
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(Payment.key, Payment.amount_fen, Payment.channel)
            .where(Payment.posted.is_(True))
            .order_by(Payment.id)
        ).all()
    engine.dispose()
    return [(key, amount, channel) for key, amount, channel in rows]


def test_a_bank_payment_is_allocated_and_posted_once(world: World, client: TestClient) -> None:
    first = pay(client, world, "bank_p", "P1", "order-0001", amount_fen=12000)
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

    again = pay(client, world, "bank_p", "P1", "order-0001", amount_fen=12000)
    assert again.status_code == 200
    assert again.json() == {**result, "repeated": True}
    assert payments_stored(world) == [("ch:1:order-0001", 12000, "bank")]

    position = client.get("/api/v1/accounts/P1", headers=world.auth("alice")).json()
    assert position["arrears_fen"] == 6210
    bills = client.get("/api/v1/accounts/P1/bills", headers=world.auth("alice")).json()
    b1 = next(b for b in bills["items"] if b["bill_id"] == "B1")
    assert (b1["open_fen"], b1["fee_fen"], b1["finalized"], b1["waived_fen"]) == (0, 210, True, 290)
    ledger = client.get("/api/v1/accounts/P1/ledger", headers=world.auth("alice")).json()
    posting = next(p for p in ledger["items"] if p["key"] == "pay:ch:1:order-0001")
    assert sum(line["amount_fen"] for line in posting["lines"]) == 0
    assert {"book": "cash", "amount_fen": 12000, "bill_id": None} in posting["lines"]


def test_a_customer_never_posts_money(world: World, client: TestClient) -> None:
    """The attack: a signed-in customer posted 10^11 fen "from the bank" to their account."""
    for body in ({"amount_fen": 100_000_000_000, "channel": "bank"}, {"amount_fen": 100}):
        refused = pay(client, world, "alice", "P1", "free-money-1", **body)
        assert refused.status_code == 403, refused.text
        assert "checkout" in refused.json()["detail"]
    anonymous = client.post(
        PAY.format("P1"), json={"amount_fen": 100}, headers={"Idempotency-Key": "free-money-2"}
    )
    assert anonymous.status_code == 401
    forged = client.post(
        PAY.format("P1"),
        json={"amount_fen": 100},
        headers={"Authorization": "Bearer sbt_ch_not-a-real-key", "Idempotency-Key": "forged-1"},
    )
    assert forged.status_code == 401
    for who in ("agent_p", "super_p", "admin_p"):  # staff who are not cashiers
        assert pay(client, world, who, "P1", f"staff-{who}", amount_fen=100).status_code == 403
    assert payments_stored(world) == []


def test_a_cashier_posts_at_the_counter(world: World, client: TestClient) -> None:
    paid = pay(client, world, "cash_p", "P2", "counter-0001", amount_fen=5000)
    assert paid.status_code == 201, paid.text
    assert pay(client, world, "cash_p", "P2", "counter-0001", amount_fen=5000).status_code == 200
    relabelled = pay(client, world, "cash_p", "P2", "counter-0002", amount_fen=5000, channel="bank")
    assert relabelled.status_code == 403
    dated = pay(
        client,
        world,
        "cash_p",
        "P2",
        "counter-0003",
        amount_fen=5000,
        paid_at="2020-03-01T10:00:00+08:00",
    )
    assert dated.status_code == 403  # a cashier's payment is dated now
    assert pay(client, world, "cash_p", "G1", "counter-0004", amount_fen=100).status_code == 404
    assert payments_stored(world) == [("cashier:6:counter-0001", 5000, "counter")]


def test_the_label_comes_from_the_credential(world: World, client: TestClient) -> None:
    chosen = pay(client, world, "bank_p", "P1", "label-0001", amount_fen=100, channel="bank-icbc")
    assert chosen.status_code == 201, chosen.text
    for other in ("cashier", "counter", "app", "sandbox-pay"):
        assert (
            pay(client, world, "bank_p", "P1", f"label-{other}", amount_fen=100, channel=other)
        ).status_code == 403
    assert payments_stored(world) == [("ch:1:label-0001", 100, "bank-icbc")]


def test_a_channel_pays_only_its_own_company(world: World, client: TestClient) -> None:
    assert pay(client, world, "bank_p", "G1", "cross-0001", amount_fen=100).status_code == 404
    assert pay(client, world, "bank_g", "P1", "cross-0002", amount_fen=100).status_code == 404
    assert pay(client, world, "bank_g", "G1", "cross-0003", amount_fen=100).status_code == 201


def test_per_channel_limits(world: World, client: TestClient) -> None:
    over = pay(client, world, "bank_g", "G1", "limit-0001", amount_fen=1_000_001)
    assert over.status_code == 403
    assert "10,000.00" in over.json()["detail"] or "10000.00" in over.json()["detail"]
    assert pay(client, world, "bank_g", "G1", "limit-0002", amount_fen=1_000_000).status_code == 201
    counter = pay(client, world, "cash_p", "P1", "limit-0003", amount_fen=10_000_001)
    assert counter.status_code == 403
    assert [key for key, _, _ in payments_stored(world)] == ["ch:2:limit-0002"]


def test_the_same_key_with_another_body_is_refused(world: World, client: TestClient) -> None:
    assert pay(client, world, "bank_p", "P1", "order-0002", amount_fen=5000).status_code == 201
    for other in ({"amount_fen": 5001}, {"amount_fen": 5000, "channel": "bank-icbc"}):
        refused = pay(client, world, "bank_p", "P1", "order-0002", **other)
        assert refused.status_code == 409, refused.text
    for account in ("K1", "P2"):  # another account of the company
        moved = pay(client, world, "bank_p", account, "order-0002", amount_fen=5000)
        assert moved.status_code == 409
    assert payments_stored(world) == [("ch:1:order-0002", 5000, "bank")]


def test_the_same_payment_sent_at_once_from_many_threads_is_posted_once(
    world: World, client: TestClient
) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(
                lambda _: pay(client, world, "bank_p", "P1", "retry-storm-1", amount_fen=700),
                range(6),
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 201]
    assert len({a.json()["arrears_after_fen"] for a in answers}) == 1
    assert payments_stored(world) == [("ch:1:retry-storm-1", 700, "bank")]


def test_keys_belong_to_their_caller(world: World, client: TestClient) -> None:
    bank = pay(client, world, "bank_p", "P1", "shared-key-1", amount_fen=100)
    counter = pay(client, world, "cash_p", "P2", "shared-key-1", amount_fen=100)
    assert (bank.status_code, counter.status_code) == (201, 201)
    assert [key for key, _, _ in payments_stored(world)] == [
        "ch:1:shared-key-1",
        "cashier:6:shared-key-1",
    ]


def test_a_long_key_is_kept_as_a_digest(world: World, client: TestClient) -> None:
    key = "k" * 128
    assert pay(client, world, "bank_p", "P1", key, amount_fen=100).status_code == 201
    again = pay(client, world, "bank_p", "P1", key, amount_fen=100)
    assert again.status_code == 200 and again.json()["key"] == key
    [(stored, _, _)] = payments_stored(world)
    assert stored.startswith("ch:1:sha256:") and len(stored) <= 128


def test_a_payment_needs_a_good_key_and_a_whole_amount_in_fen(
    world: World, client: TestClient
) -> None:
    no_key = client.post(PAY.format("P1"), json={"amount_fen": 100}, headers=world.auth("bank_p"))
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
        ("order-0003", {"amount_fen": True}),
        ("order-0003", {"amount_fen": "100"}),
        ("order-0003", {"amount_fen": 1.0}),
        ("order-0003", {"amount_fen": 100, "paid_at": "2020-03-01T10:00:00"}),
    ):
        refused = pay(client, world, "bank_p", "P1", key, **body)
        assert refused.status_code in (400, 422), (key, body, refused.text)
    raw = client.post(
        PAY.format("P1"),
        content=b'{"amount_fen": 1e3}',
        headers={
            **world.auth("bank_p"),
            "Idempotency-Key": "order-0004",
            "content-type": "application/json",
        },
    )
    assert raw.status_code == 422
    assert payments_stored(world) == []


def test_a_bank_reports_when_it_was_paid(world: World, client: TestClient) -> None:
    reported = pay(
        client,
        world,
        "bank_p",
        "P2",
        "reported-0001",
        amount_fen=5000,
        paid_at="2020-03-01T10:00:00+08:00",
    )
    assert reported.status_code == 201, reported.text
    assert reported.json()["paid_on"] == "2020-03-01"
    for too_far in ("2019-11-01T10:00:00+08:00", "2020-04-01T10:00:00+08:00"):
        refused = pay(
            client, world, "bank_p", "P2", "reported-0002", amount_fen=5000, paid_at=too_far
        )
        assert refused.status_code == 400, refused.text


def test_a_prepaid_top_up(world: World, client: TestClient) -> None:
    before = client.get("/api/v1/accounts/K1", headers=world.auth("alice")).json()
    topped = pay(client, world, "bank_p", "K1", "top-up-0001", amount_fen=3000)
    assert topped.status_code == 201, topped.text
    assert topped.json()["parts"] == []
    after = client.get("/api/v1/accounts/K1", headers=world.auth("alice")).json()
    assert after["balance_fen"] == before["balance_fen"] + 3000


def test_customers_pay_through_checkout_only_where_a_provider_is(
    world: World, client: TestClient
) -> None:
    """This server runs without demo mode: no provider is configured, so no order is made."""
    refused = client.post(
        "/api/v1/accounts/P1/checkout", json={"amount_fen": 100}, headers=world.auth("alice")
    )
    assert refused.status_code == 503, refused.text
    assert json.loads(refused.text)["title"] == "Not available"
