"""The small world the API tests run in (`world(url, tmp_path)`), and checks of the world itself.

Two companies: `power` (accounts P1, P2 and the prepaid K1 in Guangzhou 越秀区 440104) and
`gas` (G1). Alice has bound P1, K1 and G1; Bob has bound P2; Carol has bound nothing. Staff of
power: an agent, a supervisor, a regulator, a policy administrator and a cashier; of gas: an
agent. A bank channel posts payments to each company (its API key among the tokens). The
2020 epidemic policy set is active (P1's January bill accrues no late fee in February) and
the daily run has decided 2020-01-01 through 2020-03-09. The API's clock says 2020-03-10 12:00
in Shanghai. Tokens are made directly in the store (the sign-in flow has tests of its own)."""

from __future__ import annotations

import atexit
import csv
import shutil
import sqlite3
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.guard.hashing import hash_password, new_token, token_hash
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.payments.channels import add_credential
from sanbuting.settings import Settings
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Binding, Customer, Holder, Staff, WebSession
from sanbuting.web import deps
from sanbuting.web.app import create_app
from store_databases import BACKENDS, database

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = date(2020, 1, 1)
NOW = datetime(2020, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
PASSWORD = "correct horse battery staple"

ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    P1,power,residential,440104,postpaid,,active,0,0,13800000001
    P2,power,residential,440104,postpaid,,active,0,0,13800000002
    K1,power,residential,440104,prepaid,,active,5000,0,13800000004
    G1,gas,residential,440104,postpaid,,active,0,0,13800000003
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,P1,2020-01,2020-01-05,2020-01-20,10000
    B2,P1,2020-02,2020-02-05,2020-02-20,8000
    B3,P2,2020-01,2020-01-05,2020-01-20,5000
    BG,G1,2020-01,2020-01-05,2020-01-20,3000
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
    PK0,K1,2020-01-10T09:00:00+08:00,1000,app
"""
USAGE = """
    account_id,date,amount_fen
    K1,2020-01-02,300
"""
HOLDERS = {"P1": "王小明", "P2": "李四", "K1": "王小明", "G1": "王小明"}
CUSTOMERS = {"alice": ("13900000001", ["P1", "K1", "G1"]), "bob": ("13900000002", ["P2"])}
CUSTOMERS["carol"] = ("13900000003", [])
STAFF = {
    "agent_p": ("power", "agent"),
    "super_p": ("power", "supervisor"),
    "reg_p": ("power", "regulator"),
    "admin_p": ("power", "policy_admin"),
    "agent_g": ("gas", "agent"),
    "cash_p": ("power", "cashier"),
}
CHANNELS = {
    "bank_p": ("power", "bank", ["bank", "bank-icbc"], 5_000_000),
    "bank_g": ("gas", "bank", ["bank"], 1_000_000),
}
"""Bank channels' API keys (tokens by name): the company they pay into, labels, limit."""


@dataclass
class World:
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    """Bearer tokens by customer or staff name."""

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def write_folder(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        rows = [line.strip() for line in textwrap.dedent(text).splitlines() if line.strip()]
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(row.split(",") for row in rows)
    return folder


def build_world(url: str, tmp_path: Path, *, daily: bool) -> World:
    """The world of the module docstring in the empty database at `url`."""
    upgrade(url)
    folder = write_folder(
        tmp_path / "data", accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS, usage=USAGE
    )
    outcome = import_and_book(
        data=folder,
        start=ORIGIN,
        company=None,
        by="test",
        allow_rejects=False,
        rejects_file=tmp_path / "rejects.csv",
        url=url,
    )
    assert not outcome.refused and not outcome.imported.rejects
    engine = make_engine(url)
    world = World(url)
    try:
        with sessions(engine).begin() as session:
            activate(
                session=session,
                path=ROOT / "examples" / "policies" / "2020-epidemic.yaml",
                by="test",
                at=NOW,
                company=None,
            )
        if daily:
            run_daily(engine=engine, through=date(2020, 3, 9), single=False, now=lambda: NOW)
        with sessions(engine).begin() as session:
            accounts = {a.account_id: a for a in session.scalars(select(Account))}
            companies = {c.code: c for c in session.scalars(select(Company))}
            for account_id, name in HOLDERS.items():
                session.add(Holder(account=accounts[account_id].id, name=name))
            for who, (phone, bound) in CUSTOMERS.items():
                customer = Customer(phone=phone, created_at=NOW)
                session.add(customer)
                session.flush()
                for account_id in bound:
                    session.add(
                        Binding(
                            customer_id=customer.id, account=accounts[account_id].id, created_at=NOW
                        )
                    )
                world.tokens[who] = new_session(session, customer_id=customer.id)
            hashed = password_hash()
            for who, (code, role) in STAFF.items():
                member = Staff(
                    company_id=companies[code].id,
                    username=who,
                    name=who,
                    role=role,
                    password_hash=hashed,
                    active=True,
                )
                session.add(member)
                session.flush()
                world.tokens[who] = new_session(session, staff_id=member.id)
            for who, (code, kind, labels, limit) in CHANNELS.items():
                _, key = add_credential(
                    session=session,
                    company=companies[code],
                    name=who.replace("_", "-"),
                    kind=kind,
                    channels=labels,
                    max_amount_fen=limit,
                    now=NOW,
                )
                world.tokens[who] = key
    finally:
        engine.dispose()
    return world


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def new_session(
    session: Session, *, customer_id: int | None = None, staff_id: int | None = None
) -> str:
    token = new_token()
    moment = datetime.now(tz=UTC)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            kind="staff" if staff_id is not None else "customer",
            customer_id=customer_id,
            staff_id=staff_id,
            csrf_token=new_token(),
            created_at=moment,
            last_seen_at=moment,
        )
    )
    return token


_TEMPLATES: dict[bool, tuple[Path, World]] = {}
"""SQLite worlds built once per process (by `daily`), copied for each test."""


def worlds(backend: str, tmp_path: Path, *, daily: bool = False) -> Iterator[World]:
    """The world in an empty database of `backend` (for a module's `world` fixture); with
    `daily`, the daily run has decided its days (slower: only tests of figures need it)."""
    for url in database(backend, tmp_path):
        if backend != "sqlite":
            yield build_world(url, tmp_path, daily=daily)
            return
        if daily not in _TEMPLATES:
            folder = Path(tempfile.mkdtemp(prefix="api-world-"))
            atexit.register(shutil.rmtree, folder, True)
            built = build_world(f"sqlite:///{folder / 'store.db'}", folder, daily=daily)
            _TEMPLATES[daily] = (folder / "store.db", built)
        template, built = _TEMPLATES[daily]
        target = url.removeprefix("sqlite:///")
        with sqlite3.connect(template) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        yield World(url, dict(built.tokens))


def make_app(url: str, *, demo: bool = False) -> FastAPI:
    """The application over the store at `url`, its clock at NOW (`demo`: with the sandbox
    payment provider)."""
    app = create_app(Settings(database_url=url, secret_key="test-secret", demo=demo))
    app.dependency_overrides[deps.now] = lambda: NOW
    return app


def clients(world: World, *, demo: bool = False) -> Iterator[TestClient]:
    """A client of the application over the world's store, its clock at NOW."""
    app = make_app(world.url, demo=demo)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


def test_the_world_has_its_accounts_and_people(world: World, client: TestClient) -> None:
    mine = client.get("/api/v1/me/accounts", headers=world.auth("alice"))
    assert mine.status_code == 200
    assert [(a["account_id"], a["company"]) for a in mine.json()["items"]] == [
        ("P1", "power"),
        ("K1", "power"),
        ("G1", "gas"),
    ]
    assert client.get("/api/v1/me/accounts", headers=world.auth("carol")).json() == {"items": []}
