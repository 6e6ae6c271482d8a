"""The browser tests' world: a small demo store served live, and pages that record errors.

- `build_store` generates 300 accounts (seed 2020), seeds them with `seed_demo` into a SQLite
  file and picks the accounts the flows need (`pick_accounts`: one in arrears with its relief
  status, one to quick-pay, a power account to apply with) and the staff sign-ins.
- `start_server` serves the app with uvicorn on a free 127.0.0.1 port from a background
  thread, on a business clock pinned to 2020-03-10 that moves with the real time of day.
- `Visits` opens phone-width (390x844) or desktop pages in fresh browser contexts and collects
  every console error and uncaught page error (CSP violations included).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    WebError,
    expect,
)
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sanbuting.customers.service import proof_fen
from sanbuting.domain import format_yuan
from sanbuting.generate import GenerateRequest, generate
from sanbuting.jobs.demo import DEMO_PASSWORD, DemoStore, holder_name, seed_demo
from sanbuting.relief.status import account_position, protection_status
from sanbuting.settings import Settings
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Company
from sanbuting.web import deps
from sanbuting.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = date(2020, 1, 1)
BUSINESS_DAY = date(2020, 3, 10)
ACCOUNTS = 300
SEED = 2020
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
TIMEOUT_MS = 30_000
"""Generous: the machine running the suite may be busy."""

expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Pick:
    """An account of the demo store as a customer knows it, with its position on the day."""

    account_id: str
    region: str
    holder: str
    utility: str
    billing_mode: str
    arrears_fen: int
    due_fen: int
    protections: int
    """Relief policies covering it, now or later ("Am I protected?")."""
    last_bill: str
    """What binding asks besides the name (its latest bill, or top-up, in yuan)."""


@dataclass(frozen=True)
class Live:
    """The running server and what the flows need from its store."""

    url: str
    in_arrears: Pick
    """Postpaid, arrears above 0, covered by a relief policy when one such account exists."""
    quick: Pick
    """Postpaid with an amount due, for quick pay."""
    power: Pick
    """A power account to bind and apply with (meter test)."""
    staff: dict[tuple[str, str], str]
    """(utility, role) → username; every password is `password`."""
    password: str = DEMO_PASSWORD


def business_clock() -> Callable[[], datetime]:
    """2020-03-10 at the real time of day (Asia/Shanghai), moving with the real clock; started
    no later than 20:00 so that a session never crosses into the next day."""
    wall = datetime.now(tz=SHANGHAI).time().replace(microsecond=0, tzinfo=None)
    start = datetime.combine(BUSINESS_DAY, min(wall, clock_time(20, 0)), tzinfo=SHANGHAI)
    began = time.monotonic()

    def now() -> datetime:
        return (start + timedelta(seconds=time.monotonic() - began)).astimezone(UTC)

    return now


def build_store(folder: Path) -> tuple[str, DemoStore]:
    """The demo store in `folder` (a SQLite file): its URL and what `seed_demo` made."""
    data = folder / "data"
    generate(GenerateRequest(accounts=ACCOUNTS, out=data, seed=SEED))
    url = f"sqlite:///{folder / 'store.db'}"
    store = seed_demo(
        url=url,
        data=data,
        policies=POLICIES,
        start=START,
        through=BUSINESS_DAY,
        rejects=folder / "rejects.csv",
    )
    return url, store


def _pick(
    session: Session, account: Account, arrears: int, due: int, protections: int
) -> Pick | None:
    """The account as a customer knows it; None if it cannot be bound online."""
    proof = proof_fen(session=session, account=account, on=BUSINESS_DAY)
    if proof is None:
        return None
    return Pick(
        account.account_id,
        account.region,
        holder_name(account.account_id),
        account.utility,
        account.billing_mode,
        arrears,
        due,
        protections,
        format_yuan(proof),
    )


def pick_accounts(url: str) -> tuple[Pick, Pick, Pick]:
    """(in arrears, to quick-pay, power) from the store, three different accounts."""
    engine = make_engine(url)
    covered: Pick | None = None
    owing: list[Pick] = []
    power: Pick | None = None
    try:
        with sessions(engine).begin() as session:
            stamp = datetime.now(tz=UTC)
            for account in session.scalars(select(Account).order_by(Account.account_id)):
                if account.billing_mode != "postpaid":
                    if power is None and account.utility == "power":
                        power = _pick(session, account, 0, 0, 0)
                    continue
                position = account_position(
                    session=session, account=account, on=BUSINESS_DAY, now=stamp
                )
                if position.due_fen <= 0 or position.arrears_fen <= 0:
                    if power is None and account.utility == "power":
                        power = _pick(session, account, position.arrears_fen, position.due_fen, 0)
                    continue
                shield = protection_status(session=session, account=account, on=BUSINESS_DAY)
                chosen = _pick(
                    session, account, position.arrears_fen, position.due_fen, len(shield)
                )
                if chosen is None:
                    continue
                if covered is None and any(p.active for p in shield):
                    covered = chosen
                else:
                    owing.append(chosen)
                if covered is not None and len(owing) >= 2 and power is not None:
                    break
    finally:
        engine.dispose()
    in_arrears = covered or owing.pop(0)
    quick = next(p for p in owing if p.account_id != in_arrears.account_id)
    assert power is not None, "the demo store has no power account"
    return in_arrears, quick, power


def staff_by_utility(url: str, store: DemoStore) -> dict[tuple[str, str], str]:
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            utility = {c.code: c.utility for c in session.scalars(select(Company))}
    finally:
        engine.dispose()
    return {(utility[code], role): username for username, role, code in store.staff}


@dataclass
class Running:
    """The server thread, its listening socket and its app's database engine."""

    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket
    engine: Engine

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
        self.engine.dispose()


def start_server(url: str) -> tuple[str, Running]:
    """Serve the app on a free port of 127.0.0.1 from a thread; return its base URL."""
    secret = "browser-tests-" + os.urandom(8).hex()
    app = create_app(Settings(database_url=url, demo=True, secret_key=secret))
    app.dependency_overrides[deps.now] = business_clock()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped while starting")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return base, Running(server, thread, sock, app.state.engine)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the test server did not answer {base}/healthz in 60 s")
        time.sleep(0.1)


@dataclass
class Visits:
    """Pages of one test, each in its own browser context (its own cookies: one person)."""

    browser: Browser
    base_url: str
    errors: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def phone(self) -> Page:
        """A customer's phone: 390x844, touch, zh-CN."""
        return self._open(PHONE, mobile=True)

    def desktop(self) -> Page:
        """A member of staff at a desk: 1280x900, zh-CN."""
        return self._open(DESKTOP, mobile=False)

    def _open(self, viewport: ViewportSize, *, mobile: bool) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport,
            is_mobile=mobile,
            has_touch=mobile,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", self._console)
        context.on("weberror", self._web_error)
        self.contexts.append(context)
        return context.new_page()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.page.url if message.page is not None else "?"
            source = message.location.get("url") or "?"
            self.errors.append(f"console error on {where} (from {source}): {message.text}")

    def _web_error(self, error: WebError) -> None:
        where = error.page.url if error.page is not None else "?"
        self.errors.append(f"page error on {where}: {error.error}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()
