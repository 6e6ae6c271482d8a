"""A customer reads only the accounts bound to them: on every portal route that takes an
account id (and every payment order number), another customer's account, an account bound to
nobody and an account that does not exist all answer the same 404, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sanbuting.store.models import Payment
from sanbuting.store.web_models import CheckoutOrder
from store_databases import BACKENDS
from test_portal_world import ALICE, BOB, World, bind, post, sign_in, start_payment, worlds

FAKE_ORDER = "SP" + "0" * 24


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def account_routes(account_id: str, number: str) -> list[tuple[str, str, dict[str, str]]]:
    """Every portal route that takes an account id: (method, path, form)."""
    return [
        ("GET", f"/accounts/{account_id}", {}),
        ("GET", f"/accounts/{account_id}/pay", {}),
        ("POST", f"/accounts/{account_id}/pay", {"amount": "10.00"}),
        ("GET", f"/accounts/{account_id}/paid/{number}", {}),
        ("POST", f"/accounts/{account_id}/paid/{number}/card", {}),
    ]


def call(browser: TestClient, method: str, path: str, form: dict[str, str]) -> int:
    if method == "GET":
        return browser.get(path, follow_redirects=False).status_code
    return post(browser, path, form).status_code


def test_another_customers_account_is_refused_everywhere(world: World) -> None:
    alice = sign_in(world, ALICE)
    assert bind(alice, "P1", "440104", "张三").status_code == 303
    with TestClient(world.app) as bob:
        sign_in(world, BOB, bob)
        assert bind(bob, "P2", "440104", "李四").status_code == 303
        bobs_order = start_payment(bob, "P2", "50.00")
        for method, path, form in account_routes("P2", bobs_order):
            assert call(bob, method, path, form) != 404, path  # Bob may
    alices_order = start_payment(alice, "P1", "10.00")
    for account_id in ("P2", "S1", "NOPE"):  # Bob's, nobody's, no such account
        for method, path, form in account_routes(account_id, bobs_order):
            answer = (
                alice.get(path, follow_redirects=False)
                if method == "GET"
                else post(alice, path, form)
            )
            assert answer.status_code == 404, (method, path)
            assert "not among your bound accounts" in answer.text
            assert "李" not in answer.text and "50.00" not in answer.text
    # Alice's own account with Bob's order number, and an order that does not exist
    for number in (bobs_order, FAKE_ORDER):
        assert alice.get(f"/accounts/P1/paid/{number}").status_code == 404
        assert post(alice, f"/accounts/P1/paid/{number}/card").status_code == 404
    # a signed-in customer's order has no quick-pay result page
    assert alice.get(f"/quickpay/paid/{alices_order}").status_code == 404
    assert alice.get(f"/accounts/P1/paid/{alices_order}").status_code == 200
    with world.session() as session:  # nothing was paid or ordered on Bob's account by Alice
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
        orders = session.scalars(select(CheckoutOrder).order_by(CheckoutOrder.id)).all()
        assert [o.amount_fen for o in orders] == [5000, 1000, 1000]  # Bob's two, Alice's


def test_signed_out_visitors_are_sent_to_sign_in(world: World) -> None:
    browser = world.client
    for method, path, form in account_routes("P1", FAKE_ORDER):
        if method == "GET":
            answer = browser.get(path, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"] == "/signin", path
        else:
            answer = post(browser, path, form)
            assert answer.status_code == 303 and answer.headers["location"] == "/signin", path
