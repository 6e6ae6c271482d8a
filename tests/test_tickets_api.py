"""The staff ticket API (`/api/v1/staff/tickets`), the console's ticket worklists in
simplified Chinese (English second) and the team commands, on SQLite and PostgreSQL, over the
store of `helpers_tickets`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from helpers_tickets import STAFF, SUBMITTED, TICKETS, at, open_repairs, staff, ticket_store
from sanbuting.applications import tickets
from sanbuting.cli import app
from sanbuting.settings import Settings
from sanbuting.store.database import sessions
from sanbuting.web import deps
from sanbuting.web.app import create_app
from sanbuting.web.security import SESSION_COOKIE
from store_databases import BACKENDS
from test_api_world import new_session


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from ticket_store(request.param, tmp_path)


class Clock:
    """The application's clock, which a test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def api(engine: Engine) -> Iterator[tuple[TestClient, Clock, dict[str, str]]]:
    tokens = {}
    with sessions(engine).begin() as session:
        for username in STAFF:
            tokens[username] = new_session(session, staff_id=staff(session, username).id)
    app = create_app(
        Settings(
            database_url=engine.url.render_as_string(hide_password=False), secret_key="test-secret"
        )
    )
    moving = Clock(SUBMITTED)
    app.dependency_overrides[deps.now] = moving
    with TestClient(app) as client:
        yield client, moving, tokens
    app.state.engine.dispose()


def test_the_staff_ticket_api(
    engine: Engine, api: tuple[TestClient, Clock, dict[str, str]]
) -> None:
    client, moving, tokens = api
    numbers = open_repairs(engine)

    def call(method: str, path: str, who: str, **body: str) -> dict:
        answer = client.request(
            method,
            f"/api/v1{path}",
            headers={"Authorization": f"Bearer {tokens[who]}"},
            json=body or None,
        )
        return {**answer.json(), "http": answer.status_code}

    every = call("GET", "/staff/tickets?view=all", "boss")
    assert every["total"] == 5
    assert [t["account_id"] for t in every["items"]] == [row[0] for row in TICKETS]
    first = every["items"][0]
    assert first["fields"]["contact_phone"] == "139****0009"
    assert first["clock"] == {
        "area": "city",
        "milestone": "arrival",
        "due_at": "2020-02-03T10:45:00+08:00",
        "escalate_at": "2020-02-03T10:36:00+08:00",
        "stopped_at": None,
        "state": "running",
        "escalated": False,
        "seconds_left": 2700,
        "statutory_calendar": True,
    }
    hosp = numbers["HOSP"]
    assert call("PUT", f"/staff/tickets/{hosp}/assignee", "boss", team="repair")["team"] == "repair"
    assert (
        call("PUT", f"/staff/tickets/{hosp}/assignee", "lead", username="fixer")["assignee"]
        == "fixer"
    )
    refused = call("PUT", f"/staff/tickets/{hosp}/assignee", "lead", team="desk")
    assert refused["http"] == 403
    assert (
        call("PUT", f"/staff/tickets/{hosp}/assignee", "boss", username="fixer", team="desk")[
            "status"
        ]
        == 400
    )
    moving.now = at("2020-02-03 10:36")
    lead_view = call("GET", "/staff/tickets?view=escalated", "lead")
    assert [t["number"] for t in lead_view["items"]] == [hosp]
    assert lead_view["items"][0]["clock"]["escalated"] is True
    assert call("GET", "/staff/tickets?view=escalated", "fixer")["http"] == 403
    assert [t["number"] for t in call("GET", "/staff/tickets?view=mine", "fixer")["items"]] == [
        hosp
    ]
    moving.now = at("2020-02-03 10:44")
    arrived = call("POST", f"/staff/tickets/{hosp}/arrived", "fixer", note="已到现场")
    assert (arrived["http"], arrived["clock"]["state"], arrived["clock"]["seconds_left"]) == (
        200,
        "met",
        60,
    )
    done = call("POST", f"/staff/tickets/{hosp}/done", "fixer", note="已恢复供电")
    assert [e["status"] for e in done["history"]] == [
        "submitted",
        "accepted",
        "in_progress",
        "completed",
    ]
    assert call("POST", f"/staff/tickets/{hosp}/done", "fixer")["http"] == 409
    assert call("GET", "/staff/tickets/SQ20200203999999", "boss")["http"] == 404


def test_the_console_worklists_in_simplified_chinese(
    engine: Engine, api: tuple[TestClient, Clock, dict[str, str]]
) -> None:
    client, moving, tokens = api
    numbers = open_repairs(engine)
    with sessions(engine).begin() as session:
        boss = staff(session, "boss")
        for account_id in ("GZ1", "HOSP"):
            ticket = tickets.get_ticket(session=session, staff=boss, number=numbers[account_id])
            tickets.assign(session=session, ticket=ticket, by=boss, team="repair")
    moving.now = at("2020-02-03 10:40")

    def console(who: str, path: str) -> str:
        client.cookies.set(SESSION_COOKIE, tokens[who])
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text

    page = console("lead", "/console/tickets?view=escalated")
    rows = re.findall(
        r'data-number="(SQ[0-9]+)" data-priority="([0-9])" data-state="([a-z]+)"', page
    )
    assert rows == [(numbers["HOSP"], "1", "escalated"), (numbers["GZ1"], "3", "escalated")]
    assert "已升级" in page and "剩余 5 分钟" in page and "城东抢修班" in page
    assert "Escalated" not in page and "escalated</" not in page
    refused = console("lonely", "/console/tickets?view=team")
    assert 'id="tickets-refused"' in refused and "您尚未加入班组" in refused
    one = console("boss", f"/console/applications/{numbers['HOSP']}")
    assert 'id="application-clock" data-state="escalated"' in one
    assert "承诺到达现场，城区" in one and "2020-02-03 10:36" in one
    # the language chosen sticks (a cookie): English last
    assert "5 min left" in console("lead", "/console/tickets?view=escalated&lang=en")


def test_the_team_commands(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANBUTING_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["staff", *args])
        return result.exit_code, (result.stdout + result.stderr).strip()

    assert run("team", "night", "--company", "power", "--name", "夜班抢修") == (
        0,
        "team night added to power",
    )
    assert run("team", "night", "--company", "power", "--name", "x") == (
        1,
        "error: power has a team 'night' already: choose another code",
    )
    assert run("join", "lonely", "--team", "night", "--lead") == (
        0,
        "lonely is in team night and leads it",
    )
    assert run("join", "lonely", "--team", "nowhere")[0] == 1
    code, listed = run("teams", "--company", "power")
    assert code == 0
    assert listed.splitlines() == [
        "desk\t客服班\tother",
        "night\t夜班抢修\tlonely*",
        "repair\t城东抢修班\tfixer lead*",
    ]
