"""Working days in mainland China: statutory holidays and the adjusted working days (调休)
the State Council announces each year, as the `chinese-calendar` package records them (for
2020: the Spring Festival holiday from 2020-01-24, extended by the State Council to
2020-02-02, and Sunday 2020-01-19 a working day).

The package knows the years the State Council has announced when it was released (1.11.0:
2004 to 2026). For a year it does not know, working days are counted Monday to Friday, and
the first time such a year is asked about a warning goes to the log (logger
`sanbuting.applications.workdays`) saying which year and what to do: upgrade
`chinese-calendar` once the State Council has published that year's holidays. Service never
stops for a missing calendar; `covered` tells whether a year's count is the statutory one.

Everything counts in Asia/Shanghai dates; promises and SLA clocks (`catalogue.promised_by`,
`applications.clock`) use nothing else.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import cache

import chinese_calendar
from chinese_calendar import constants as calendar_data

LOG = logging.getLogger(__name__)
ONE_DAY = timedelta(days=1)


@cache
def known_years() -> tuple[int, int]:
    """The first and last year the installed `chinese-calendar` records."""
    years = [day.year for day in calendar_data.holidays]
    return min(years), max(years)


def covered(year: int) -> bool:
    """True when `year`'s holidays and adjusted working days are known (else weekdays)."""
    first, last = known_years()
    return first <= year <= last


@cache
def _warn_uncovered(year: int) -> None:
    first, last = known_years()
    LOG.warning(
        "chinese-calendar knows the holidays of %d to %d only: working days of %d are counted "
        "Monday to Friday; upgrade chinese-calendar once the State Council has published the "
        "holidays of %d",
        first,
        last,
        year,
        year,
    )


def is_working_day(day: date) -> bool:
    """Whether people work on `day`: a weekday that is not a statutory holiday, or a weekend
    day made a working day (调休). A year the package does not know: Monday to Friday."""
    if not covered(day.year):
        _warn_uncovered(day.year)
        return day.weekday() < 5
    return bool(chinese_calendar.is_workday(day))


def nth_working_day_after(day: date, count: int) -> date:
    """The `count`-th working day after `day` (`day` itself is not counted; `count` >= 1)."""
    if count < 1:
        raise ValueError(f"count {count}: a number of working days is at least 1")
    left = count
    while left:
        day += ONE_DAY
        if is_working_day(day):
            left -= 1
    return day
