"""Who works an application, and revealing its contact phone to them.

The agent or supervisor who accepts an application becomes its assignee (`service.transition`);
a supervisor may hand an open application to an agent of the same company (`assign`). Staff
of every role see the phone and ID numbers in an application masked (`sanbuting.privacy`);
only its assignee may reveal its contact phone — the form's phone field, else the account's
phone — and `reveal_phone` writes each reveal to the audit log (action `reveal_phone`).
Every function is keyword-only and scoped by the company; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.applications import catalogue
from sanbuting.applications.service import OPEN, WORKERS, IllegalMove, fields_of
from sanbuting.errors import Forbidden, NotFound, SanbutingError
from sanbuting.staff.service import audit
from sanbuting.store.models import Account
from sanbuting.store.web_models import Application, Staff

ASSIGNS = ("supervisor",)
"""The roles that hand an application to an agent."""
ASSIGNABLE = ("agent",)
"""The roles an application is handed to."""


@dataclass(frozen=True)
class ContactPhone:
    """An application's contact phone, whole: from its form (`field` names the field) or,
    when the form has none, from its account."""

    phone: str
    source: Literal["form", "account"]
    field: str | None = None


def _same_company(application: Application, staff: Staff) -> None:
    if staff.company_id != application.company_id:
        raise NotFound(f"no application {application.number}")


def assign(
    *, session: Session, application: Application, username: str, by: Staff
) -> tuple[Staff | None, Staff]:
    """Hand the open `application` to the agent `username` of `by`'s company (`by` a
    supervisor); the previous assignee (None if there was none) and the new one."""
    _same_company(application, by)
    if by.role not in ASSIGNS:
        raise Forbidden(
            f"the {by.role} role may not reassign applications: ask a supervisor to do it"
        )
    wanted = username.strip().lower()
    member = session.scalar(
        select(Staff).where(Staff.company_id == by.company_id, Staff.username == wanted)
    )
    if member is None or not member.active:
        raise NotFound(f"no active member of staff {wanted!r} in your company: choose an agent")
    if member.role not in ASSIGNABLE:
        raise SanbutingError(
            f"{member.username} is a {member.role}: applications are handed to agents, "
            "choose an agent"
        )
    session.refresh(application, with_for_update=True)  # a move at the same time: one wins
    if application.status not in OPEN:
        raise IllegalMove(
            f"application {application.number} is {application.status}: a closed application "
            "is not reassigned"
        )
    before = session.get(Staff, application.assigned_to) if application.assigned_to else None
    application.assigned_to = member.id
    session.flush()
    return before, member


def may_reveal(application: Application, staff: Staff) -> bool:
    """Whether `staff` may reveal the application's contact phone: its assignee only."""
    return (
        application.assigned_to is not None
        and application.assigned_to == staff.id
        and staff.company_id == application.company_id
        and staff.role in WORKERS
    )


def contact_phone(*, session: Session, application: Application) -> ContactPhone:
    """The application's contact phone whole (the first phone field of its form that is
    filled in, else its account's phone): only for `reveal_phone`, which audits it."""
    spec = catalogue.business(application.business)
    values = fields_of(application)
    for field in spec.fields:
        if field.kind == "phone" and values.get(field.name):
            return ContactPhone(phone=values[field.name], source="form", field=field.name)
    account = session.get(Account, application.account) if application.account else None
    if account is not None and account.phone:
        return ContactPhone(phone=account.phone, source="account")
    raise NotFound(
        f"application {application.number} gives no contact phone (none in its form, none on "
        "its account): answer the customer in a note on the application"
    )


def reveal_phone(
    *, session: Session, application: Application, staff: Staff, via: str, now: datetime
) -> ContactPhone:
    """The application's contact phone whole, for its assignee (`Forbidden` for anyone
    else), written to the audit log as `reveal_phone`."""
    _same_company(application, staff)
    if not may_reveal(application, staff):
        raise Forbidden(
            f"only the member of staff application {application.number} is assigned to may "
            "reveal its contact phone: ask a supervisor to assign it to you"
        )
    found = contact_phone(session=session, application=application)
    audit(
        session=session,
        staff=staff,
        action="reveal_phone",
        target=application.number,
        detail={"via": via, "source": found.source, "field": found.field or ""},
        now=now,
    )
    return found


def assignees(*, session: Session, company_id: int, ids: Iterable[int | None]) -> dict[int, Staff]:
    """The company's members of staff with these ids, by id (for showing who works what)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.scalars(
        select(Staff).where(Staff.company_id == company_id, Staff.id.in_(wanted))
    )
    return {member.id: member for member in rows}


def agents(*, session: Session, company_id: int) -> list[Staff]:
    """The company's active agents, by username: whom a supervisor may assign to."""
    return list(
        session.scalars(
            select(Staff)
            .where(
                Staff.company_id == company_id,
                Staff.role.in_(ASSIGNABLE),
                Staff.active.is_(True),
            )
            .order_by(Staff.username)
        )
    )
