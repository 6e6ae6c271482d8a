"""Paying through the sandbox provider, end to end over HTTP, on SQLite and PostgreSQL: the
signed notification arriving before the browser returns, after it (held, then delivered by
the test), twice; a bad signature or a tampered amount refused with nothing posted; arrears
dropping and the relief status still shown; a reconnection ordered; cancelling; a prepaid
top-up; the IC-card gas top-up and its card write (圈存); quick pay without sign-in.

P1 on 2020-03-10 (see test_portal_world): 183.62 pays B1 (100.00 + fee 2.10) and B2
(80.00 + fee 1.52): arrears 180.00 before, 0 after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sanbuting.checkout import service as checkout
from sanbuting.checkout.signing import signed
from sanbuting.payments.service import PaymentResult
from sanbuting.store.models import LedgerLine, OutboxItem, Payment
from sanbuting.store.web_models import CheckoutOrder
from sanbuting.web.sandbox.delivery import behaviour
from store_databases import BACKENDS
from test_portal_world import (
    ALICE,
    SECRET,
    World,
    bind,
    confirm_payment,
    post,
    sign_in,
    start_payment,
    worlds,
)


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def order(world: World, number: str) -> CheckoutOrder:
    with world.session() as session:
        return checkout.order_by_number(session=session, number=number)


def payments(world: World) -> int:
    with world.session() as session:
        return session.scalar(select(func.count()).select_from(Payment)) or 0


def cash(world: World) -> int:
    with world.session() as session:
        total = session.scalar(
            select(func.sum(LedgerLine.amount_fen)).where(LedgerLine.book == "cash")
        )
        return int(total or 0)


def provider_key(world: World) -> str:
    """The provider's own signing key (never the sign-in key, `SECRET`)."""
    key: str = world.app.state.settings.provider_secret
    assert key != SECRET
    return key


def alice_with(world: World, account_id: str, name: str = "张三") -> None:
    sign_in(world, ALICE)
    assert bind(world.client, account_id, "440104", name).status_code == 303


def test_notification_before_the_redirect(world: World) -> None:
    alice_with(world, "P1")
    number = start_payment(world.client, "P1", "183.62")
    assert order(world, number).status == "created"
    back = confirm_payment(world.client, number)
    assert back == f"/accounts/P1/paid/{number}"
    paid = order(world, number)  # the notification came before the browser returned
    assert (paid.status, paid.notifications, payments(world)) == ("paid", 1, 1)
    page = world.client.get(back)
    assert 'data-status="paid"' in page.text
    assert 'id="pay-arrears-after" data-fen="0"' in page.text
    assert order(world, number).notifications == 1  # the return page posted nothing more
    assert cash(world) == 18362


def test_duplicate_notifications_post_once(world: World) -> None:
    alice_with(world, "P1")
    number = start_payment(world.client, "P1", "183.62")
    confirm_payment(world.client, number, notify="twice")
    assert order(world, number).notifications == 2
    assert (payments(world), cash(world)) == (1, 18362)
    behaviour(world.app).repeat = 3
    again = start_payment(world.client, "P1", "90.00")
    confirm_payment(world.client, again)
    assert order(world, again).notifications == 3
    assert (payments(world), cash(world)) == (2, 27362)


def test_redirect_before_the_notification(world: World) -> None:
    alice_with(world, "P1")
    behaviour(world.app).hold = True
    number = start_payment(world.client, "P1", "183.62")
    back = confirm_payment(world.client, number, notify="twice")
    assert order(world, number).status == "confirmed" and payments(world) == 0
    page = world.client.get(back)  # asks the provider, posts the payment
    assert 'data-status="paid"' in page.text and 'data-fen="0"' in page.text
    assert (order(world, number).notifications, payments(world)) == (0, 1)
    held = behaviour(world.app).held
    assert len(held) == 2 and held[0]["notify_id"] != held[1]["notify_id"]
    for note in held:  # the late notifications find it posted
        answer = world.client.post("/sandbox-pay/notify", data=note)
        assert (answer.status_code, answer.text) == (200, "success")
    assert (order(world, number).notifications, payments(world), cash(world)) == (2, 1, 18362)
    with world.session() as session:
        first = checkout.payment_result(session=session, order=order(world, number))
        settled = checkout.handle_notification(
            session=session,
            fields=held[0],
            secret=provider_key(world),
            now=datetime.now(tz=UTC),
            window=timedelta(hours=24),
        )
        assert settled is not None and isinstance(first, PaymentResult)
        assert settled.result.repeated and settled.result.parts == first.parts


def test_a_bad_signature_is_refused_and_nothing_is_posted(world: World) -> None:
    alice_with(world, "P1")
    behaviour(world.app).hold = True
    number = start_payment(world.client, "P1", "183.62")
    confirm_payment(world.client, number)
    note = behaviour(world.app).held[0]
    forged = signed({k: v for k, v in note.items() if k != "sign"}, "not-the-secret")
    tampered = {**note, "total_fen": "1"}
    unsigned = {k: v for k, v in note.items() if k != "sign"}
    for fields in (forged, tampered, unsigned):
        answer = world.client.post("/sandbox-pay/notify", data=fields)
        assert answer.status_code == 400
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "signature" in answer.json()["detail"]
    resigned = signed({k: v for k, v in tampered.items() if k != "sign"}, provider_key(world))
    answer = world.client.post("/sandbox-pay/notify", data=resigned)
    assert answer.status_code == 400 and "amount" in answer.json()["detail"]
    unknown = signed(
        {**{k: v for k, v in note.items() if k != "sign"}, "out_trade_no": "X"}, provider_key(world)
    )
    sign_in_key = signed({k: v for k, v in note.items() if k != "sign"}, SECRET)
    assert world.client.post("/sandbox-pay/notify", data=sign_in_key).status_code == 400
    assert world.client.post("/sandbox-pay/notify", data=unknown).status_code == 404
    assert (payments(world), order(world, number).notifications) == (0, 0)
    answer = world.client.post("/sandbox-pay/notify", data=note)
    assert (answer.status_code, payments(world)) == (200, 1)


def test_arrears_drop_and_the_relief_status_is_shown(world: World) -> None:
    alice_with(world, "P1")
    before = world.client.get("/accounts/P1").text
    assert 'id="arrears" data-fen="18000"' in before
    assert 'data-policy="gz-exempt-2020"' in before
    number = start_payment(world.client, "P1", "183.62")
    world.client.get(confirm_payment(world.client, number))
    after = world.client.get("/accounts/P1").text
    assert 'id="arrears" data-fen="0"' in after
    assert 'id="amount-due" data-fen="9000"' in after  # B3, not due yet
    assert 'data-policy="gz-exempt-2020" data-kind="exempt" data-active="yes"' in after
    assert 'data-kind="payment"' in after and 'data-kind="waiver"' in after
    assert "违约金减免" in after and "2.90" in after  # B1's February fee, waived


def test_paying_a_cut_off_account_orders_its_reconnection(world: World) -> None:
    alice_with(world, "D1", "王小明")
    assert 'data-state="disconnected"' in world.client.get("/accounts/D1").text
    number = start_payment(world.client, "D1", "64.86")  # 60.00 + 81 days x 0.06
    page = world.client.get(confirm_payment(world.client, number)).text
    assert 'id="pay-reconnect"' in page and 'data-fen="0"' in page
    with world.session() as session:
        kinds = session.scalars(select(OutboxItem.kind).where(OutboxItem.kind != "sms")).all()
    assert kinds == ["reconnect"]


def test_a_cancelled_payment_posts_nothing(world: World) -> None:
    alice_with(world, "P1")
    number = start_payment(world.client, "P1", "10.00")
    answer = post(world.client, f"/sandbox-pay/checkout/{number}/cancel")
    assert answer.headers["location"] == f"/accounts/P1/paid/{number}"
    page = world.client.get(answer.headers["location"])
    assert 'data-status="cancelled"' in page.text
    assert post(world.client, f"/sandbox-pay/checkout/{number}/confirm").status_code == 409
    assert payments(world) == 0


def test_a_prepaid_top_up(world: World) -> None:
    alice_with(world, "K1")
    assert 'data-purpose="topup"' in world.client.get("/accounts/K1/pay").text
    number = start_payment(world.client, "K1", "100.00")
    world.client.get(confirm_payment(world.client, number))
    assert 'id="balance" data-fen="14100"' in world.client.get("/accounts/K1").text


def test_an_ic_card_gas_top_up_is_paid_then_written_to_the_card(world: World) -> None:
    alice_with(world, "G1")
    assert 'data-purpose="ic_card"' in world.client.get("/accounts/G1/pay").text
    number = start_payment(world.client, "G1", "50.00")
    back = confirm_payment(world.client, number)
    page = world.client.get(back).text
    assert 'id="card-write"' in page and "圈存成功" not in page
    assert order(world, number).card_written_at is None
    written = post(world.client, f"/accounts/G1/paid/{number}/card")
    assert written.status_code == 303 and written.headers["location"] == back
    page = world.client.get(back).text
    assert 'id="card-written"' in page and "圈存成功" in page and 'id="card-write"' not in page
    first = order(world, number).card_written_at
    assert first is not None
    post(world.client, f"/accounts/G1/paid/{number}/card")  # written once
    assert order(world, number).card_written_at == first
    assert 'id="balance" data-fen="7000"' in world.client.get("/accounts/G1").text


def test_quick_pay_without_signing_in(world: World) -> None:
    browser = world.client
    answer = post(browser, "/quickpay/pay", {"account_id": "P2", "amount": "50.00"})
    assert answer.status_code == 303
    number = answer.headers["location"].rsplit("/", 1)[1]
    checkout_page = browser.get(answer.headers["location"]).text
    assert 'id="sandbox-amount" class="amount">¥50.00</strong>' in checkout_page
    back = confirm_payment(browser, number)
    assert back == f"/quickpay/paid/{number}"
    page = browser.get(back).text
    assert 'data-status="paid"' in page and 'id="paid-utility"' in page
    for secret in ("李四", "李*", ">P2<", "B4", "pay-arrears-after", "paid-parts"):
        assert secret not in page, secret
    assert payments(world) == 1


def test_a_signed_notification_of_an_order_nobody_paid_posts_nothing(world: World) -> None:
    """The attack: a validly signed notification for an order the provider never confirmed
    marked it paid. Now the provider's own word (its order query) must say it was paid."""
    alice_with(world, "P1")
    number = start_payment(world.client, "P1", "183.62")
    with world.session() as session:
        made = checkout.order_by_number(session=session, number=number)
        created = made.created_at
    fields = {
        "out_trade_no": number,
        "trade_no": f"T{number[2:]}",
        "trade_status": checkout.SUCCESS,
        "total_fen": "18362",
        "paid_at": created.replace(tzinfo=UTC).isoformat(),
        "notify_id": "n-1",
        "notify_time": created.replace(tzinfo=UTC).isoformat(),
        "sign_type": "HMAC-SHA256",
    }
    answer = world.client.post("/sandbox-pay/notify", data=signed(fields, provider_key(world)))
    assert answer.status_code == 400 and "not confirmed" in answer.json()["detail"]
    assert (payments(world), order(world, number).status) == (0, "created")


def test_a_notification_dated_outside_its_order_window_is_refused(world: World) -> None:
    alice_with(world, "P1")
    behaviour(world.app).hold = True
    number = start_payment(world.client, "P1", "183.62")
    confirm_payment(world.client, number)
    note = {k: v for k, v in behaviour(world.app).held[0].items() if k != "sign"}
    for paid_at in ("2019-12-01T00:00:00+00:00", "2020-04-20T00:00:00+00:00"):
        shifted = signed({**note, "paid_at": paid_at}, provider_key(world))
        answer = world.client.post("/sandbox-pay/notify", data=shifted)
        assert answer.status_code == 400 and "window" in answer.json()["detail"], answer.text
    assert payments(world) == 0


def test_an_online_payment_has_a_limit(world: World) -> None:
    alice_with(world, "P1")
    refused = post(world.client, "/accounts/P1/pay", {"amount": "50000.01"})
    assert refused.status_code == 400 and "50000.00" in refused.text
    assert payments(world) == 0
