"""Late fees, rule by rule of domain-rules.md §2, with literal cases and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sanbuting.domain import CustomerClass
from sanbuting.fees import LateFee, compute_late_fee, rates_for
from sanbuting.fees.latefee import Rates, round_half_up
from sanbuting.policy.model import Window
from sanbuting.rules import load_ruleset

POWER_RES = rates_for(load_ruleset("cn-power-1996"), CustomerClass.RESIDENTIAL)
POWER_NONRES = rates_for(load_ruleset("cn-power-1996"), CustomerClass.NON_RESIDENTIAL)
TELECOM = rates_for(load_ruleset("cn-telecom-2016"), CustomerClass.RESIDENTIAL)
GAS = rates_for(load_ruleset("cn-gas-default"), CustomerClass.RESIDENTIAL)
D = date.fromisoformat


def paid_in_full(
    amount: int, due: str, paid: str, rates: Rates, waivers: list[Window] | None = None
) -> LateFee:
    return compute_late_fee(
        amount_fen=amount,
        due_on=D(due),
        through=D(paid),
        rates=rates,
        principal_payments=[(D(paid), amount)],
        waivers=waivers or [],
    )


def test_published_example_december_bill_crosses_the_year() -> None:
    # 2000 x 16 x 2‰ (Dec 16-31) + 2000 x 18 x 3‰ (Jan 1-18) = 64 + 108
    fee = paid_in_full(200_000, "2000-12-15", "2001-01-18", POWER_NONRES)
    assert (fee.accrued_fen, fee.charged_fen, fee.days) == (17_200, 17_200, 34)
    assert [(s.first, s.last, s.rate_ppm) for s in fee.segments] == [
        (D("2000-12-16"), D("2000-12-31"), 2000),
        (D("2001-01-01"), D("2001-01-18"), 3000),
    ]


def test_published_example_january_bill_and_total_190() -> None:
    january = paid_in_full(300_000, "2001-01-15", "2001-01-18", POWER_NONRES)
    assert (january.accrued_fen, january.days) == (1_800, 3)
    december = paid_in_full(200_000, "2000-12-15", "2001-01-18", POWER_NONRES)
    assert january.accrued_fen + december.accrued_fen == 19_000


def test_accrual_runs_from_the_day_after_due_through_the_payment_day() -> None:
    # due on the 15th, paid on the 18th: the 16th, 17th and 18th accrue
    assert paid_in_full(100_000, "2020-05-15", "2020-05-18", POWER_RES).days == 3
    assert paid_in_full(100_000, "2020-05-15", "2020-05-15", POWER_RES).days == 0
    assert paid_in_full(100_000, "2020-05-15", "2020-05-10", POWER_RES).segments == ()


def test_residential_minimum_is_one_yuan_when_finalized() -> None:
    fee = paid_in_full(20_000, "2020-01-15", "2020-01-19", POWER_RES)  # 200 x 4 x 1‰ = 0.80
    assert (fee.rounded_fen, fee.accrued_fen, fee.charged_fen, fee.minimum_applied) == (
        80,
        100,
        100,
        True,
    )


def test_minimum_waits_for_finalization() -> None:
    open_fee = compute_late_fee(
        amount_fen=20_000, due_on=D("2020-01-15"), through=D("2020-01-19"), rates=POWER_RES
    )
    assert (open_fee.accrued_fen, open_fee.charged_fen, open_fee.finalized) == (80, 0, False)


def test_no_minimum_for_a_bill_paid_on_time_or_fully_waived() -> None:
    assert paid_in_full(20_000, "2020-01-15", "2020-01-15", POWER_RES).charged_fen == 0
    waived = paid_in_full(
        20_000, "2020-01-15", "2020-01-19", POWER_RES, [Window(D("2020-01-01"), D("2020-03-01"))]
    )
    assert (waived.charged_fen, waived.days, waived.waived_days, waived.waived_fen) == (0, 0, 4, 80)


def test_telecom_and_gas_rates_have_no_minimum() -> None:
    # 90 yuan x 50 days x 3‰ = 13.50 (example p2); gas 1‰: 90 x 5 x 1‰ = 0.45
    assert paid_in_full(9_000, "2020-01-20", "2020-03-10", TELECOM).charged_fen == 1_350
    assert paid_in_full(9_000, "2020-01-20", "2020-01-25", GAS).charged_fen == 45


def test_partial_payment_lowers_the_base_from_the_next_day() -> None:
    # example p1: 1000 yuan due 2019-12-20, 400 paid 2020-01-10, the rest 2020-02-05
    fee = compute_late_fee(
        amount_fen=100_000,
        due_on=D("2019-12-20"),
        through=D("2020-02-29"),
        rates=POWER_NONRES,
        principal_payments=[(D("2020-01-10"), 40_000), (D("2020-02-05"), 60_000)],
    )
    assert [(s.first, s.last, s.base_fen, s.rate_ppm) for s in fee.segments] == [
        (D("2019-12-21"), D("2019-12-31"), 100_000, 2000),  # 22.00
        (D("2020-01-01"), D("2020-01-10"), 100_000, 3000),  # 30.00, the payment day included
        (D("2020-01-11"), D("2020-02-05"), 60_000, 3000),  # 46.80
    ]
    assert (fee.accrued_fen, fee.charged_fen, fee.days) == (9_880, 9_880, 47)


def test_the_fee_is_never_compounded() -> None:
    # 1000 yuan x 1‰ x 100 days = 100 yuan exactly: no fee on fee
    assert paid_in_full(100_000, "2020-01-01", "2020-04-10", POWER_RES).accrued_fen == 10_000


def test_rounding_is_half_up_once_per_bill_not_per_day() -> None:
    # 3.33 yuan x 1‰ = 0.333 fen a day; 3 days = 0.999 fen -> 1 fen (per-day rounding gives 0)
    fee = compute_late_fee(
        amount_fen=333, due_on=D("2020-01-01"), through=D("2020-01-04"), rates=GAS
    )
    assert (fee.accrued_units, fee.rounded_fen) == (999_000, 1)
    assert round_half_up(500_000) == 1 and round_half_up(499_999) == 0


def test_a_waiver_window_cuts_a_range_in_two() -> None:
    # Guangdong: the January bill accrues nothing during February
    fee = paid_in_full(
        100_000, "2020-01-20", "2020-03-05", POWER_RES, [Window(D("2020-02-01"), D("2020-03-01"))]
    )
    assert [(s.first, s.last, s.waived) for s in fee.segments] == [
        (D("2020-01-21"), D("2020-01-31"), False),
        (D("2020-02-01"), D("2020-02-29"), True),
        (D("2020-03-01"), D("2020-03-05"), False),
    ]
    assert (fee.days, fee.waived_days, fee.accrued_fen, fee.waived_fen) == (16, 29, 1_600, 2_900)


def test_overlapping_waivers_add_without_counting_twice() -> None:
    fee = paid_in_full(
        100_000,
        "2020-01-20",
        "2020-03-05",
        POWER_RES,
        [Window(D("2020-02-01"), D("2020-03-01")), Window(D("2020-01-25"), D("2020-02-10"))],
    )
    assert (fee.days, fee.waived_days) == (4 + 5, 7 + 29)  # Jan 21-24, Mar 1-5


def test_shenzhen_waiver_before_the_first_of_march() -> None:
    fee = paid_in_full(
        50_000, "2020-01-25", "2020-03-05", POWER_RES, [Window(D("2020-01-01"), D("2020-03-01"))]
    )
    assert (fee.waived_days, fee.days, fee.accrued_fen) == (35, 5, 250)


def _naive_units(
    amount: int,
    due: date,
    through: date,
    rates: Rates,
    payments: list[tuple[date, int]],
    waivers: list[Window],
) -> tuple[int, int]:
    """Day by day, as the rule reads: the oracle the closed form must equal."""
    accrued = waived = 0
    day = due + timedelta(days=1)
    while day <= through:
        base = amount - sum(fen for paid, fen in payments if paid < day)
        if base <= 0:
            break
        units = base * rates.for_day(day, due)
        if any(w.covers(day) for w in waivers):
            waived += units
        else:
            accrued += units
        day += timedelta(days=1)
    return accrued, waived


DAYS = st.dates(min_value=date(2019, 10, 1), max_value=date(2021, 3, 31))


@st.composite
def bills(draw: st.DrawFn) -> tuple[int, date, date, list[tuple[date, int]], list[Window]]:
    amount = draw(st.integers(min_value=1, max_value=10**7))
    due = draw(DAYS)
    through = due + timedelta(days=draw(st.integers(min_value=-5, max_value=500)))
    shares = draw(st.lists(st.integers(min_value=1, max_value=amount), max_size=3))
    payments, left = [], amount
    for share in shares:
        if left == 0:
            break
        fen = min(share, left)
        left -= fen
        payments.append((due + timedelta(days=draw(st.integers(0, 400))), fen))
    starts = draw(st.lists(DAYS, max_size=3))
    waivers = [Window(s, s + timedelta(days=draw(st.integers(1, 90)))) for s in starts]
    return amount, due, through, payments, waivers


@pytest.mark.property
@given(bills(), st.sampled_from([POWER_RES, POWER_NONRES, TELECOM, GAS]))
def test_closed_form_equals_the_day_by_day_rule(
    bill: tuple[int, date, date, list[tuple[date, int]], list[Window]], rates: Rates
) -> None:
    amount, due, through, payments, waivers = bill
    fee = compute_late_fee(
        amount_fen=amount,
        due_on=due,
        through=through,
        rates=rates,
        principal_payments=payments,
        waivers=waivers,
    )
    assert (fee.accrued_units, fee.waived_units) == _naive_units(
        amount, due, through, rates, payments, waivers
    )


@pytest.mark.property
@given(bills(), st.integers(min_value=1, max_value=60))
def test_more_days_never_lower_the_fee(
    bill: tuple[int, date, date, list[tuple[date, int]], list[Window]], extra: int
) -> None:
    amount, due, through, payments, waivers = bill
    shorter, longer = (
        compute_late_fee(
            amount_fen=amount,
            due_on=due,
            through=end,
            rates=POWER_NONRES,
            principal_payments=payments,
            waivers=waivers,
        )
        for end in (through, through + timedelta(days=extra))
    )
    assert longer.accrued_units >= shorter.accrued_units
    assert longer.accrued_fen >= shorter.accrued_fen


@pytest.mark.property
@given(bills())
def test_a_waiver_never_raises_the_fee(
    bill: tuple[int, date, date, list[tuple[date, int]], list[Window]],
) -> None:
    amount, due, through, payments, waivers = bill
    waived, unwaived = (
        compute_late_fee(
            amount_fen=amount,
            due_on=due,
            through=through,
            rates=POWER_RES,
            principal_payments=payments,
            waivers=w,
        )
        for w in (waivers, [])
    )
    assert waived.accrued_fen <= unwaived.accrued_fen
    assert waived.accrued_units + waived.waived_units == unwaived.accrued_units


def test_payments_above_the_amount_are_refused() -> None:
    with pytest.raises(Exception, match="exceed"):
        compute_late_fee(
            amount_fen=100,
            due_on=D("2020-01-01"),
            through=D("2020-02-01"),
            rates=GAS,
            principal_payments=[(D("2020-01-05"), 101)],
        )
