"""Teams of staff that tickets are assigned to: a team belongs to one company and has a code
and a name; a member of staff is in at most one team, and may lead it (a team may have several
leads). The leads of a team see its escalated tickets and hand its tickets to its members
(`applications.tickets`). Every function is keyword-only and scoped by the company; the
caller owns the transaction.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.errors import Conflict, NotFound, SanbutingError
from sanbuting.store.models import Company
from sanbuting.store.web_models import Staff, Team, TeamMember

TEAM_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
TEAM_ROLES = ("agent", "supervisor")
"""The roles that may be in a team: those that work tickets."""


def add_team(*, session: Session, company: Company, code: str, name: str) -> Team:
    """A new team of `company`."""
    code = code.strip().lower()
    if not TEAM_CODE.match(code):
        raise SanbutingError(
            f"team code {code!r}: use 2-32 lowercase letters, digits, '_' or '-', such as "
            "repair-east"
        )
    name = name.strip()
    if not name or len(name) > 100:
        raise SanbutingError("name: give the team's name (at most 100 characters)")
    if find_team(session=session, company_id=company.id, code=code) is not None:
        raise Conflict(f"{company.code} has a team {code!r} already: choose another code")
    team = Team(company_id=company.id, code=code, name=name)
    session.add(team)
    session.flush()
    return team


def find_team(*, session: Session, company_id: int, code: str) -> Team | None:
    """The company's team `code`, or None."""
    return session.scalar(
        select(Team).where(Team.company_id == company_id, Team.code == code.strip().lower())
    )


def team_by_code(*, session: Session, company_id: int, code: str) -> Team:
    """The company's team `code` (NotFound if it has none)."""
    found = find_team(session=session, company_id=company_id, code=code)
    if found is None:
        raise NotFound(f"no team {code!r} in your company: see `sanbuting staff teams`")
    return found


def join(*, session: Session, team: Team, member: Staff, lead: bool = False) -> TeamMember:
    """Put `member` in `team` (leaving any other team), leading it or not."""
    if member.company_id != team.company_id:
        raise NotFound(f"no member of staff {member.username!r} in the team's company")
    if member.role not in TEAM_ROLES:
        raise SanbutingError(
            f"{member.username} is a {member.role}: teams are of agents and supervisors"
        )
    found = session.scalar(select(TeamMember).where(TeamMember.staff_id == member.id))
    if found is None:
        found = TeamMember(team_id=team.id, staff_id=member.id, lead=lead)
        session.add(found)
    else:
        found.team_id, found.lead = team.id, lead
    session.flush()
    return found


def membership(*, session: Session, staff: Staff) -> TeamMember | None:
    """The member's place in a team (None when in none)."""
    return session.scalar(select(TeamMember).where(TeamMember.staff_id == staff.id))


def team_of(*, session: Session, staff: Staff) -> Team | None:
    """The team `staff` is in (None when in none)."""
    found = membership(session=session, staff=staff)
    return session.get(Team, found.team_id) if found is not None else None


def leads(*, session: Session, staff: Staff, team_id: int | None) -> bool:
    """Whether `staff` leads the team `team_id`."""
    found = membership(session=session, staff=staff)
    return found is not None and found.lead and team_id is not None and found.team_id == team_id


def teams(*, session: Session, company_id: int) -> list[tuple[Team, list[tuple[Staff, bool]]]]:
    """The company's teams by code, each with its members (and whether they lead) by username."""
    rows = session.execute(
        select(Team, Staff, TeamMember.lead)
        .outerjoin(TeamMember, TeamMember.team_id == Team.id)
        .outerjoin(Staff, Staff.id == TeamMember.staff_id)
        .where(Team.company_id == company_id)
        .order_by(Team.code, Staff.username)
    ).all()
    listed: dict[int, tuple[Team, list[tuple[Staff, bool]]]] = {}
    for team, member, lead in rows:
        entry = listed.setdefault(team.id, (team, []))
        if member is not None:
            entry[1].append((member, bool(lead)))
    return list(listed.values())
