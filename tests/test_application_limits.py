"""Limits on a customer's applications (issue 11, item 9), on SQLite and PostgreSQL: at most
`open_applications_per_customer` open and `applications_per_customer_day` submitted in an
Asia/Shanghai day, counted in the database (two submissions at once are counted one after the
other), refused with a sentence saying what to do — on the portal's form (zh-CN, 429) and in
the API (a 429 problem)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.applications import service as applications
from sanbuting.domain import SHANGHAI
from sanbuting.errors import TooMany
from sanbuting.settings import Settings
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Application, Customer
from sanbuting.web import deps
from sanbuting.web.app import create_app
from sanbuting.web.security import SESSION_COOKIE
from store_databases import BACKENDS
from test_api_world import NOW, World, worlds

METER_TEST = {"description": "走字太快", "contact_phone": "13800000009"}


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    """The application with small limits: 2 open applications, 3 a day."""
    app = create_app(
        Settings(
            database_url=world.url,
            secret_key="test-secret",
            open_applications_per_customer=2,
            applications_per_customer_day=3,
        )
    )
    app.dependency_overrides[deps.now] = lambda: NOW
    with TestClient(app) as made:
        yield made
    app.state.engine.dispose()


def submit(session: Session, now: datetime, **limits: int) -> str:
    """Alice (13900000001) asks for a meter test of P1 at `now`."""
    alice = session.scalar(select(Customer).where(Customer.phone == "13900000001"))
    p1 = session.scalar(select(Account).where(Account.account_id == "P1"))
    assert alice is not None and p1 is not None
    company = session.get(Company, p1.company_id)
    assert company is not None
    made = applications.submit(
        session=session,
        business="power-meter-test",
        company=company,
        account=p1,
        customer=alice,
        fields=METER_TEST,
        documents=["id_card"],
        now=now,
        **limits,
    )
    return made.number


def cancel(session: Session, number: str, now: datetime) -> None:
    found = session.scalar(select(Application).where(Application.number == number))
    assert found is not None
    applications.transition(
        session=session, application=found, status="cancelled", note="", by="customer", now=now
    )


def test_the_open_limit_counts_open_applications_only(world: World) -> None:
    engine = make_engine(world.url)
    begin = sessions(engine).begin
    with begin() as session:
        first = submit(session, NOW, max_open=2)
        submit(session, NOW, max_open=2)
    with begin() as session, pytest.raises(applications.TooManyOpen) as refused:
        submit(session, NOW, max_open=2)
    assert str(refused.value) == (
        "you have 2 applications open, the most allowed: wait until one is completed, or "
        "cancel one you no longer need, then apply again"
    )
    with begin() as session:
        cancel(session, first, NOW)
    with begin() as session:
        submit(session, NOW, max_open=2)  # a closed one no longer counts
    engine.dispose()


def test_the_daily_limit_counts_the_day_in_shanghai(world: World) -> None:
    late = datetime(2020, 3, 10, 23, 0, tzinfo=SHANGHAI)  # 15:00 UTC
    engine = make_engine(world.url)
    begin = sessions(engine).begin
    with begin() as session:
        submit(session, late, max_per_day=2)
        submit(session, late + timedelta(minutes=10), max_per_day=2)
    with begin() as session, pytest.raises(applications.TooManyToday) as refused:
        submit(session, late + timedelta(minutes=50), max_per_day=2)
    assert refused.value.retry_after == 600  # ten minutes to midnight in Shanghai
    assert "apply again tomorrow (Beijing time)" in str(refused.value)
    with begin() as session:  # 00:10 in Shanghai, the same day in UTC
        submit(session, late + timedelta(minutes=70), max_per_day=2)
    engine.dispose()


def test_two_submissions_at_once_are_counted_one_after_the_other(world: World) -> None:
    engine = make_engine(world.url)
    begin = sessions(engine).begin
    with begin() as session:
        submit(session, NOW, max_open=2)
    outcome: list[BaseException | str] = []

    def second_worker() -> None:
        try:
            with begin() as other:
                outcome.append(submit(other, NOW, max_open=2))
        except TooMany as exc:
            outcome.append(exc)

    with begin() as session:
        submit(session, NOW, max_open=2)  # the second, not committed yet
        worker = threading.Thread(target=second_worker)
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive()  # it waits for this transaction
    worker.join(timeout=60)
    engine.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], applications.TooManyOpen), outcome


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_the_portal_says_what_to_do_past_either_limit(world: World, client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, world.tokens["alice"])
    form = client.get("/business/power-meter-test")
    found = re.search(r'value="([0-9]+)" data-account="P1"', form.text)
    assert found
    data: dict[str, Any] = {
        "csrf_token": csrf_of(form.text),
        "account": found.group(1),
        "description": "走字太快",
        "contact_phone": "13800000009",
        "documents": ["id_card"],
    }

    def post() -> Any:
        return client.post("/business/power-meter-test", data=data, follow_redirects=False)

    numbers = []
    for _ in range(2):
        made = post()
        assert made.status_code == 303
        numbers.append(made.headers["location"].split("/")[-1].split("?")[0])
    refused = post()
    assert refused.status_code == 429
    assert 'id="form-limit"' in refused.text
    assert "您已有 2 件申请正在办理，已达上限" in refused.text and "撤销" in refused.text
    assert 'value="走字太快"' in refused.text or "走字太快</textarea>" in refused.text
    for number in numbers:
        done = client.post(
            f"/applications/{number}/cancel", data={"csrf_token": data["csrf_token"]}
        )
        assert done.status_code == 200
    assert post().status_code == 303  # the third today
    refused = post()
    assert refused.status_code == 429
    assert "您今天已提交 3 件申请，已达每日上限" in refused.text and "明天" in refused.text


def test_the_api_answers_a_429_problem_past_either_limit(world: World, client: TestClient) -> None:
    body = {
        "business": "power-meter-test",
        "account_id": "P1",
        "fields": METER_TEST,
        "documents": ["id_card"],
    }
    repair = {
        "business": "power-fault-repair",
        "account_id": "P1",
        "fields": {"fault": "no_power", "address": "越秀区1号", "contact_phone": "13900000001"},
    }

    def apply(path: str = "/api/v1/applications", json: dict[str, Any] = body) -> Any:
        return client.post(path, json=json, headers=world.auth("alice"))

    def cancel_by_staff(number: str) -> None:
        moved = client.post(
            f"/api/v1/staff/applications/{number}/transitions",
            json={"status": "cancelled", "note": "客户来电撤销"},
            headers=world.auth("agent_p"),
        )
        assert moved.status_code == 200

    first = apply()
    assert first.status_code == 201
    assert apply("/api/v1/tickets", repair).status_code == 201  # a ticket counts as well
    for path, json in (("/api/v1/applications", body), ("/api/v1/tickets", repair)):
        refused = apply(path, json)
        assert refused.status_code == 429, path
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 429
        assert "cancel one you no longer need" in refused.json()["detail"]
    cancel_by_staff(first.json()["number"])
    third = apply()
    assert third.status_code == 201  # the third today
    cancel_by_staff(third.json()["number"])
    refused = apply()
    assert refused.status_code == 429
    assert "apply again tomorrow" in refused.json()["detail"]
    assert refused.headers["retry-after"] == str(12 * 3600)  # from noon to midnight in Shanghai
