"""The policy model's own decisions: Scope.matches, WaiverPolicy.matches_bill and
DeferPolicy.moved_day."""

from __future__ import annotations

from datetime import date

from sanbuting.domain import BillingMode, CustomerClass, Utility
from sanbuting.policy import AccountFacts, DeferPolicy, Scope, WaiverPolicy, Window


def facts(
    utility: Utility = Utility.POWER,
    region: str = "440305",
    cls: CustomerClass = CustomerClass.RESIDENTIAL,
    mode: BillingMode = BillingMode.POSTPAID,
    tags: frozenset[str] = frozenset(),
) -> AccountFacts:
    return AccountFacts(utility, region, cls, mode, tags)


def test_scope_matches() -> None:
    assert Scope().matches(facts())
    power_gd = Scope(utility=(Utility.POWER,), region=("44",))
    assert power_gd.matches(facts())
    assert not power_gd.matches(facts(utility=Utility.GAS))
    assert not power_gd.matches(facts(region="420102"))
    cities = Scope(region=("4401", "4403"))
    assert cities.matches(facts(region="440305")) and cities.matches(facts(region="440106"))
    assert not cities.matches(facts(region="440402"))
    district = Scope(region=("440305",))
    assert district.matches(facts()) and not district.matches(facts(region="440304"))
    tagged = Scope(tags=("hospital", "epidemic_key"))
    assert tagged.matches(facts(tags=frozenset({"epidemic_key", "vip"})))
    assert not tagged.matches(facts(tags=frozenset({"vip"})))
    assert not tagged.matches(facts())
    both = Scope(customer_class=(CustomerClass.RESIDENTIAL,), billing_mode=(BillingMode.PREPAID,))
    assert both.matches(facts(mode=BillingMode.PREPAID))
    assert not both.matches(facts())
    assert not both.matches(facts(cls=CustomerClass.NON_RESIDENTIAL, mode=BillingMode.PREPAID))


def _waiver(issued_in: tuple[str, ...] | None, period_in: tuple[str, ...] | None) -> WaiverPolicy:
    window = Window(date(2020, 1, 1), date(2020, 3, 1))
    return WaiverPolicy("w", "w", Scope(), window, issued_in=issued_in, period_in=period_in)


def test_waiver_matches_bill() -> None:
    by_issue = _waiver(("2020-01", "2020-02"), None)
    assert by_issue.matches_bill(issued_on=date(2020, 1, 31), period="2019-12")
    assert by_issue.matches_bill(issued_on=date(2020, 2, 1), period="2020-02")
    assert not by_issue.matches_bill(issued_on=date(2019, 12, 31), period="2020-01")
    by_period = _waiver(None, ("2020-01",))
    assert by_period.matches_bill(issued_on=date(2020, 2, 5), period="2020-01")
    assert not by_period.matches_bill(issued_on=date(2020, 1, 5), period="2019-12")
    every_bill = _waiver(None, None)
    assert every_bill.matches_bill(issued_on=date(2018, 6, 1), period="2018-05")


def test_defer_moved_day() -> None:
    window = Window(date(2020, 1, 24), date(2020, 3, 31))
    by_days = DeferPolicy("d", "d", Scope(), window, days=30)
    assert by_days.moved_day(date(2020, 2, 1)) == date(2020, 3, 2)  # 2020 is a leap year
    assert by_days.moved_day(date(2020, 3, 30)) == date(2020, 4, 29)
    until = DeferPolicy("u", "u", Scope(), window, until=date(2020, 4, 1))
    assert until.moved_day(date(2020, 2, 1)) == date(2020, 4, 1)
    assert until.moved_day(date(2020, 4, 1)) == date(2020, 4, 1)
    assert until.moved_day(date(2020, 4, 5)) == date(2020, 4, 5)  # an until not later moves nothing
