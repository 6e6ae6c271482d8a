"""Browser flows of the staff console on a desktop (1280x900): an agent works an application a
customer submitted from a phone (the customer sees the new status) and searches an account;
a policy administrator uploads a relief-policy file, reads its what-if figures, activates it
and sees the new version with who and when. Screenshots of the console's main pages."""

from __future__ import annotations

import re
from pathlib import Path

from browser_steps import console_sign_in, shot, sign_in, submit_fault_repair
from browser_world import Live, Visits
from playwright.sync_api import expect

REPORTER = "13700003003"
NOTE = "已受理：抢修人员已出发，预计 45 分钟内到达。"
ADDRESS = "武汉市江岸区沿江大道 100 号"
EXTRA_POLICY = """policies:
  # The power company's own set: every power account is exempt from cut-offs in March 2020.
  - id: browser-test-power-exempt-march-2020
    title: 浏览器测试 2020 年 3 月欠费不停电
    effect: exempt
    scope:
      utility: [power]
    window: {start: 2020-03-01, end: 2020-04-01}
"""
"""The power company's own set: the 2020 set stays in force deployment-wide, as the other flows
rely on, and this comes after it for power's accounts alone."""
WHEN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")


def test_agent_works_an_application(server: Live, visit: Visits) -> None:
    customer = visit.phone()
    sign_in(customer, REPORTER)
    number = submit_fault_repair(customer, ADDRESS)

    agent = visit.desktop()
    username = server.staff[("power", "agent")]
    console_sign_in(agent, username, server.password, screens=True)
    expect(agent.locator("#status-counts")).to_be_visible()
    expect(agent.locator("#today-figures")).to_be_visible()
    shot(agent, "18-console-dashboard")

    agent.locator("#nav-applications").click()
    row = agent.locator(f"#queue [data-test=queue-row][data-number='{number}']")
    expect(row).to_have_attribute("data-status", "submitted")
    expect(row).to_have_attribute("data-business", "power-fault-repair")
    shot(agent, "19-console-queue")

    row.get_by_role("link", name=number).click()
    expect(agent.locator("#application")).to_have_attribute("data-number", number)
    expect(agent.locator("#application-status")).to_have_attribute("data-status", "submitted")
    expect(agent.locator("#application-fields [data-field=address]")).to_have_text(ADDRESS)
    phone = agent.locator("#application-fields [data-field=contact_phone]")
    expect(phone).to_have_text("138****8000")
    shot(agent, "20-console-application")
    agent.locator("#transition-note").fill(NOTE)
    agent.locator("#move-accepted").click()
    expect(agent.locator("#application-status")).to_have_attribute("data-status", "accepted")
    expect(agent.locator("#application-history li[data-status=accepted]")).to_contain_text(NOTE)
    expect(agent.locator("#move-in_progress")).to_be_visible()
    shot(agent, "21-console-application-accepted")

    customer.locator("#nav-applications").click()
    mine = customer.locator(f"[data-test=my-application][data-number='{number}']")
    expect(mine).to_have_attribute("data-status", "accepted")
    mine.get_by_role("link", name=number).click()
    expect(customer.locator("#application-status")).to_have_attribute("data-status", "accepted")
    expect(customer.locator("#application-history li[data-status=accepted]")).to_contain_text(NOTE)
    shot(customer, "22-customer-application-accepted")

    agent.locator("#nav-accounts").click()
    agent.locator("#q").fill(server.power.account_id)
    agent.locator("#search-submit").click()
    found = agent.locator(
        f"#account-results [data-test=account-row][data-account='{server.power.account_id}']"
    )
    expect(found).to_be_visible()
    assert not re.search(r"[0-9]{11}", found.locator("[data-test=phone]").inner_text())
    shot(agent, "23-console-account-search")


def test_policy_admin_what_if_and_activation(server: Live, visit: Visits, tmp_path: Path) -> None:
    upload = tmp_path / "2020-epidemic-march-power.yaml"
    upload.write_text(EXTRA_POLICY, encoding="utf-8")
    admin = visit.desktop()
    username = server.staff[("power", "policy_admin")]
    console_sign_in(admin, username, server.password)

    admin.locator("#nav-policies").click()
    versions = admin.locator("#policy-versions tbody tr[data-version]")
    expect(versions.first).to_be_visible()
    before = max(int(v.get_attribute("data-version") or 0) for v in versions.all())
    shot(admin, "24-console-policies")

    admin.locator("#policy-file").set_input_files(upload)
    admin.locator("#whatif-submit").click()
    figures = admin.locator("#whatif-figures")
    expect(figures).to_be_visible()
    expect(admin.locator("#policy-errors")).to_have_count(0)
    expect(admin.locator("#whatif-result")).to_have_attribute("data-scope", "power")
    expect(figures.locator("th[data-company]")).to_have_count(1)  # its own company alone
    accounts = figures.locator("tr[data-figure=accounts] td[data-company=power]")
    touched = figures.locator("tr[data-figure=touched] td[data-company=power]")
    expect(accounts).to_have_attribute("data-value", re.compile(r"^[1-9][0-9]*$"))
    expect(touched).to_have_attribute("data-value", re.compile(r"^[0-9]+$"))
    for key in ("arrears_fen", "cutoffs_without", "cutoffs_with"):
        cell = figures.locator(f"tr[data-figure={key}] td[data-company=power]")
        expect(cell).to_have_attribute("data-value", re.compile(r"^[0-9]+$"))
    shot(admin, "25-console-what-if")

    admin.locator("#activate-confirm").check()
    admin.locator("#activate-submit").click()
    expect(admin.locator("#activated")).to_be_visible()
    active = admin.locator("#policy-versions tbody tr[data-active=true][data-scope=company]")
    expect(active).to_have_attribute("data-version", str(before + 1))
    expect(active).to_contain_text(upload.name)
    expect(active).to_contain_text(username)
    expect(active).to_contain_text(WHEN)
    shot(admin, "26-console-policy-activated")
