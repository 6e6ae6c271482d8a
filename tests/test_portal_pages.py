"""The customer portal over HTTP (TestClient), SQLite and PostgreSQL: sign-in with the code
read from the SMS queue (session and CSRF token rotated, wrong tries counted, sends and tries
rate-limited), binding, the account page (bills, late fees explained, "Am I protected?",
usage, ledger), quick pay showing only a masked name and the amount due, the demo SMS inbox,
CSRF refusals and security headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sanbuting.store.web_models import LoginCode, WebSession
from sanbuting.web.security import HEADERS
from store_databases import BACKENDS
from test_portal_world import (
    ALICE,
    BOB,
    World,
    bind,
    csrf,
    last_code,
    make_app,
    post,
    sign_in,
    worlds,
)


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def test_sign_in_with_the_code_from_the_sms_queue(world: World) -> None:
    browser = world.client
    form = browser.get("/signin")
    assert form.status_code == 200 and 'id="signin-phone"' in form.text
    sent = post(browser, "/signin/code", {"phone": ALICE})
    assert sent.status_code == 200
    assert 'id="signin-code"' in sent.text and "138****0001" in sent.text
    assert "13800000001" not in sent.text.replace('value="13800000001"', "")
    code = last_code(world.engine, ALICE)
    with world.session() as session:
        stored = session.scalars(select(LoginCode)).one()
        assert code not in stored.code_hash
    before_csrf = csrf(browser)
    signed = post(browser, "/signin/verify", {"phone": ALICE, "code": code})
    assert signed.status_code == 303 and signed.headers["location"] == "/accounts"
    assert browser.cookies.get("sbt_csrf") != before_csrf  # the CSRF token rotated too
    page = browser.get("/accounts")
    assert page.status_code == 200 and 'id="bind-form"' in page.text
    again = post(browser, "/signin/verify", {"phone": ALICE, "code": code})
    assert again.status_code == 401  # single use


def test_signing_in_again_rotates_the_session(world: World) -> None:
    browser = sign_in(world, ALICE)
    first = browser.cookies.get("sbt_session")
    with world.session() as session:
        assert len(session.scalars(select(WebSession)).all()) == 1
    other = TestClient(world.app)
    other.cookies.set("sbt_session", str(first))
    assert other.get("/accounts", follow_redirects=False).status_code == 200
    with world.session() as session:  # a minute must pass between two codes to one phone
        for row in session.scalars(select(LoginCode)):
            session.delete(row)
        session.commit()
    sign_in(world, ALICE)
    second = browser.cookies.get("sbt_session")
    assert second and second != first
    assert other.get("/accounts", follow_redirects=False).status_code == 303  # old one ended
    with world.session() as session:
        assert len(session.scalars(select(WebSession)).all()) == 1


def test_a_wrong_code_is_counted_and_refused(world: World) -> None:
    browser = world.client
    post(browser, "/signin/code", {"phone": ALICE})
    code = last_code(world.engine, ALICE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = post(browser, "/signin/verify", {"phone": ALICE, "code": wrong})
    assert refused.status_code == 401 and 'id="signin-error"' in refused.text
    with world.session() as session:
        assert session.scalars(select(LoginCode.attempts)).one() == 1  # committed
    assert "sbt_session" not in browser.cookies


def test_code_sending_and_sign_in_are_rate_limited(world: World) -> None:
    browser = world.client
    assert post(browser, "/signin/code", {"phone": ALICE}).status_code == 200
    again = post(browser, "/signin/code", {"phone": ALICE})
    assert again.status_code == 429 and "minute" in again.text
    app = make_app(world.url, sign_ins_per_minute=3)
    with TestClient(app) as limited:
        answers = [
            post(limited, "/signin/verify", {"phone": BOB, "code": "000000"}).status_code
            for _ in range(4)
        ]
    assert answers == [401, 401, 401, 429]


def test_binding_needs_the_name_and_the_latest_bill(world: World) -> None:
    browser = sign_in(world, ALICE)
    for name, amount in (("李四", "90.00"), ("张三", "80.00"), ("张三", "273.62")):
        refused = bind(browser, "P1", "440104", name, amount)  # the name alone is not enough
        assert refused.status_code == 404
        assert "latest bill amount" in refused.text and 'id="bind-error"' in refused.text
    assert bind(browser, "P1", "440104", "张三", "ninety").status_code == 400
    bound = bind(browser, "P1", "440104", "张三")
    assert bound.status_code == 303 and bound.headers["location"] == "/accounts/P1?bound=1"
    listing = browser.get("/accounts")
    assert 'data-account="P1"' in listing.text and "张*" in listing.text
    assert "张三" not in listing.text


def test_the_account_page(world: World) -> None:
    browser = sign_in(world, ALICE)
    bind(browser, "P1", "440104", "张三")
    page = browser.get("/accounts/P1")
    assert page.status_code == 200
    text = page.text
    assert 'id="arrears" data-fen="18000"' in text
    assert 'id="amount-due" data-fen="27362"' in text  # B1 100+2.10, B2 80+1.52, B3 90
    assert 'data-policy="gz-exempt-2020" data-kind="exempt" data-active="yes"' in text
    assert "2020-01-23至2020-03-31期间欠费不停电" in text
    assert 'data-policy="gz-defer-april" data-kind="defer" data-active="no"' in text
    assert "gz-waive-jan-2020" not in text.split('id="bills"')[0]  # its window has ended
    assert "2020-02-01 至 2020-02-29  29 天 免收（本应 2.90 元）" in text  # B1's waived days
    assert 'data-bill="B2"' in text and 'data-state="active"' in text
    assert 'data-kind="charge"' in text and 'href="/business"' in text
    english = browser.get("/accounts/P1?lang=en").text
    assert "No power cut for arrears from 2020-01-23 to 2020-03-31" in english
    assert "2020-02-01 to 2020-02-29  29 days waived" in english


def test_a_prepaid_account_shows_its_balance_and_usage(world: World) -> None:
    browser = sign_in(world, ALICE)
    bind(browser, "K1", "440104", "张三")
    page = browser.get("/accounts/K1").text
    assert 'id="balance" data-fen="4100"' in page  # 50.00 - 3 days x 3.00
    assert page.count('data-test="usage-row"') == 3
    assert 'href="/accounts/K1/pay"' in page


def test_quick_pay_shows_no_name_only_the_amount(world: World) -> None:
    """No part of the holder's name: binding asks for it, so a stranger must not learn it."""
    browser = world.client
    assert browser.get("/quickpay").status_code == 200
    found = post(browser, "/quickpay/lookup", {"account_id": "P1", "region": ""})
    assert found.status_code == 200
    shown = found.text.replace(csrf(browser), "")
    assert '<strong id="quickpay-found-account">P1</strong>' in found.text
    assert 'id="quickpay-due" class="amount">273.62</strong>' in found.text
    for secret in ("张三", "张*", "B1", "B2", "440104", "越秀", "180.00", "欠费", "gz-exempt"):
        assert secret not in shown, secret
    fragment = browser.post(
        "/quickpay/lookup",
        data={"csrf_token": csrf(browser), "account_id": "D1"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "王*明" not in fragment.text and "王小明" not in fragment.text
    unknown = post(browser, "/quickpay/lookup", {"account_id": "NOPE"})
    assert unknown.status_code == 404 and 'id="quickpay-error"' in unknown.text


def test_the_demo_sms_inbox(world: World) -> None:
    browser = world.client
    post(browser, "/signin/code", {"phone": ALICE})
    inbox = browser.get("/demo/sms")
    assert inbox.status_code == 200
    assert "138****0001" in inbox.text and ALICE not in inbox.text
    assert f'<strong data-test="sms-code">{last_code(world.engine, ALICE)}</strong>' in inbox.text
    with TestClient(make_app(world.url, demo=False)) as production:
        assert production.get("/demo/sms").status_code == 404
        assert 'id="home-demo-sms"' not in production.get("/").text


def test_forms_without_the_csrf_token_are_refused(world: World) -> None:
    browser = world.client
    browser.get("/")
    assert browser.post("/signin/code", data={"phone": ALICE}).status_code == 403
    forged = {"csrf_token": "forged", "phone": ALICE}
    assert browser.post("/signin/code", data=forged).status_code == 403
    with world.session() as session:
        assert session.scalars(select(LoginCode)).all() == []
    sign_in(world, ALICE)
    for path, data in (
        ("/accounts/bind", {"region": "440104", "account_id": "P1", "holder_name": "张三"}),
        ("/accounts/P1/pay", {"amount": "1.00"}),
        ("/quickpay/lookup", {"account_id": "P1"}),
        ("/quickpay/pay", {"account_id": "P1", "amount": "1.00"}),
        ("/signout", {}),
    ):
        answer = browser.post(path, data=data, follow_redirects=False)
        assert answer.status_code == 403, path
    assert browser.get("/accounts", follow_redirects=False).status_code == 200


def test_security_headers_and_sign_out(world: World) -> None:
    browser = world.client
    for path in ("/", "/signin", "/quickpay"):
        answer = browser.get(path)
        for name, value in HEADERS.items():
            assert answer.headers[name] == value, (path, name)
    assert "script-src 'self'" in browser.get("/").headers["Content-Security-Policy"]
    assert browser.get("/accounts", follow_redirects=False).headers["location"] == "/signin"
    sign_in(world, ALICE)
    assert browser.get("/accounts", follow_redirects=False).status_code == 200
    out = post(browser, "/signout")
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert browser.get("/accounts", follow_redirects=False).status_code == 303
    with world.session() as session:
        assert session.scalars(select(WebSession)).all() == []
