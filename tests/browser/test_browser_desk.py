"""The collections desk in the console, on a store of its own (the flow runs the daily job,
which the shared store's other flows must not see): a supervisor opens the worklist of a day's
proposed cut-offs, locks one account with a reason until a date, exports the list as XLSX (the
file opens with openpyxl and holds the rows shown), and the run of that day skips the locked
account; an agent records a promise to pay on another account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import openpyxl
import pytest
from browser_steps import console_sign_in, shot
from browser_world import SCREENSHOTS, Visits, build_store, staff_by_utility, start_server
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.demo import DEMO_PASSWORD
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Run, StoredAction

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
    expect(agent.locator("#hold-kind option")).to_have_count(1)  # an agent only promises
    agent.locator("#hold-amount").fill("120.50")
    agent.locator("#hold-until").fill("2020-03-25")
    agent.locator("#hold-submit").click()
    promise = agent.locator("[data-test=hold-row][data-kind=promise]")
    expect(promise).to_have_count(1)
    expect(promise).to_have_attribute("data-until", "2020-03-25")
    expect(promise).to_contain_text("120.50")
    shot(agent, "42-console-promise")
