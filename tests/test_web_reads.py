"""On SQLite a request that only reads does not wait for the database's single write lock.

`make_engine` begins every SQLite transaction with `BEGIN IMMEDIATE`, so without read-only
sessions a bill page queues behind every payment. Here another connection holds the write lock
(an open `BEGIN IMMEDIATE`) while the API is asked for P1's bills: with the application's
read-only sessions the answer comes at once; with them switched off the same request waits for
the lock (shown with a timeout, then the lock is released). A read-only session refuses writes
outright (`PRAGMA query_only`), so a read path that writes fails in every test, not only under
load; and what a read must write (here: booking the ledger through a later day) is written
through `write_aside`, committed on its own."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from sanbuting.store.models import Account
from sanbuting.web import deps
from test_api_world import World, clients, worlds

BILLS = "/api/v1/accounts/P1/bills"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from worlds("sqlite", tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


def hold_write_lock(world: World) -> sqlite3.Connection:
    holder = sqlite3.connect(world.url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_read_does_not_wait_for_the_write_lock(world: World, client: TestClient) -> None:
    auth = world.auth("alice")
    assert client.get(BILLS, headers=auth).status_code == 200  # books through today first
    holder = hold_write_lock(world)
    try:
        answer = client.get(BILLS, headers=auth)
        assert answer.status_code == 200
        assert [b["bill_id"] for b in answer.json()["items"]] == ["B2", "B1"]
    finally:
        holder.rollback()
        holder.close()


def test_without_read_sessions_the_same_read_waits(world: World, client: TestClient) -> None:
    auth = world.auth("alice")
    assert client.get(BILLS, headers=auth).status_code == 200
    client.app.state.read_sessions = None  # type: ignore[attr-defined]
    holder = hold_write_lock(world)
    answers: list[int] = []
    asking = threading.Thread(
        target=lambda: answers.append(client.get(BILLS, headers=auth).status_code)
    )
    try:
        asking.start()
        asking.join(timeout=1.5)
        assert asking.is_alive() and answers == []  # waiting for the write lock
    finally:
        holder.rollback()
        holder.close()
    asking.join(timeout=60)
    assert answers == [200]


def test_a_read_only_session_refuses_writes(client: TestClient) -> None:
    readers = client.app.state.read_sessions  # type: ignore[attr-defined]
    with readers() as session, pytest.raises(OperationalError, match="readonly"):
        session.execute(text("UPDATE accounts SET region = region"))


def test_a_read_books_through_a_later_day_aside(world: World, client: TestClient) -> None:
    later = datetime(2020, 3, 20, 4, 0, tzinfo=UTC)
    client.app.dependency_overrides[deps.now] = lambda: later  # type: ignore[attr-defined]
    answer = client.get("/api/v1/accounts/P1", headers=world.auth("alice"))
    assert answer.status_code == 200
    assert answer.json()["as_of"] == "2020-03-20"
    writer = client.app.state.sessions  # type: ignore[attr-defined]
    with writer() as session:
        booked = session.scalar(select(Account.booked_through).where(Account.account_id == "P1"))
    assert booked is not None and booked.isoformat() == "2020-03-20"
