"""The bodies of the staff ticket API: a ticket with its team and SLA clock (phone and ID
numbers masked), handing it to an agent or a team, and marking it arrived or done."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from sanbuting.applications.clock import Clock
from sanbuting.web.api.application_schemas import StaffApplicationDetail, StaffApplicationOut
from sanbuting.web.api.schemas import Strict, Username

TeamCode = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,31}$", description="A team of the company.")
]
Note = Annotated[str, Field(max_length=2000)]


class ClockOut(BaseModel):
    """The ticket's SLA clock at the time of the request."""

    area: Literal["city", "county", "rural"] | None = Field(
        description="The account's area class at submission (None: stored before it was kept)."
    )
    milestone: Literal["arrival", "completion"] = Field(
        description="What is promised: staff on site (the clock stops at in progress) or done."
    )
    due_at: datetime
    escalate_at: datetime | None = Field(description="When 80 % of the promised time is gone.")
    stopped_at: datetime | None = Field(description="When the milestone was reached.")
    state: Literal["running", "escalated", "breached", "met", "missed", "closed"]
    escalated: bool = Field(description="Escalated or breached: shown to the team lead.")
    seconds_left: Annotated[int, Field(ge=-(10**10), le=10**10)] | None = Field(
        description="Until the promise at the request (or at the stop); negative when late."
    )
    statutory_calendar: bool = Field(
        description="False when working days of a year chinese-calendar does not know were "
        "counted Monday to Friday."
    )


def clock_out(clock: Clock) -> ClockOut:
    return ClockOut(
        area=clock.area,
        milestone=clock.milestone,
        due_at=clock.due_at,
        escalate_at=clock.escalate_at,
        stopped_at=clock.stopped_at,
        state=clock.state,
        escalated=clock.escalated,
        seconds_left=clock.seconds_left,
        statutory_calendar=clock.statutory_calendar,
    )


class TicketOut(StaffApplicationOut):
    team: TeamCode | None = Field(description="The team working it.")
    clock: ClockOut


class TicketDetail(StaffApplicationDetail):
    team: TeamCode | None = Field(description="The team working it.")
    clock: ClockOut


class TicketAssigneeIn(Strict):
    """Exactly one of: the agent to hand the ticket to (a supervisor, or a lead of the
    ticket's team for an agent of that team), or the team (a supervisor)."""

    username: Username | None = None
    team: TeamCode | None = None


class TicketStepIn(Strict):
    note: Note = ""
