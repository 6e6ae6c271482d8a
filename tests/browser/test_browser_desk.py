"""The collections desk in the console, on a store of its own (the flow runs the daily job,
which the shared store's other flows must not see): a supervisor opens the worklist of a day's
proposed cut-offs, locks one account with a reason until a date, exports the list as XLSX (the
file opens with openpyxl and holds the rows shown), and the run of that day skips the locked
account; an agent records a promise to pay on another account; the day's orders go to the
field, a supervisor hands a reconnection's work order to a crew, and the crew's agent marks it
done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import openpyxl
import pytest
from browser_steps import console_sign_in, shot
from browser_world import SCREENSHOTS, Visits, build_store, staff_by_utility, start_server
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.demo import DEMO_PASSWORD
from sanbuting.staff import teams
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Company, Run, StoredAction
from sanbuting.store.web_models import Staff

CUT_OFF_DAY = date(2020, 3, 18)
"""The demo store is recorded through 2020-03-10; the power company's first proposed
disconnections after the epidemic exempts end fall on this day."""


@pytest.fixture(scope="module")
def desk(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Visits, dict[tuple[str, str], str]]]:
    url, store = build_store(tmp_path_factory.mktemp("desk-store"))
    base, running = start_server(url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visits = Visits(browser, base)
    try:
        yield url, base, visits, staff_by_utility(url, store)
    finally:
        visits.close()
        running.stop()
    assert not visits.errors, "pages logged errors:\n" + "\n".join(visits.errors)


def cli(*args: str, url: str) -> None:
    result = CliRunner().invoke(app, list(args), env={"SANBUTING_DATABASE_URL": url})
    assert result.exit_code == 0, (args, result.output, result.exception)


def make_crew(url: str, company: str, username: str) -> None:
    """The company's crew `east`, with `username` in it."""
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            found = session.scalar(select(Company).where(Company.code == company))
            member = session.scalar(select(Staff).where(Staff.username == username))
            assert found is not None and member is not None
            crew = teams.add_team(session=session, company=found, code="east", name="东区班组")
            teams.join(session=session, team=crew, member=member)
    finally:
        engine.dispose()


def shown_accounts(page: Page) -> list[str]:
    rows = page.locator("[data-test=work-row]")
    accounts: list[str] = rows.evaluate_all("rows => rows.map(r => r.dataset.account)")
    return accounts


def recorded_cut_offs(url: str, day: date) -> set[str]:
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            found = session.execute(
                select(Account.account_id)
                .join(StoredAction, StoredAction.account == Account.id)
                .join(Run, Run.id == StoredAction.run)
                .where(Run.day == day, StoredAction.action == "disconnect")
            )
            return {row[0] for row in found}
    finally:
        engine.dispose()


def test_supervisor_locks_a_proposed_cut_off_and_agent_records_a_promise(
    desk: tuple[str, str, Visits, dict[tuple[str, str], str]],
) -> None:
    url, _, visits, staff = desk
    supervisor = visits.desktop()
    console_sign_in(supervisor, staff[("power", "supervisor")], DEMO_PASSWORD)
    supervisor.locator("#nav-worklist").click()
    expect(supervisor.locator("#worklist")).to_have_attribute("data-day", "2020-03-11")
    supervisor.locator("#filter-day").fill(CUT_OFF_DAY.isoformat())
    supervisor.locator("#filter-action").select_option("disconnect")
    supervisor.locator("#filter-submit").click()
    expect(supervisor.locator("#worklist")).to_have_attribute("data-day", "2020-03-18")
    rows = supervisor.locator("[data-test=work-row]")
    expect(rows.first).to_have_attribute("data-action", "disconnect")
    before = shown_accounts(supervisor)
    assert len(before) >= 2, "the demo store proposes several cut-offs on 2020-03-18"
    shot(supervisor, "40-console-worklist")

    chosen = before[0]
    supervisor.locator(f"[data-choose='{chosen}']").check()
    supervisor.locator("#lock-reason").select_option("medical")
    supervisor.locator("#lock-until").fill("2020-03-31")
    supervisor.locator("#lock-submit").click()
    expect(supervisor.locator("#locked")).to_be_visible()
    expect(supervisor.locator("#worklist")).to_have_attribute("data-day", "2020-03-18")
    expect(supervisor.locator(f"[data-test=work-row][data-account='{chosen}']")).to_have_count(0)
    after = shown_accounts(supervisor)
    assert after == before[1:]
    shot(supervisor, "41-console-worklist-locked")

    with supervisor.expect_download() as download:
        supervisor.locator("#export-xlsx").click()
    saved = SCREENSHOTS.parent / f"worklist-{CUT_OFF_DAY}.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename == saved.name
    sheet = openpyxl.load_workbook(saved).active
    assert sheet is not None
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][:3] == ("户号", "动作", "步骤")
    assert [row[0] for row in cells[1:]] == after
    assert {row[1] for row in cells[1:]} == {"disconnect"}

    run_daily(
        engine=make_engine(url),
        through=CUT_OFF_DAY,
        single=False,
        now=lambda: datetime(2020, 3, 18, 23, 0, tzinfo=UTC),
    )
    cut = recorded_cut_offs(url, CUT_OFF_DAY)
    assert chosen not in cut
    assert set(after) <= cut

    agent = visits.desktop()
    console_sign_in(agent, staff[("power", "agent")], DEMO_PASSWORD)
    agent.goto(f"/console/accounts/{after[0]}")
    expect(agent.locator("#holds")).to_be_visible()
    # an agent promises or agrees a plan; only a supervisor locks
    expect(agent.locator("#hold-kind option")).to_have_count(2)
    expect(agent.locator("#hold-kind option[value=hold]")).to_have_count(0)
    agent.locator("#hold-amount").fill("120.50")
    agent.locator("#hold-until").fill("2020-03-25")
    agent.locator("#hold-submit").click()
    promise = agent.locator("[data-test=hold-row][data-kind=promise]")
    expect(promise).to_have_count(1)
    expect(promise).to_have_attribute("data-until", "2020-03-25")
    expect(promise).to_contain_text("120.50")
    shot(agent, "42-console-promise")

    # The orders of the days run go to the field (the dispatcher re-checks each: an account
    # that has paid since keeps its service). Gas has a reconnection to make: a customer cut
    # off earlier paid.
    cli("dispatch", "--to", str(SCREENSHOTS.parent / "desk-orders.jsonl"), url=url)
    make_crew(url, "gas", staff[("gas", "agent")])
    gas_supervisor = visits.desktop()
    console_sign_in(gas_supervisor, staff[("gas", "supervisor")], DEMO_PASSWORD)
    gas_supervisor.goto("/console/field")
    reconnections = gas_supervisor.locator("[data-test=field-row][data-kind=reconnect]")
    expect(reconnections.first).to_have_attribute("data-status", "open")
    order = reconnections.first.get_attribute("data-order")
    row = gas_supervisor.locator(f"[data-test=field-row][data-order='{order}']")
    row.locator("[data-test=assign-form] select").select_option("east")
    row.locator("[data-test=assign-form] button").click()
    expect(row).to_have_attribute("data-status", "assigned")

    crew = visits.desktop()
    console_sign_in(crew, staff[("gas", "agent")], DEMO_PASSWORD)
    crew.goto("/console/field")
    mine = crew.locator(f"[data-test=field-row][data-order='{order}']")
    mine.locator("[data-test=report-form] select[name=outcome]").select_option("done")
    mine.locator("[data-test=report-form] button").click()
    expect(crew.locator("#field-done")).to_be_visible()
    crew.goto("/console/field?view=closed")
    expect(crew.locator(f"[data-test=field-row][data-order='{order}']")).to_have_attribute(
        "data-status", "done"
    )
    shot(crew, "43-console-field-done")
