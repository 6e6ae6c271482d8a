"""The SLA clock of an application or ticket: the account's area class, the promised moment,
the escalation moment, and the clock's state at a given `now` (computed on read, so the same
`now` always gives the same answer; nothing runs in the background).

- **Area class** (`area_class`): an account tagged `rural` is rural (remote areas: the 120-minute
  repair arrival); otherwise its GB/T 2260 district decides: a district (区) of a city is city,
  except a forestry district (林区) or special district (特区), which are county; a county, a
  banner or a county-level city is county. A ticket without an account, or with a region the
  table does not know, takes the strictest class, city.
- **Escalation** (`escalate_at`): when 80 % of the promised time has passed. For a promise in
  minutes or hours, 80 % of the time from submission to the promise, around the clock (45
  minutes: 36; 24 hours: 19 h 12 min). For a promise in working days, 80 % of the working
  time, which runs only on working days (whole days, from the start of the first working day
  after the day of submission): 5 working days escalate at the start of the fifth, 1 working
  day at 19:12 of the first.
- **State** (`clock_of`): `met` or `missed` once the milestone is reached (on time or not),
  `closed` for a ticket rejected or cancelled before it, else `breached` after the promise,
  `escalated` from the escalation moment, `running` before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sanbuting.applications import catalogue
from sanbuting.applications.catalogue import AreaClass, Promise
from sanbuting.applications.workdays import covered, nth_working_day_after
from sanbuting.domain import SHANGHAI, local_date, local_midnight, read_utc
from sanbuting.regions import is_known, lookup
from sanbuting.store.models import Account
from sanbuting.store.web_models import Application

RURAL_TAG = "rural"
ESCALATE_NUMERATOR, ESCALATE_DENOMINATOR = 4, 5
"""Escalate when 4/5 (80 %) of the promised time has passed."""
DAY_SECONDS = 86_400
CLOSED = ("rejected", "cancelled")
STOPS: dict[catalogue.Milestone, tuple[str, ...]] = {
    "arrival": ("in_progress", "completed"),
    "completion": ("completed",),
}
"""The statuses that reach each milestone: moving to one of them stops the clock."""
State = Literal["running", "escalated", "breached", "met", "missed", "closed"]


def area_class(account: Account | None) -> AreaClass:
    """The account's area class (see the module docstring)."""
    if account is None:
        return "city"
    tags = {tag for tag in (account.tags or "").split(";") if tag}
    if RURAL_TAG in tags:
        return "rural"
    if not is_known(account.region):
        return "city"
    name = lookup(account.region).name
    if name.endswith("区") and not name.endswith(("林区", "特区")):
        return "city"
    return "county"


def escalate_at(promise: Promise, submitted: datetime, due: datetime) -> datetime:
    """When an application submitted at `submitted` and promised by `due` is escalated."""
    if promise.working_days is None:
        return submitted + (due - submitted) * ESCALATE_NUMERATOR // ESCALATE_DENOMINATOR
    working_seconds = promise.working_days * DAY_SECONDS
    passed = working_seconds * ESCALATE_NUMERATOR // ESCALATE_DENOMINATOR
    whole_days, rest = divmod(passed, DAY_SECONDS)
    day = nth_working_day_after(local_date(submitted), whole_days + 1)
    return local_midnight(day) + timedelta(seconds=rest)


def stops_clock(promise: Promise, status: str) -> bool:
    """Whether moving to `status` reaches the promise's milestone."""
    return status in STOPS[promise.milestone]


@dataclass(frozen=True)
class Clock:
    """An application's SLA clock at one moment."""

    area: AreaClass | None
    milestone: catalogue.Milestone
    due_at: datetime
    escalate_at: datetime | None
    stopped_at: datetime | None
    state: State
    seconds_left: int | None
    """Until the promise (negative: late by so much), at `now` or at the stop; None when
    closed."""
    statutory_calendar: bool
    """False when a working-day promise counted a year `chinese-calendar` does not know
    (Monday to Friday there)."""

    @property
    def escalated(self) -> bool:
        return self.state in ("escalated", "breached")


def clock_of(application: Application, now: datetime) -> Clock:
    """The clock of `application` at `now` (aware)."""
    promise = catalogue.business(application.business).promise
    due = read_utc(application.promised_by).astimezone(SHANGHAI)
    created = read_utc(application.created_at).astimezone(SHANGHAI)
    escalation = (
        read_utc(application.escalate_at).astimezone(SHANGHAI)
        if application.escalate_at is not None
        else None
    )
    stopped = (
        read_utc(application.clock_stopped_at).astimezone(SHANGHAI)
        if application.clock_stopped_at is not None
        else None
    )
    state: State
    if stopped is not None:
        state = "met" if stopped <= due else "missed"
    elif application.status in CLOSED:
        state = "closed"
    elif now > due:
        state = "breached"
    elif escalation is not None and now >= escalation:
        state = "escalated"
    else:
        state = "running"
    left = None if state == "closed" else int((due - (stopped or now)).total_seconds())
    statutory = promise.working_days is None or all(
        covered(year) for year in range(created.year, due.year + 1)
    )
    area = next((a for a in catalogue.AREA_CLASSES if a == application.area), None)
    return Clock(
        area=area,
        milestone=promise.milestone,
        due_at=due,
        escalate_at=escalation,
        stopped_at=stopped,
        state=state,
        seconds_left=left,
        statutory_calendar=statutory,
    )
