"""Service tickets (报修, 投诉, 咨询…): applications whose business is of the `ticket` category.

Customers open and list theirs (POST/GET /tickets) and read one like any application (GET
/applications/{number}). Staff work them on the clock (`applications.tickets`): their
worklists by priority, then due time (GET /staff/tickets?view=mine|team|escalated|all), one
ticket with its history and SLA clock (GET /staff/tickets/{number}), handing it to an agent or
a team (PUT .../assignee), staff on site (POST .../arrived) and done (POST .../done). The clock
and the escalation are computed at the request's time. Phone and ID numbers are masked in
every answer; every staff call, and every refusal, is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from sanbuting.applications import assignment, clock
from sanbuting.applications import tickets as service
from sanbuting.errors import SanbutingError, TooMany
from sanbuting.store.web_models import Application, Staff, Team
from sanbuting.web.api.application_schemas import ApplicationDetail, ApplicationIn, ApplicationOut
from sanbuting.web.api.applications import (
    application_fields,
    detail,
    mine,
    staff_detail,
    submit_form,
    too_many,
)
from sanbuting.web.api.common import REFUSALS, SECURED, Now, audit, errors, refused
from sanbuting.web.api.schemas import Paged
from sanbuting.web.api.ticket_schemas import (
    TicketAssigneeIn,
    TicketDetail,
    TicketOut,
    TicketStepIn,
    clock_out,
)
from sanbuting.web.deps import DB, Configured, SignedInCustomer, SignedInStaff
from sanbuting.web.types import ApplicationNumber, Page, PageSize

router = APIRouter(tags=["tickets"], dependencies=SECURED)
ViewParam = Annotated[
    service.View,
    Query(
        description="mine: assigned to me; team: my team's; escalated: 80 % of the promised "
        "time gone (team leads: their team's; supervisors: all); all: the company's."
    ),
]


@router.post(
    "/tickets",
    status_code=201,
    response_model=ApplicationDetail,
    responses=errors(400, 401, 404, 409, 422, 429),
    summary="Open a service ticket (a business of the ticket category)",
)
def open_ticket(
    body: ApplicationIn, session: DB, customer: SignedInCustomer, now: Now, config: Configured
) -> ApplicationDetail | JSONResponse:
    """A ticket counts towards the customer's application limits (429 past them)."""
    try:
        ticket = submit_form(session, customer, body, now, config, category="ticket")
    except TooMany as exc:
        return too_many(exc)
    return detail(session, ticket)


@router.get(
    "/tickets",
    response_model=Paged[ApplicationOut],
    responses=errors(401, 422),
    summary="My tickets, newest first",
)
def my_tickets(
    session: DB, customer: SignedInCustomer, page: Page = 1, size: PageSize = 20
) -> Paged[ApplicationOut]:
    return mine(session, customer, page, size, tickets=True)


@router.get(
    "/staff/tickets",
    response_model=Paged[TicketOut],
    responses=errors(401, 403, 422),
    summary="A worklist of open tickets: by priority, then due time",
)
def worklist(
    session: DB,
    staff: SignedInStaff,
    now: Now,
    view: ViewParam = "mine",
    page: Page = 1,
    size: PageSize = 20,
) -> Paged[TicketOut] | JSONResponse:
    """Agents, supervisors and policy administrators; `team` needs a team, `escalated` a team
    lead or a supervisor (403 otherwise)."""
    try:
        rows, total = service.worklist(
            session=session, staff=staff, view=view, now=now, page=page, size=size
        )
    except REFUSALS as exc:
        return refused(session, staff, "api.tickets.list", view, now, exc)
    audit(session, staff, "api.tickets.list", view, now)
    working = assignment.assignees(
        session=session, company_id=staff.company_id, ids=(t.assigned_to for t in rows)
    )
    items = []
    for ticket in rows:
        member = working.get(ticket.assigned_to or 0)
        items.append(
            TicketOut.model_validate(
                {
                    **application_fields(session, ticket),
                    "assignee": member.username if member is not None else None,
                    **_clocked(session, ticket, now),
                }
            )
        )
    return Paged[TicketOut](items=items, page=page, size=size, total=total)


@router.get(
    "/staff/tickets/{number}",
    response_model=TicketDetail,
    responses=errors(401, 403, 404, 422),
    summary="One of my company's tickets with its history and SLA clock",
)
def one_ticket(
    number: ApplicationNumber, session: DB, staff: SignedInStaff, now: Now
) -> TicketDetail | JSONResponse:
    try:
        found = service.get_ticket(session=session, staff=staff, number=number)
    except REFUSALS as exc:
        return refused(session, staff, "api.tickets.read", number, now, exc)
    audit(session, staff, "api.tickets.read", number, now)
    return _detail(session, found, now)


@router.put(
    "/staff/tickets/{number}/assignee",
    response_model=TicketDetail,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="Hand an open ticket to an agent or a team",
)
def hand_on(
    number: ApplicationNumber,
    body: TicketAssigneeIn,
    session: DB,
    staff: SignedInStaff,
    now: Now,
) -> TicketDetail | JSONResponse:
    """A supervisor: to any agent or team of the company; a lead of the ticket's team: to an
    agent of the team. An unknown agent or team is 404, a member who is not an agent or a body
    naming both or neither 400, a closed ticket 409."""
    try:
        found = service.get_ticket(session=session, staff=staff, number=number)
        service.assign(
            session=session, ticket=found, by=staff, username=body.username, team=body.team
        )
    except SanbutingError as exc:  # every refusal audited
        return refused(session, staff, "api.tickets.assign", number, now, exc)
    audit(session, staff, "api.tickets.assign", number, now)
    return _detail(session, found, now)


@router.post(
    "/staff/tickets/{number}/arrived",
    response_model=TicketDetail,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="Staff are on site: the ticket moves to in progress",
)
def arrived(
    number: ApplicationNumber,
    session: DB,
    staff: SignedInStaff,
    now: Now,
    body: TicketStepIn | None = None,
) -> TicketDetail | JSONResponse:
    """Agents and supervisors, with an optional note; a ticket only submitted is accepted
    first. For a promise of arrival (repairs) this stops the clock."""
    return _step(session, staff, number, "in_progress", body.note if body else "", now)


@router.post(
    "/staff/tickets/{number}/done",
    response_model=TicketDetail,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="Mark a ticket done: it moves through its remaining steps to completed",
)
def done(
    number: ApplicationNumber,
    session: DB,
    staff: SignedInStaff,
    now: Now,
    body: TicketStepIn | None = None,
) -> TicketDetail | JSONResponse:
    """Agents and supervisors, with an optional note; a closed ticket is 409."""
    return _step(session, staff, number, "completed", body.note if body else "", now)


def _step(
    session: Session,
    staff: Staff,
    number: str,
    to: Literal["in_progress", "completed"],
    note: str,
    now: datetime,
) -> TicketDetail | JSONResponse:
    action = "api.tickets.arrived" if to == "in_progress" else "api.tickets.done"
    try:
        found = service.get_ticket(session=session, staff=staff, number=number)
        service.advance(session=session, ticket=found, to=to, staff=staff, note=note, now=now)
    except REFUSALS as exc:
        return refused(session, staff, action, number, now, exc)
    audit(session, staff, action, number, now)
    return _detail(session, found, now)


def _clocked(session: Session, ticket: Application, now: datetime) -> dict[str, Any]:
    team = session.get(Team, ticket.team_id) if ticket.team_id is not None else None
    return {
        "team": team.code if team is not None else None,
        "clock": clock_out(clock.clock_of(ticket, now)),
    }


def _detail(session: Session, ticket: Application, now: datetime) -> TicketDetail:
    shown = staff_detail(session, ticket).model_dump()
    return TicketDetail.model_validate({**shown, **_clocked(session, ticket, now)})
