"""Browser flows of the companies' figures on a desktop (1280x900) and a phone: the deployment
regulator's dashboard compares the demo store's three companies (power, telecom and gas, each
with its name and group) in a table and three charts, opens one company's page, and is refused
every account page; a supervisor's dashboard has its company's charts. Every chart is inline
SVG, no page scrolls sideways, and each page is saved as a screenshot in the test's temporary
folder (never committed)."""

from __future__ import annotations

import re
from pathlib import Path

from browser_steps import console_sign_in
from browser_world import Live, Visits
from playwright.sync_api import Page, expect

from sanbuting.jobs.demo import DEMO_COMPANIES

COMPARED = ("by_company", "weekly_by_company", "provinces_by_company")
ONE_COMPANY = ("protected_by_day", "people_times_by_week", "by_province")
SUPERVISOR = ("protected_by_day", "people_times_by_week")
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def save(page: Page, folder: Path, name: str) -> Path:
    """The whole page as `folder`/`name`.png."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def charts_drawn(page: Page, names: tuple[str, ...]) -> None:
    """Each chart of `names` is there, in that order, as a visible inline SVG of some size."""
    shown = page.locator("#dashboard-charts figure.chart")
    expect(shown).to_have_count(len(names))
    assert [shown.nth(n).get_attribute("data-chart") for n in range(len(names))] == list(names)
    for name in names:
        svg = page.locator(f"figure.chart[data-chart={name}] > svg")
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80, (name, box)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate(OVERFLOW) <= 0, f"{page.url} scrolls sideways"


def test_the_deployment_regulator_compares_three_companies(
    server: Live, visit: Visits, tmp_path: Path
) -> None:
    regulator = visit.desktop()
    (username,) = [u for (_, role), u in server.staff.items() if role == "deployment_regulator"]
    console_sign_in(regulator, username, server.password)
    expect(regulator.locator("#companies-head")).to_have_attribute("data-scope", "deployment")
    rows = regulator.locator("#company-table [data-test=company-row]")
    expect(rows).to_have_count(3)
    assert [rows.nth(n).get_attribute("data-company") for n in range(3)] == [
        "power",
        "telecom",
        "gas",
    ]
    for code, (name, group) in DEMO_COMPANIES.items():
        row = regulator.locator(f"#company-table [data-test=company-row][data-company={code}]")
        expect(row.get_by_role("link", name=name)).to_be_visible()
        expect(row.locator("[data-test=group]")).to_have_text(group)
        events = row.locator("[data-figure=exempt_events]")
        expect(events).to_have_attribute("data-value", re.compile(r"^[0-9]+$"))
    total = regulator.locator("#company-table [data-test=company-total] [data-figure=accounts]")
    expect(total).to_have_attribute("data-value", re.compile(r"^[1-9][0-9]*$"))
    charts_drawn(regulator, COMPARED)
    expect(regulator.locator("#nav-accounts")).to_have_count(0)
    expect(regulator.locator("#nav-applications")).to_have_count(0)
    no_sideways_scroll(regulator)
    save(regulator, tmp_path, "deployment-regulator-dashboard")

    name, _ = DEMO_COMPANIES["telecom"]
    regulator.locator("#company-table").get_by_role("link", name=name).click()
    expect(regulator).to_have_url(re.compile(r"/console/companies/telecom$"))
    expect(regulator.locator("#company h1")).to_have_text(name)
    charts_drawn(regulator, ONE_COMPANY)
    expect(regulator.locator("#week-table [data-test=week-row]").first).to_be_visible()
    expect(regulator.locator("#province-table [data-test=province-row]").first).to_be_visible()
    no_sideways_scroll(regulator)
    save(regulator, tmp_path, "deployment-regulator-company")

    for path in ("/console/accounts", "/console/worklist", "/console/applications"):
        answer = regulator.request.get(path)  # as the signed-in regulator, never shown
        assert answer.status == 403, (path, answer.status)

    phone = visit.phone()
    console_sign_in(phone, username, server.password)
    expect(phone.locator("#company-table [data-test=company-row]")).to_have_count(3)
    charts_drawn(phone, COMPARED)
    no_sideways_scroll(phone)
    save(phone, tmp_path, "deployment-regulator-dashboard-phone")


def test_the_supervisors_dashboard(server: Live, visit: Visits, tmp_path: Path) -> None:
    supervisor = visit.desktop()
    console_sign_in(supervisor, server.staff[("power", "supervisor")], server.password)
    expect(supervisor.locator("#status-counts")).to_be_visible()
    expect(supervisor.locator("#today-figures")).to_be_visible()
    charts_drawn(supervisor, SUPERVISOR)
    no_sideways_scroll(supervisor)
    save(supervisor, tmp_path, "supervisor-dashboard")

    supervisor.locator("#nav-companies").click()
    rows = supervisor.locator("#company-table [data-test=company-row]")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-company", "power")
    expect(supervisor.locator("#companies-head")).to_have_attribute("data-scope", "company")
    no_sideways_scroll(supervisor)
    save(supervisor, tmp_path, "supervisor-company-figures")
