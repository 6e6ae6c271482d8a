"""Steps the browser flows share, done as a person would through the documented element ids:
sign in with a code read from the demo SMS inbox, bind an account, submit a fault repair, sign
in to the console, and save a full-page screenshot."""

from __future__ import annotations

import re

from browser_world import SCREENSHOTS, Pick
from playwright.sync_api import Page, expect

from sanbuting.domain import mask_phone

APPLICATION_URL = re.compile(r"/applications/([^/?]+)\?submitted=1$")


def shot(page: Page, name: str) -> None:
    """Save the whole page as test-artifacts/screenshots/`name`.png (`NN-what`)."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def read_code(page: Page, phone: str) -> tuple[str, Page]:
    """Open the demo SMS inbox from the sign-in page's link (a new tab, as a person would)
    and read the newest code sent to `phone`; returns the code and the inbox's tab."""
    with page.context.expect_page() as opened:
        page.locator("#signin-demo-sms").click()
    inbox = opened.value
    inbox.wait_for_load_state()
    expect(inbox.locator("#sms-inbox")).to_be_visible()
    row = inbox.locator("[data-test=sms-row]").filter(
        has=inbox.locator("[data-test=sms-phone]", has_text=mask_phone(phone))
    )
    code = row.first.locator("[data-test=sms-code]").inner_text().strip()
    assert re.fullmatch(r"[0-9]{6}", code), f"no code for {mask_phone(phone)} in the inbox"
    return code, inbox


def sign_in(page: Page, phone: str, *, screens: bool = False) -> None:
    """Sign in to the portal with a one-time code; ends on the accounts page."""
    page.goto("/signin")
    expect(page.locator("#signin")).to_have_attribute("data-stage", "phone")
    if screens:
        shot(page, "02-signin")
    page.locator("#signin-phone").fill(phone)
    page.locator("#signin-send").click()
    expect(page.locator("#signin")).to_have_attribute("data-stage", "code")
    expect(page.locator("#signin-sent")).to_contain_text(mask_phone(phone))
    code, inbox = read_code(page, phone)
    if screens:
        shot(inbox, "03-demo-sms-inbox")
    inbox.close()
    page.locator("#signin-code").fill(code)
    page.locator("#signin-verify").click()
    expect(page).to_have_url(re.compile(r"/accounts$"))
    expect(page.locator("#nav-signout")).to_be_visible()


def bind(page: Page, account: Pick) -> None:
    """Bind `account` (region, number, the holder's name, its latest bill); ends on its page."""
    page.goto("/accounts")
    page.locator("#bind-region").fill(account.region)
    page.locator("#bind-account").fill(account.account_id)
    page.locator("#bind-name").fill(account.holder)
    page.locator("#bind-amount").fill(account.last_bill)
    page.locator("#bind-submit").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account.account_id}\?bound=1$"))
    expect(page.locator("#bound-ok")).to_be_visible()
    expect(page.locator("#account")).to_have_attribute("data-account", account.account_id)


def submitted_number(page: Page) -> str:
    """The number of the application just submitted (its page is showing)."""
    expect(page).to_have_url(APPLICATION_URL)
    expect(page.locator("#submitted")).to_be_visible()
    found = APPLICATION_URL.search(page.url)
    assert found is not None
    number = found.group(1)
    expect(page.locator("#application")).to_have_attribute("data-number", number)
    expect(page.locator("#application-status")).to_have_attribute("data-status", "submitted")
    return number


def submit_fault_repair(page: Page, address: str) -> str:
    """Report a power fault (no account needed); returns the application's number."""
    page.goto("/business")
    page.locator("#business-power-power-fault-repair").click()
    expect(page.locator("#business")).to_have_attribute("data-code", "power-fault-repair")
    page.locator("#field-fault").select_option("no_power")
    page.locator("#field-address").fill(address)
    page.locator("#field-description").fill("整栋楼停电，邻居家也没有电。")
    page.locator("#field-contact_phone").fill("13800138000")
    page.locator("#business-submit").click()
    return submitted_number(page)


def console_sign_in(page: Page, username: str, password: str, *, screens: bool = False) -> None:
    """Sign in to the staff console; ends on the dashboard."""
    page.goto("/console/signin")
    if screens:
        shot(page, "17-console-signin")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#signin-submit").click()
    expect(page).to_have_url(re.compile(r"/console$"))
    expect(page.locator("[data-test=who]")).to_contain_text(username)
