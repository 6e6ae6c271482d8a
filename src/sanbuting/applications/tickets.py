"""Staff working service tickets (applications of the `ticket` category) on the clock.

- **Worklists** (`worklist`), open tickets only, by priority, then the promised time, then the
  number: `mine` (assigned to me), `team` (assigned to my team), `escalated` (open, clock
  running and 80 % of the promised time gone, at `now`: a supervisor sees the company's, a team
  lead their team's; anyone else is refused), `all` (the company's).
- **Assignment** (`assign`): a supervisor hands an open ticket to an agent or to a team of the
  company; a team lead hands one of their team's tickets to an agent of the team. Handing it
  to an agent in a team puts it in that team too; handing it to a team drops an assignee who
  is not in it.
- **Arrived and done** (`advance`): an agent or supervisor moves the ticket through the
  remaining steps of its lifecycle to in progress (staff on site) or completed, each step an
  event of its history; the clock stops at the promise's milestone (`applications.clock`).

Every function is keyword-only and scoped by the member of staff's company; the caller owns
the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sanbuting.applications import catalogue
from sanbuting.applications.assignment import ASSIGNABLE, ASSIGNS
from sanbuting.applications.service import MOVES, OPEN, READERS, WORKERS, IllegalMove, transition
from sanbuting.domain import as_utc
from sanbuting.errors import Forbidden, NotFound, SanbutingError
from sanbuting.staff import teams
from sanbuting.store.web_models import Application, Staff, Team

View = Literal["mine", "team", "escalated", "all"]
VIEWS: tuple[View, ...] = ("mine", "team", "escalated", "all")
ORDER = (Application.priority, Application.promised_by, Application.number)


def ticket_codes() -> list[str]:
    """The business codes of the ticket category."""
    return [b.code for b in catalogue.catalogue() if b.category == "ticket"]


def _open_tickets(company_id: int) -> Select[Application]:
    return select(Application).where(
        Application.company_id == company_id,
        Application.business.in_(ticket_codes()),
        Application.status.in_(OPEN),
    )


def escalated_filter(query: Select[Application], now: datetime) -> Select[Application]:
    """Only the tickets escalated at `now`: clock running, escalation moment passed."""
    return query.where(
        Application.clock_stopped_at.is_(None), Application.escalate_at <= as_utc(now)
    )


def worklist(
    *, session: Session, staff: Staff, view: View, now: datetime, page: int = 1, size: int = 50
) -> tuple[list[Application], int]:
    """One page of the worklist `view` of `staff` (see the module docstring), and how many
    tickets it holds in all."""
    if staff.role not in READERS:
        raise Forbidden(
            f"the {staff.role} role does not work tickets: ask an agent or a supervisor"
        )
    query = _open_tickets(staff.company_id)
    if view == "mine":
        query = query.where(Application.assigned_to == staff.id)
    elif view == "team":
        team = teams.team_of(session=session, staff=staff)
        if team is None:
            raise Forbidden(
                f"{staff.username} is in no team: ask a supervisor to add you to one "
                "(sanbuting staff join USERNAME --team CODE)"
            )
        query = query.where(Application.team_id == team.id)
    elif view == "escalated":
        query = escalated_filter(query, now)
        if staff.role not in ASSIGNS:
            place = teams.membership(session=session, staff=staff)
            if place is None or not place.lead:
                raise Forbidden(
                    "escalated tickets are shown to team leads and supervisors: see your own "
                    "(view mine) or your team's (view team)"
                )
            query = query.where(Application.team_id == place.team_id)
    elif view != "all":
        raise SanbutingError(f"{view!r} is not a worklist: use one of {', '.join(VIEWS)}")
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*ORDER).offset((max(page, 1) - 1) * size).limit(size))
    return list(rows), int(total)


def get_ticket(*, session: Session, staff: Staff, number: str) -> Application:
    """The company's ticket `number` (NotFound if there is none, it is another company's or it
    is a business application)."""
    if staff.role not in READERS:
        raise Forbidden(
            f"the {staff.role} role does not work tickets: ask an agent or a supervisor"
        )
    found = session.scalar(
        select(Application).where(
            Application.number == number,
            Application.company_id == staff.company_id,
            Application.business.in_(ticket_codes()),
        )
    )
    if found is None:
        raise NotFound(f"no ticket {number} in your company")
    return found


@dataclass(frozen=True)
class Assigned:
    """Who and which team work the ticket, before and after an assignment."""

    before: tuple[Staff | None, Team | None]
    after: tuple[Staff | None, Team | None]


def assign(
    *,
    session: Session,
    ticket: Application,
    by: Staff,
    username: str | None = None,
    team: str | None = None,
) -> Assigned:
    """Hand the open `ticket` to the agent `username` or to the team `team` (exactly one),
    by a supervisor or a lead of the ticket's team (see the module docstring)."""
    if by.company_id != ticket.company_id:
        raise NotFound(f"no ticket {ticket.number} in your company")
    if (username is None) == (team is None):
        raise SanbutingError("name an agent (username) or a team (team), one of them")
    supervisor = by.role in ASSIGNS
    if not supervisor and not teams.leads(session=session, staff=by, team_id=ticket.team_id):
        raise Forbidden(
            "only a supervisor, or a lead of the ticket's team, hands a ticket on: ask them"
        )
    session.refresh(ticket, with_for_update=True)  # a move at the same time: one wins
    if ticket.status not in OPEN:
        raise IllegalMove(f"ticket {ticket.number} is {ticket.status}: it is not handed on")
    before = _working(session, ticket)
    if username is not None:
        member = _agent(session, by, username)
        place = teams.team_of(session=session, staff=member)
        if not supervisor and (place is None or place.id != ticket.team_id):
            raise Forbidden(
                f"{member.username} is not in the ticket's team: a team lead hands tickets to "
                "their own team's agents; ask a supervisor"
            )
        ticket.assigned_to = member.id
        if place is not None:
            ticket.team_id = place.id
    else:
        assert team is not None
        if not supervisor:
            raise Forbidden("only a supervisor hands a ticket to a team: ask a supervisor")
        chosen = teams.team_by_code(session=session, company_id=by.company_id, code=team)
        worker = before[0]
        if worker is not None:
            place = teams.team_of(session=session, staff=worker)
            if place is None or place.id != chosen.id:
                ticket.assigned_to = None
        ticket.team_id = chosen.id
    session.flush()
    return Assigned(before=before, after=_working(session, ticket))


def _working(session: Session, ticket: Application) -> tuple[Staff | None, Team | None]:
    worker = session.get(Staff, ticket.assigned_to) if ticket.assigned_to else None
    team = session.get(Team, ticket.team_id) if ticket.team_id else None
    return worker, team


def _agent(session: Session, by: Staff, username: str) -> Staff:
    wanted = username.strip().lower()
    member = session.scalar(
        select(Staff).where(Staff.company_id == by.company_id, Staff.username == wanted)
    )
    if member is None or not member.active:
        raise NotFound(f"no active member of staff {wanted!r} in your company: choose an agent")
    if member.role not in ASSIGNABLE:
        raise SanbutingError(
            f"{member.username} is a {member.role}: tickets are handed to agents, choose an agent"
        )
    return member


def advance(
    *,
    session: Session,
    ticket: Application,
    to: Literal["in_progress", "completed"],
    staff: Staff,
    note: str,
    now: datetime,
) -> list[str]:
    """Move `ticket` through each remaining step up to `to` (accepting it first if it was only
    submitted), the note on the last step; the statuses it went through."""
    if staff.company_id != ticket.company_id:
        raise NotFound(f"no ticket {ticket.number} in your company")
    if staff.role not in WORKERS:
        raise Forbidden(
            f"the {staff.role} role does not work tickets: ask an agent or a supervisor"
        )
    line = ("submitted", "accepted", "in_progress", "completed")
    if ticket.status not in OPEN:
        raise IllegalMove(f"ticket {ticket.number} is {ticket.status}: it is closed")
    here, there = line.index(ticket.status), line.index(to)
    if there <= here:
        raise IllegalMove(f"ticket {ticket.number} is {ticket.status} already")
    steps = list(line[here + 1 : there + 1])
    for step in steps:
        assert step in MOVES[ticket.status]
        transition(
            session=session,
            application=ticket,
            status=step,
            note=note if step == to else "",
            by=staff.username,
            now=now,
            staff=staff,
        )
    return steps
