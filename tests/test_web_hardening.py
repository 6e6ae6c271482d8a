"""The online channel's headers and sessions (issue 11, "Headers and sessions", and demo-only
parts): personal answers are never cached, HSTS behind HTTPS, the security headers on a 500,
Swagger UI served from this site under a strict CSP, a cap on request bodies, the API taking a
session cookie only with its CSRF header, CSRF tokens bound to the session and replaced at
sign-in, `X-Forwarded-For` believed only from configured proxies, and the sandbox provider and
SMS inbox existing only in demo mode. On SQLite (the behaviour is the web layer's)."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from helpers_async import run_apart
from sanbuting.cli import serve
from sanbuting.guard.hashing import token_hash
from sanbuting.settings import Settings
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.web_models import WebSession
from sanbuting.web.app import create_app
from sanbuting.web.body_limit import BodyLimit
from sanbuting.web.security import CSRF_COOKIE, SESSION_COOKIE
from test_api_auth import code_sent
from test_api_world import PASSWORD, World, clients, make_app, worlds
from test_portal_world import ALICE, BOB, PAGE_TOKEN, bind, sign_in, start_payment
from test_portal_world import World as PortalWorld
from test_portal_world import make_app as make_portal_app
from test_portal_world import worlds as portal_worlds

BILLS = "/api/v1/accounts/P1/bills"
LEDGER = "/api/v1/accounts/P1/ledger"
URL = re.compile(r"https?://|//[a-z]", re.IGNORECASE)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from worlds("sqlite", tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalWorld]:
    yield from portal_worlds("sqlite", tmp_path)


def csrf_of_session(url: str, session_token: str) -> str:
    """The CSRF token the store keeps for the session `session_token` names."""
    engine = make_engine(url)
    try:
        with sessions(engine)() as session:
            found = session.scalar(
                select(WebSession.csrf_token).where(
                    WebSession.token_hash == token_hash(session_token)
                )
            )
    finally:
        engine.dispose()
    assert found is not None
    return found


def page_token(html: str) -> str:
    found = PAGE_TOKEN.search(html)
    assert found is not None
    return found.group(1)


# -- caching, HSTS, the headers of a 500 ---------------------------------------------------


def test_personal_pages_are_not_stored_static_files_may_be(portal: PortalWorld) -> None:
    browser = sign_in(portal, ALICE)
    assert bind(browser, "P1", "440104", "张三").status_code == 303
    for path in ("/accounts", "/accounts/P1", "/"):
        answer = browser.get(path)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store", path
    for path in ("/static/site.css", "/static/vendor/htmx-2.0.11.min.js", "/healthz"):
        answer = browser.get(path)
        assert answer.status_code == 200
        assert "no-store" not in answer.headers.get("cache-control", ""), path
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_api_bills_ledger_and_the_token_are_not_stored(world: World, client: TestClient) -> None:
    for path in (BILLS, LEDGER):
        answer = client.get(path, headers=world.auth("alice"))
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store", path
    phone = "13911113333"
    assert client.post("/api/v1/auth/code", json={"phone": phone}).status_code == 202
    verified = client.post(
        "/api/v1/auth/verify", json={"phone": phone, "code": code_sent(world, phone)}
    )
    assert verified.status_code == 200 and verified.json()["token"]
    assert verified.headers["cache-control"] == "no-store"


def test_hsts_only_with_secure_cookies(world: World) -> None:
    plain = make_app(world.url)
    secure = create_app(Settings(database_url=world.url, secret_key="k" * 32, secure_cookies=True))
    with TestClient(plain) as without, TestClient(secure) as behind_https:
        for path in ("/", "/static/site.css", "/api/v1/accounts/P1/bills"):
            assert "strict-transport-security" not in without.get(path).headers
            answer = behind_https.get(path)
            assert answer.headers["strict-transport-security"] == (
                "max-age=31536000; includeSubDomains"
            ), path
        cookie = behind_https.get("/signin").headers["set-cookie"]
        assert CSRF_COOKIE in cookie and "Secure" in cookie


def failing_app(url: str) -> FastAPI:
    app = make_app(url)

    def boom() -> None:
        raise RuntimeError("secret detail of the failure")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    return app


def test_a_server_error_is_an_answer_with_the_headers(world: World) -> None:
    with TestClient(failing_app(world.url), raise_server_exceptions=False) as client:
        page = client.get("/boom")
        problem = client.get("/api/v1/boom")
    for answer in (page, problem):
        assert answer.status_code == 500
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        assert "secret detail" not in answer.text and "Traceback" not in answer.text
    assert page.headers["content-type"].startswith("text/html")
    assert "服务器出错了，请稍后再试" in page.text
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["status"] == 500
    with TestClient(failing_app(world.url)) as client, pytest.raises(RuntimeError):
        client.get("/boom")  # raised on, for the server to log


# -- /docs ----------------------------------------------------------------------------------


def test_the_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert not URL.search(docs.text), URL.search(docs.text)
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(asset.startswith("/static/") for asset in assets), assets
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy and "https:" not in policy
    assert "data-openapi" in docs.text and client.get("/openapi.json").status_code == 200
    vendor = Path(__file__).parents[1] / "src/sanbuting/web/static/vendor"
    assert (vendor / "swagger-ui-dist-5.35.0" / "LICENSE").exists()


# -- request bodies -------------------------------------------------------------------------


def test_a_body_declared_too_large_is_refused_before_it_is_read(client: TestClient) -> None:
    big = b"x" * (1024 * 1024 + 1)
    refused = client.post(
        "/api/v1/auth/code", content=big, headers={"content-type": "application/json"}
    )
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["content-security-policy"]
    page = client.post("/signin/code", data={"phone": "1" * (1024 * 1024)})
    assert page.status_code == 413 and "text/html" in page.headers["content-type"]
    assert "提交的内容太大" in page.text


def test_a_streamed_body_is_counted(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b"x" * (512 * 1024)

    refused = client.post(
        "/api/v1/auth/code", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in refused.request.headers
    assert refused.status_code == 413
    assert refused.json()["status"] == 413


def test_reading_stops_at_the_limit() -> None:
    """Chunk by chunk, the body is refused as soon as it passes the limit, the rest unread."""
    read = 0

    async def reader(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        await PlainTextResponse("read it all")(scope, receive, send)

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 500, "more_body": read < 100}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/x", "headers": []}
    run_apart(BodyLimit(reader, max_bytes=1024, policy_bytes=1024)(scope, receive, send))
    assert sent[0]["status"] == 413 and read == 3


def test_the_policy_upload_has_the_policy_cap(world: World) -> None:
    settings = Settings(
        database_url=world.url, secret_key="k" * 32, max_body_bytes=4096, policy_max_bytes=65536
    )
    with TestClient(create_app(settings)) as client:
        body = {"file": ("p.yaml", b"#" * 32_000, "application/yaml")}
        upload = client.post("/console/policies/what-if", files=body, follow_redirects=False)
        assert upload.status_code == 303  # read, then sent to sign in: not refused for size
        other = client.post("/console/signin", files=body, follow_redirects=False)
        assert other.status_code == 413


# -- the API and the session cookie ---------------------------------------------------------


def test_the_api_takes_a_cookie_only_with_the_csrf_header(world: World, client: TestClient) -> None:
    binding = {"region": "440104", "account_id": "P1", "holder_name": "王小明"}
    token = world.tokens["alice"]
    client.cookies.set(SESSION_COOKIE, token)
    refused = client.post("/api/v1/me/accounts", json=binding)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "X-CSRF-Token" in refused.json()["detail"]
    forged = client.post("/api/v1/me/accounts", json=binding, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    assert client.get("/api/v1/me/accounts").status_code == 200  # reading needs no header
    header = {"X-CSRF-Token": csrf_of_session(world.url, token)}
    with_header = client.post("/api/v1/me/accounts", json=binding, headers=header)
    assert client.post("/api/v1/auth/signout").status_code == 204  # the cookie alone: ignored
    assert client.get("/api/v1/me/accounts").status_code == 200  # still signed in
    client.cookies.clear()
    by_bearer = client.post("/api/v1/me/accounts", json=binding, headers=world.auth("alice"))
    assert with_header.status_code == by_bearer.status_code != 403  # both let in alike
    assert with_header.json() == by_bearer.json()


# -- CSRF tokens bound to the session -------------------------------------------------------


def test_a_form_needs_its_own_sessions_token(portal: PortalWorld) -> None:
    alice = portal.client
    before = page_token(alice.get("/").text)
    assert before == alice.cookies.get(CSRF_COOKIE)  # anonymous: the double-submit cookie
    sign_in(portal, ALICE)
    after = page_token(alice.get("/accounts").text)
    assert after != before and alice.cookies.get(CSRF_COOKIE) != before  # replaced at sign-in
    assert after == csrf_of_session(portal.url, alice.cookies[SESSION_COOKIE])
    with TestClient(portal.app) as bob:
        sign_in(portal, BOB, bob)
        bobs = page_token(bob.get("/accounts").text)
    for wrong in (bobs, before):
        refused = alice.post("/signout", data={"csrf_token": wrong}, follow_redirects=False)
        assert refused.status_code == 403, wrong
    alice.cookies.delete(CSRF_COOKIE)  # a cookie set by someone else (a sibling domain)...
    alice.cookies.set(CSRF_COOKIE, "tossed")
    tossed = alice.post("/signout", data={"csrf_token": "tossed"}, follow_redirects=False)
    assert tossed.status_code == 403  # ...matches the form, but not the session: refused
    assert alice.get("/accounts", follow_redirects=False).status_code == 200  # still in
    taken = alice.post("/signout", data={"csrf_token": after}, follow_redirects=False)
    assert taken.status_code == 303 and SESSION_COOKIE not in alice.cookies
    again = sign_in(portal, "13700000003", alice)  # another sign-in, another session
    assert page_token(again.get("/accounts").text) not in (after, before)


def test_pages_without_a_caller_carry_the_sessions_token(portal: PortalWorld) -> None:
    """The provider's checkout page never asks who is calling: its form still carries the
    signed-in session's token, and its post is checked against it."""
    browser = sign_in(portal, ALICE)
    assert bind(browser, "P1", "440104", "张三").status_code == 303
    number = start_payment(browser, "P1", "10.00")
    checkout = browser.get(f"/sandbox-pay/checkout/{number}").text
    token = csrf_of_session(portal.url, browser.cookies[SESSION_COOKIE])
    assert f'value="{token}"' in checkout
    cancelled = browser.post(
        f"/sandbox-pay/checkout/{number}/cancel",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303


def test_console_sign_in_replaces_the_token(world: World, client: TestClient) -> None:
    first = page_token(client.get("/console/signin").text)
    assert first == client.cookies.get(CSRF_COOKIE)

    def sign_in_as(username: str, token: str) -> None:
        form = {"username": username, "password": PASSWORD, "csrf_token": token}
        answer = client.post("/console/signin", data=form, follow_redirects=False)
        assert answer.status_code == 303, answer.text

    sign_in_as("agent_p", first)
    second = page_token(client.get("/console").text)
    assert second != first and client.cookies.get(CSRF_COOKIE) == second
    assert second == csrf_of_session(world.url, client.cookies[SESSION_COOKIE])
    refused = client.post("/console/signout", data={"csrf_token": first}, follow_redirects=False)
    assert refused.status_code == 403  # the token from before the sign-in is worth nothing
    sign_in_as("agent_p", second)
    third = page_token(client.get("/console").text)
    assert third not in (first, second)


# -- X-Forwarded-For ------------------------------------------------------------------------


async def echo_client(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    host = request.client.host if request.client else "-"
    await PlainTextResponse(host)(scope, receive, send)


def served_address(options: dict[str, Any], forwarded_for: str) -> str:
    """What a server started with `options` takes for the client's address, asked from
    127.0.0.1 with `X-Forwarded-For: forwarded_for`."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(echo_client, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = listener.getsockname()[1]
        asked = urllib.request.Request(
            f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": forwarded_for}
        )
        with urllib.request.urlopen(asked, timeout=10) as answer:
            return str(answer.read().decode())
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def options_of_serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workers: int
) -> dict[str, Any]:
    """The proxy options `sanbuting serve` gives uvicorn (uvicorn.run is caught)."""
    monkeypatch.setenv("SANBUTING_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("SANBUTING_SECRET_KEY", "k" * 32)
    caught: dict[str, Any] = {}
    monkeypatch.setattr(serve.uvicorn, "run", lambda *_args, **kwargs: caught.update(kwargs))
    serve.serve_command(host="127.0.0.1", port=8000, demo=False, today=None, workers=workers)
    return {key: caught[key] for key in ("proxy_headers", "forwarded_allow_ips")}


@pytest.mark.parametrize("workers", [1, 3])
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workers: int
) -> None:
    untrusted = options_of_serve(monkeypatch, tmp_path, workers)
    assert served_address(untrusted, "203.0.113.9") == "127.0.0.1"
    monkeypatch.setenv("SANBUTING_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    trusted = options_of_serve(monkeypatch, tmp_path, workers)
    assert served_address(trusted, "203.0.113.9") == "203.0.113.9"


# -- demo mode only -------------------------------------------------------------------------


def test_the_sandbox_and_the_inbox_exist_only_in_demo_mode(portal: PortalWorld) -> None:
    browser = sign_in(portal, ALICE)
    assert bind(browser, "P1", "440104", "张三").status_code == 303
    number = start_payment(browser, "P1", "10.00")  # its checkout page answered 200
    checkout = f"/sandbox-pay/checkout/{number}"
    with TestClient(portal.app, raise_server_exceptions=False) as demo:
        assert demo.get("/demo/sms").status_code == 200
        assert demo.post("/sandbox-pay/notify", data={}).status_code != 404
        assert 'id="demo-banner"' in demo.get("/console/signin").text
        assert "演示模式：沙箱支付与演示短信收件箱已开启，请勿用于生产" in (
            demo.get("/console/signin").text
        )
        assert 'id="demo-notice"' in demo.get("/").text
    with TestClient(make_portal_app(portal.url, demo=False)) as production:
        assert production.get(checkout).status_code == 404
        assert production.post(f"{checkout}/confirm", data={}).status_code == 404
        assert production.post("/sandbox-pay/notify", data={}).status_code == 404
        assert production.get("/demo/sms").status_code == 404
        assert 'id="demo-banner"' not in production.get("/console/signin").text
        assert 'id="demo-notice"' not in production.get("/").text
