"""Browser flows of a customer on a phone (390x844): sign in with a code and pay an account's
arrears through the sandbox provider, submit two different business applications, and quick
pay without signing in. Each asserts what the person sees through the documented ids and
saves full-page screenshots of the main pages."""

from __future__ import annotations

import re

from browser_steps import bind, shot, sign_in, submit_fault_repair, submitted_number
from browser_world import Live, Visits
from playwright.sync_api import Page, expect

from sanbuting.applications.catalogue import business
from sanbuting.customers.service import masked_name
from sanbuting.domain import format_yuan
from sanbuting.web.i18n import translator

PAYER = "13700001001"
APPLICANT = "13700002002"
CHECKOUT_URL = re.compile(r"/sandbox-pay/checkout/(SP[0-9]{24})$")


def confirm_on_provider(page: Page, amount_fen: int, screen: str | None = None) -> str:
    """On the sandbox provider's checkout: check the amount, pay; returns the order number."""
    expect(page).to_have_url(CHECKOUT_URL)
    checkout = page.locator("#sandbox-checkout")
    expect(checkout).to_have_attribute("data-status", "created")
    expect(page.locator("#sandbox-amount")).to_have_text(f"¥{format_yuan(amount_fen)}")
    number = checkout.get_attribute("data-order") or ""
    if screen:
        shot(page, screen)
    page.locator("#sandbox-notify").select_option("once")
    page.locator("#sandbox-confirm").click()
    return number


def expect_protection(page: Page, count: int) -> None:
    """The "Am I protected?" section with the relief policies covering the account."""
    section = page.locator("#protection")
    expect(section).to_be_visible()
    expect(section.locator("h2")).to_have_text(translator("zh")("portal.protect.title"))
    expect(section.locator("[data-test=protection]")).to_have_count(count)
    if count == 0:
        expect(section.locator("#protection-none")).to_be_visible()


def test_sign_in_bind_and_pay_the_arrears(server: Live, visit: Visits) -> None:
    account = server.in_arrears
    page = visit.phone()
    page.goto("/")
    expect(page.locator("#home-intro")).to_be_visible()
    expect(page.locator("#home-quickpay")).to_be_visible()
    shot(page, "01-portal-home")

    sign_in(page, PAYER, screens=True)
    expect(page.locator("#accounts-none")).to_be_visible()
    shot(page, "04-accounts")
    bind(page, account)

    expect(page.locator("#arrears")).to_have_attribute("data-fen", str(account.arrears_fen))
    expect(page.locator("#amount-due")).to_have_attribute("data-fen", str(account.due_fen))
    expect_protection(page, account.protections)
    shot(page, "05-account-before-pay")

    page.locator("#pay-link").click()
    expect(page.locator("#pay")).to_have_attribute("data-purpose", "bill")
    expect(page.locator("#pay-due")).to_have_text(format_yuan(account.due_fen))
    expect(page.locator("#pay-amount")).to_have_value(format_yuan(account.due_fen))
    shot(page, "06-pay-form")
    page.locator("#pay-submit").click()
    number = confirm_on_provider(page, account.due_fen, "07-sandbox-checkout")

    expect(page).to_have_url(re.compile(rf"/accounts/{account.account_id}/paid/{number}$"))
    expect(page.locator("#pay-result")).to_have_attribute("data-status", "paid")
    expect(page.locator("#pay-ok")).to_be_visible()
    expect(page.locator("#paid-amount")).to_have_text(format_yuan(account.due_fen))
    expect(page.locator("#paid-order")).to_have_text(number)
    expect(page.locator("#pay-arrears-after")).to_have_attribute("data-fen", "0")
    shot(page, "08-pay-result")

    page.locator("#back-to-account").click()
    expect(page.locator("#arrears")).to_have_attribute("data-fen", "0")
    expect(page.locator("#amount-due")).to_have_attribute("data-fen", "0")
    expect(page.locator("#ledger [data-test=ledger-row][data-kind=payment]").first).to_be_visible()
    expect_protection(page, account.protections)
    shot(page, "09-account-after-pay")


def test_two_business_applications(server: Live, visit: Visits) -> None:
    account = server.power
    meter_test = business("power-meter-test")
    fault_repair = business("power-fault-repair")
    page = visit.phone()
    sign_in(page, APPLICANT)
    bind(page, account)

    page.locator("#nav-business").click()
    expect(page.locator("#catalogue")).to_be_visible()
    links = page.locator("#catalogue [data-test=business-link]")
    expect(links.first).to_be_visible()
    assert len({link.get_attribute("data-code") for link in links.all()}) >= 22
    shot(page, "10-business-catalogue")

    page.locator("#business-power-power-meter-test").click()
    expect(page.locator("#business")).to_have_attribute("data-code", meter_test.code)
    choice = page.locator(f"#account option[data-account='{account.account_id}']")
    page.locator("#account").select_option(choice.get_attribute("value") or "")
    page.locator("#field-meter_number").fill("3301234567")
    page.locator("#field-description").fill("电表转得比平时快很多，申请校验。")
    page.locator("#field-contact_phone").fill("13800138000")
    page.locator("#doc-id_card").check()
    shot(page, "11-business-form-meter-test")
    page.locator("#business-submit").click()
    first = submitted_number(page)
    expect(page.locator("#application-fields [data-field=meter_number]")).to_have_text("3301234567")
    shot(page, "12-application-submitted")

    second = submit_fault_repair(page, "广州市越秀区中山五路 1 号")
    assert first != second

    page.locator("#nav-applications").click()
    expect(page.locator("#my-applications")).to_be_visible()
    submitted = translator("zh")("application.status.submitted")
    for number, kind in ((first, meter_test), (second, fault_repair)):
        row = page.locator(f"[data-test=my-application][data-number='{number}']")
        expect(row).to_have_attribute("data-status", "submitted")
        expect(row).to_contain_text(number)
        expect(row).to_contain_text(kind.zh)
        expect(row).to_contain_text(submitted)
    shot(page, "13-my-applications")


def test_quick_pay_without_signing_in(server: Live, visit: Visits) -> None:
    account = server.quick
    masked = masked_name(account.holder)  # no part of the name is shown, masked or not
    page = visit.phone()
    page.goto("/")
    expect(page.locator("#nav-signin")).to_be_visible()
    page.locator("#quickpay-account").fill(account.account_id)
    shot(page, "14-quickpay-lookup")
    page.locator("#quickpay-lookup").click()

    found = page.locator("#quickpay-result [data-test=quickpay-found]")
    expect(found).to_be_visible()
    expect(page.locator("#quickpay-found-account")).to_have_text(account.account_id)
    expect(page.locator("#quickpay-due")).to_have_text(format_yuan(account.due_fen))
    assert account.holder not in page.content() and masked not in page.content()
    expect(page.locator("#nav-signout")).to_have_count(0)
    shot(page, "15-quickpay-found")

    page.locator("#quickpay-pay").click()
    number = confirm_on_provider(page, account.due_fen)
    expect(page).to_have_url(re.compile(rf"/quickpay/paid/{number}$"))
    expect(page.locator("#pay-result")).to_have_attribute("data-status", "paid")
    expect(page.locator("#pay-ok")).to_be_visible()
    expect(page.locator("#paid-utility")).to_be_visible()
    expect(page.locator("#paid-amount")).to_have_text(format_yuan(account.due_fen))
    assert account.holder not in page.content() and masked not in page.content()
    shot(page, "16-quickpay-result")
