"""The customer portal's test world (no tests here: the portal, sandbox-pay and customer tests
import it): a tiny literal store on SQLite and PostgreSQL, a policy set, holders' names, and
the web application on a business clock stopped at 2020-03-10 12:00 Asia/Shanghai.

Accounts (Guangzhou 越秀区 440104 unless said):
  P1  power postpaid, 张三:  B1 100.00 due 01-20 (issued in January: its February is waived),
      B2 80.00 due 02-20, B3 90.00 due 03-20 (not due yet on 03-10)
  P2  power postpaid, 李四 (another customer's): B4 50.00 due 02-20
  D1  power postpaid, disconnected, 王小明: BD 60.00 due 2019-12-20
  K1  power prepaid, 张三: balance 50.00, usage 3.00 a day from 03-01
  G1  gas prepaid (IC card), 张三: balance 20.00
  S1  power postpaid in Shanghai 310101, 张三 (no policy covers it)

Late fees on 2020-03-10 (cn-power-1996, residential: 1‰ a day of the open principal from the
day after the due date; a finalized fee is at least 1.00):
  B1: 01-21..01-31 11 days x 10 fen + 02-01..02-29 waived + 03-01..03-10 10 days x 10 = 210
  B2: 02-21..03-10 19 days x 8 fen = 152;  BD: 2019-12-21..2020-03-10 81 days x 6 fen = 486
So P1 owes arrears 180.00 (B1 + B2 principal), and 183.62 clears B1 and B2 with their fees.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sanbuting.customers import service as customers
from sanbuting.jobs.activation import activate
from sanbuting.jobs.importing import import_and_book
from sanbuting.settings import Settings
from sanbuting.sms.queue import SmsMessage
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account
from sanbuting.web import deps
from sanbuting.web.app import create_app
from store_databases import database

ORIGIN = date(2020, 1, 1)
NOW = datetime(2020, 3, 10, 4, 0, tzinfo=UTC)
"""2020-03-10 12:00 in Asia/Shanghai: the business clock of the portal in these tests."""
TODAY = date(2020, 3, 10)
SECRET = "test-secret-key"
ALICE = "13800000001"
BOB = "13900000002"

ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    P1,power,residential,440104,postpaid,,active,0,0,
    P2,power,residential,440104,postpaid,,active,0,0,
    D1,power,residential,440104,postpaid,,disconnected,0,0,
    K1,power,residential,440104,prepaid,,active,5000,0,
    G1,gas,residential,440104,prepaid,,active,2000,0,
    S1,power,residential,310101,postpaid,,active,0,0,
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,P1,2020-01,2020-01-05,2020-01-20,10000
    B2,P1,2020-02,2020-02-05,2020-02-20,8000
    B3,P1,2020-03,2020-03-05,2020-03-20,9000
    B4,P2,2020-02,2020-02-05,2020-02-20,5000
    BD,D1,2019-12,2019-12-05,2019-12-20,6000
    BS,S1,2020-02,2020-02-05,2020-02-20,3000
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
"""
USAGE = """
    account_id,date,amount_fen
    K1,2020-03-01,300
    K1,2020-03-02,300
    K1,2020-03-03,300
"""
POLICIES = """
policies:
  - id: gz-exempt-2020
    title: 广州 居民欠费不停电（测试）
    effect: exempt
    scope: {utility: [power], region: ["4401"], customer_class: [residential]}
    window: {start: 2020-01-23, end: 2020-04-01}
  - id: gz-waive-jan-2020
    title: 1月份电费2月不计违约金（测试）
    effect: waive_late_fee
    scope: {utility: [power], region: ["4401"]}
    bills: {issued_in: ["2020-01"]}
    window: {start: 2020-02-01, end: 2020-03-01}
  - id: gz-defer-april
    title: 4月缓停（测试）
    effect: defer
    scope: {utility: [power], region: ["4401"]}
    defer: {days: 30}
    window: {start: 2020-04-01, end: 2020-05-01}
"""
HOLDERS = {"P1": "张三", "P2": "李四", "D1": "王小明", "K1": "张三", "G1": "张三", "S1": "张三"}
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def write_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {"accounts": ACCOUNTS, "bills": BILLS, "payments": PAYMENTS, "usage": USAGE}
    for name, text in tables.items():
        body = [line.strip() for line in textwrap.dedent(text).splitlines() if line.strip()]
        (folder / f"{name}.csv").write_text("\n".join(body) + "\n", encoding="utf-8")
    return folder


def build_store(url: str, tmp_path: Path) -> None:
    """Import the folder, activate the policies, record the holders' names."""
    upgrade(url)
    outcome = import_and_book(
        data=write_folder(tmp_path / "data"),
        start=ORIGIN,
        company=None,
        by="test",
        allow_rejects=False,
        rejects_file=tmp_path / "rejects.csv",
        url=url,
    )
    assert not outcome.refused and not outcome.imported.rejects
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(POLICIES, encoding="utf-8")
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        activate(session=session, path=policy_file, by="test", at=NOW, company=None)
        for account_id, name in HOLDERS.items():
            customers.set_holder(session=session, account=account(session, account_id), name=name)
    engine.dispose()


def account(session: Session, account_id: str) -> Account:
    found = session.scalar(select(Account).where(Account.account_id == account_id))
    assert found is not None
    return found


def stores(backend: str, tmp_path: Path) -> Iterator[str]:
    """A store of `backend` with the world in it (a fixture's body: `yield from`)."""
    for url in database(backend, tmp_path):
        build_store(url, tmp_path)
        yield url


@dataclass
class World:
    url: str
    engine: Engine
    app: FastAPI
    client: TestClient

    def session(self) -> Session:
        return sessions(self.engine)()


def make_app(url: str, *, demo: bool = True, **settings_given: int) -> FastAPI:
    settings = Settings(database_url=url, secret_key=SECRET, demo=demo, **settings_given)
    app = create_app(settings)
    app.dependency_overrides[deps.now] = lambda: NOW
    return app


def worlds(backend: str, tmp_path: Path) -> Iterator[World]:
    """The world served by the application, with a browser (a fixture's body)."""
    for url in stores(backend, tmp_path):
        app = make_app(url)
        engine = make_engine(url)
        with TestClient(app) as client:
            yield World(url, engine, app, client)
        app.state.engine.dispose()
        engine.dispose()


PAGE_TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')
_SESSION_TOKENS: dict[str, str] = {}
"""The CSRF token each signed-in session's pages carry, by session cookie (each is new)."""


def csrf(client: TestClient) -> str:
    """The token this browser's forms carry: its session's once signed in (read from a page),
    else its CSRF cookie's (a first page visit sets it)."""
    session = client.cookies.get("sbt_session")
    if session is not None:
        if session not in _SESSION_TOKENS:
            found = PAGE_TOKEN.search(client.get("/").text)
            assert found is not None
            _SESSION_TOKENS[session] = found.group(1)
        return _SESSION_TOKENS[session]
    if "sbt_csrf" not in client.cookies:
        client.get("/")
    token = client.cookies.get("sbt_csrf")
    assert token
    return token


def post(client: TestClient, path: str, data: dict[str, str] | None = None) -> Response:
    """A form post with this browser's CSRF token, redirects not followed."""
    return client.post(
        path, data={"csrf_token": csrf(client), **(data or {})}, follow_redirects=False
    )


def last_code(engine: Engine, phone: str) -> str:
    """The code in the newest SMS queued for `phone` (as the phone would receive it)."""
    with sessions(engine)() as session:
        rows = session.scalars(
            select(SmsMessage)
            .where(SmsMessage.phone == phone, SmsMessage.category == "sign_in")
            .order_by(SmsMessage.id.desc())
        )
        for row in rows:
            found = CODE.search(row.text)
            assert found is not None
            return found.group(0)
    raise AssertionError(f"no SMS to {phone}")


def sign_in(world: World, phone: str, client: TestClient | None = None) -> TestClient:
    browser = client or world.client
    assert post(browser, "/signin/code", {"phone": phone}).status_code == 200
    answer = post(
        browser, "/signin/verify", {"phone": phone, "code": last_code(world.engine, phone)}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/accounts"
    return browser


LAST_BILLS = {"P1": "90.00", "P2": "50.00", "D1": "60.00", "K1": "50.00", "G1": "20.00"}
"""What binding asks besides the name, as of 2020-03-10: each postpaid account's latest bill
(P1's B3 of 03-05), each prepaid meter's opening balance (no top-up yet)."""


def bind(
    browser: TestClient, account_id: str, region: str, name: str, last_bill: str | None = None
) -> Response:
    return post(
        browser,
        "/accounts/bind",
        {
            "region": region,
            "account_id": account_id,
            "holder_name": name,
            "last_bill": LAST_BILLS.get(account_id, "30.00") if last_bill is None else last_bill,
        },
    )


def start_payment(browser: TestClient, account_id: str, amount: str) -> str:
    """Ask to pay `amount` yuan on the account's pay page; returns the order number the
    browser was sent to the provider's checkout with."""
    answer = post(browser, f"/accounts/{account_id}/pay", {"amount": amount})
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("/sandbox-pay/checkout/SP")
    assert browser.get(location).status_code == 200
    return location.rsplit("/", 1)[1]


def confirm_payment(browser: TestClient, number: str, notify: str = "once") -> str:
    """Press 确认支付 on the provider's page; returns where the browser is sent back."""
    answer = post(browser, f"/sandbox-pay/checkout/{number}/confirm", {"notify": notify})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])
