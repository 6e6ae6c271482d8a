"""Tickets on the clock (issue 13, item 5): China's working days across the 2020 Spring
Festival, promises by area class, escalation at 80 % of the promised time, priority for
hospitals and for regions a relief policy names, teams and the ticket's clock, on SQLite and
PostgreSQL (the API and the console: `test_tickets_api.py`).

What chinese-calendar (1.11.0) says of the 2020 Spring Festival, and these tests hold: Sunday
2020-01-19 was a working day (调休); 2020-01-24 to 2020-02-02 were holidays, 2020-02-01
(Saturday, first an adjusted working day) and 2020-02-02 (Sunday) included, as the State
Council extended the holiday; Monday 2020-02-03 was a working day again."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from helpers_tickets import SUBMITTED, TICKETS, at, open_repairs, staff, ticket_store
from sanbuting.applications import catalogue, clock, tickets, workdays
from sanbuting.applications import service as applications
from sanbuting.errors import Forbidden
from sanbuting.store.database import sessions
from sanbuting.store.models import Account, Company
from store_databases import BACKENDS

# ---- the calendar -----------------------------------------------------------------------------

SPRING_FESTIVAL_2020 = [
    # day, working?
    ("2020-01-17", True),  # Friday
    ("2020-01-18", False),  # Saturday
    ("2020-01-19", True),  # Sunday, an adjusted working day (调休)
    ("2020-01-23", True),  # Thursday, the last working day before the holiday
    ("2020-01-24", False),  # 除夕
    ("2020-01-30", False),  # the State Council's extension
    ("2020-01-31", False),
    ("2020-02-01", False),  # Saturday: an adjusted working day until the extension
    ("2020-02-02", False),  # Sunday: the extension's last day
    ("2020-02-03", True),  # Monday: back to work
]


@pytest.mark.parametrize(("day", "working"), SPRING_FESTIVAL_2020)
def test_the_2020_spring_festival_holidays_and_adjusted_working_days(
    day: str, working: bool
) -> None:
    assert workdays.is_working_day(date.fromisoformat(day)) is working


PROMISES = [
    # business, submitted, promised by (by hand from the calendar above), escalated at
    # 5 working days after Friday 01-17: Sun 19, Mon 20, 21, 22, Thu 23 (Mon-Fri would say 01-24)
    ("power-new-connection", "2020-01-17 10:00", "2020-01-23 23:59:59", "2020-01-23 00:00"),
    # submitted on a Saturday: the same five days
    ("power-new-connection", "2020-01-18 09:00", "2020-01-23 23:59:59", "2020-01-23 00:00"),
    # Wed 01-22: Thu 23, then the holiday to 02-02, then Mon 3, 4, 5, Thu 6
    ("power-new-connection", "2020-01-22 10:00", "2020-02-06 23:59:59", "2020-02-06 00:00"),
    # submitted on a holiday: Mon 02-03 to Fri 02-07
    ("power-new-connection", "2020-01-31 20:00", "2020-02-07 23:59:59", "2020-02-07 00:00"),
    # 1 working day after Thu 01-23 is Mon 02-03; 80 % of its 24 working hours: 19:12
    ("ic-card-replacement", "2020-01-23 15:00", "2020-02-03 23:59:59", "2020-02-03 19:12"),
    # 24 hours around the clock, holiday or not; 80 %: 19 h 12 min
    ("e-invoice", "2020-01-24 08:00", "2020-01-25 08:00", "2020-01-25 03:12"),
    # a repair: 45 minutes in a city (the default without an account); 80 %: 36 minutes
    ("power-fault-repair", "2020-01-25 10:00", "2020-01-25 10:45", "2020-01-25 10:36"),
    # a gas leak: arrival within 1 hour; 80 %: 48 minutes
    ("gas-fault-repair", "2020-01-25 23:30", "2020-01-26 00:30", "2020-01-26 00:18"),
]


@pytest.mark.parametrize(("business", "submitted", "due", "escalated"), PROMISES)
def test_promises_and_escalation_count_china_s_working_days(
    business: str, submitted: str, due: str, escalated: str
) -> None:
    promise = catalogue.business(business).promise
    promised = catalogue.promised_by(promise, at(submitted))
    assert promised == at(due)
    assert clock.escalate_at(promise, at(submitted), promised) == at(escalated)


def test_a_year_the_calendar_does_not_know_counts_weekdays_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, last = workdays.known_years()
    assert first <= 2020 <= last and not workdays.covered(2040)
    workdays._warn_uncovered.cache_clear()
    promise = catalogue.business("ic-card-replacement").promise  # 1 working day
    with caplog.at_level(logging.WARNING, logger="sanbuting.applications.workdays"):
        assert catalogue.promised_by(promise, at("2040-01-05 10:00")) == at("2040-01-06 23:59:59")
        assert catalogue.promised_by(promise, at("2040-01-06 10:00")) == at("2040-01-09 23:59:59")
    assert [r.getMessage() for r in caplog.records] == [
        f"chinese-calendar knows the holidays of {first} to {last} only: working days of 2040 "
        "are counted Monday to Friday; upgrade chinese-calendar once the State Council has "
        "published the holidays of 2040"
    ]


AREAS = [
    # region, tags, area class, repair promised within (minutes)
    ("440104", "", "city", 45),  # 广州市越秀区
    ("420102", "", "city", 45),  # 武汉市江岸区
    ("420281", "", "county", 90),  # 大冶市, a county-level city
    ("420822", "", "county", 90),  # 沙洋县
    ("429021", "", "county", 90),  # 神农架林区, a forestry district
    ("520203", "", "county", 90),  # 六枝特区, a special district
    ("440104", "rural", "rural", 120),  # tagged rural: a remote area
    ("440104", "hospital;rural", "rural", 120),
]


@pytest.mark.parametrize(("region", "tags", "area", "minutes"), AREAS)
def test_the_area_class_sets_the_repair_promise(
    region: str, tags: str, area: str, minutes: int
) -> None:
    account = Account(region=region, tags=tags)
    assert clock.area_class(account) == area
    repair = catalogue.business("power-fault-repair").promise
    submitted = at("2020-02-03 10:00")
    due = catalogue.promised_by(repair, submitted, clock.area_class(account))
    assert due == submitted + timedelta(minutes=minutes)
    assert clock.escalate_at(repair, submitted, due) == submitted + timedelta(
        minutes=minutes * 4 // 5
    )


# ---- a store with staff, teams and tickets (helpers_tickets) -------------------------------
@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from ticket_store(request.param, tmp_path)


def test_tickets_get_their_area_priority_due_time_and_order(engine: Engine) -> None:
    numbers = open_repairs(engine)
    with sessions(engine).begin() as session:
        boss = staff(session, "boss")
        listed, total = tickets.worklist(session=session, staff=boss, view="all", now=SUBMITTED)
        assert total == 5
        shown = [
            (
                next(k for k, v in numbers.items() if v == t.number),
                t.area,
                t.priority,
                clock.clock_of(t, SUBMITTED).due_at.strftime("%H:%M"),
            )
            for t in listed
        ]
        assert shown == TICKETS


ESCALATION = [
    # now, the tickets escalated (supervisor's view), GZ1's clock state and seconds left
    ("10:35:59", [], "running", 541),
    ("10:36:00", ["HOSP", "WH1", "GZ1"], "escalated", 540),
    ("10:45:00", ["HOSP", "WH1", "GZ1"], "escalated", 0),
    ("10:45:01", ["HOSP", "WH1", "GZ1"], "breached", -1),
    ("11:12:00", ["HOSP", "WH1", "SY1", "GZ1"], "breached", -1620),
    ("11:36:00", ["HOSP", "WH1", "SY1", "GZ1", "FAR"], "breached", -3060),
]


def test_escalation_flips_at_80_percent_of_the_promised_time(engine: Engine) -> None:
    numbers = open_repairs(engine)
    by_number = {v: k for k, v in numbers.items()}
    with sessions(engine).begin() as session:
        boss = staff(session, "boss")
        for when, escalated, state, left in ESCALATION:
            now = at(f"2020-02-03 {when}")
            rows, _ = tickets.worklist(session=session, staff=boss, view="escalated", now=now)
            assert [by_number[t.number] for t in rows] == escalated, when
            gz1 = tickets.get_ticket(session=session, staff=boss, number=numbers["GZ1"])
            shown = clock.clock_of(gz1, now)
            assert (shown.state, shown.seconds_left) == (state, left), when


def test_teams_assignment_arrival_and_the_lead_s_view(engine: Engine) -> None:
    numbers = open_repairs(engine)
    escalated = at("2020-02-03 10:40")
    with sessions(engine).begin() as session:
        boss, lead, fixer = (staff(session, n) for n in ("boss", "lead", "fixer"))
        gz1 = tickets.get_ticket(session=session, staff=boss, number=numbers["GZ1"])
        hosp = tickets.get_ticket(session=session, staff=boss, number=numbers["HOSP"])
        # the lead sees only the team's escalated tickets: none before one is the team's
        assert (
            tickets.worklist(session=session, staff=lead, view="escalated", now=escalated)[1] == 0
        )
        tickets.assign(session=session, ticket=gz1, by=boss, team="repair")
        tickets.assign(session=session, ticket=hosp, by=boss, team="repair")
        rows, _ = tickets.worklist(session=session, staff=lead, view="escalated", now=escalated)
        assert [t.number for t in rows] == [numbers["HOSP"], numbers["GZ1"]]
        # the lead hands the hospital's ticket to the team's agent; not to another team's
        with pytest.raises(Forbidden, match="not in the ticket's team"):
            tickets.assign(session=session, ticket=hosp, by=lead, username="other")
        tickets.assign(session=session, ticket=hosp, by=lead, username="fixer")
        mine, _ = tickets.worklist(session=session, staff=fixer, view="mine", now=escalated)
        assert [t.number for t in mine] == [numbers["HOSP"]]
        # an agent who leads no team sees no escalated list
        with pytest.raises(Forbidden, match="team leads and supervisors"):
            tickets.worklist(session=session, staff=fixer, view="escalated", now=escalated)
        with pytest.raises(Forbidden, match="in no team"):
            tickets.worklist(
                session=session, staff=staff(session, "lonely"), view="team", now=escalated
            )
        # on site at 10:42, within the 45 minutes: the clock stops, met, no longer escalated
        steps = tickets.advance(
            session=session,
            ticket=hosp,
            to="in_progress",
            staff=fixer,
            note="",
            now=at("2020-02-03 10:42"),
        )
        assert steps == ["accepted", "in_progress"]
        later = at("2020-02-03 11:00")
        assert (clock.clock_of(hosp, later).state, clock.clock_of(hosp, later).seconds_left) == (
            "met",
            180,
        )
        rows, _ = tickets.worklist(session=session, staff=lead, view="escalated", now=later)
        assert [t.number for t in rows] == [numbers["GZ1"]]
        # GZ1 reached at 10:50: missed by five minutes; then done
        tickets.advance(
            session=session,
            ticket=gz1,
            to="completed",
            staff=lead,
            note="修复",
            now=at("2020-02-03 10:50"),
        )
        shown = clock.clock_of(gz1, later)
        assert (shown.state, shown.seconds_left) == ("missed", -300)
        assert [e.status for e in applications.history(session=session, application=gz1)] == [
            "submitted",
            "accepted",
            "in_progress",
            "completed",
        ]
        assert gz1.status == "completed" and gz1.assigned_to == lead.id


def test_a_complaint_runs_on_working_days_and_stops_only_when_completed(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        account = session.scalar(select(Account).where(Account.account_id == "GZ1"))
        company = session.get(Company, account.company_id) if account else None
        assert account is not None and company is not None
        complaint = applications.submit(
            session=session,
            business="complaint",
            company=company,
            account=account,
            customer=None,
            fields={
                "subject": "billing",
                "description": "账单有误",
                "contact_phone": "13900000009",
            },
            documents=[],
            now=at("2020-01-22 10:00"),
        )
        assert (complaint.priority, complaint.area) == (3, "city")
        boss = staff(session, "boss")
        tickets.advance(
            session=session,
            ticket=complaint,
            to="in_progress",
            staff=boss,
            note="",
            now=at("2020-01-23 09:00"),
        )
        # in progress is no milestone for a completion promise: the clock runs into the holiday
        # and escalates at the start of the fifth working day, 2020-02-06
        assert clock.clock_of(complaint, at("2020-02-05 23:59:59")).state == "running"
        assert clock.clock_of(complaint, at("2020-02-06 00:00")).state == "escalated"
        assert clock.clock_of(complaint, at("2020-02-07 00:00")).state == "breached"
