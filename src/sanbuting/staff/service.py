"""Staff: members of one company with one role, their passwords (argon2 hashes only), sign-in
(rate-limited, one answer for an unknown user and a wrong password), the audit log every staff
action writes, and what a role may see.

Roles: `agent` works applications and sees phone numbers masked; `supervisor` also sees
personal data; `policy_admin` uploads, tries (what-if) and activates its company's relief
policies; `policy_authority` does the same for the deployment-wide set (a government's or
regulator's announcement, which covers every company); `regulator` reads figures, masked;
`cashier` posts payments at the counter; `deployment_regulator` reads the figures of every
company of the deployment (counts and sums, never an account, a name or a phone) and nothing
else: no accounts, queues, worklists, orders or actions (`readable_companies`; the web layer
refuses it every company-scoped page and call). Every function is keyword-only; the caller
owns the transaction.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError, Unauthorized
from sanbuting.guard import throttle
from sanbuting.guard.hashing import hash_password, password_matches
from sanbuting.privacy import mask_text
from sanbuting.store.database import write_aside
from sanbuting.store.models import Company
from sanbuting.store.web_models import STAFF_ROLES, AuditEntry, Staff

ROLES = STAFF_ROLES
SEES_PERSONAL_DATA = frozenset({"supervisor", "policy_admin"})
DEPLOYMENT_READERS = frozenset({"deployment_regulator"})
"""Roles whose scope is the deployment, not their company: read-only figures of every company."""
COMPANY_FIGURE_READERS = frozenset({"regulator", "supervisor"})
"""Roles that read the figures of their own company (and no other)."""
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
SIGN_IN_REFUSED = "wrong username or password"


@cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both refusals take as long (made on
    first use: argon2 is slow on purpose, and importing this module should not be)."""
    return hash_password("sanbuting-no-such-user")


def add_staff(
    *, session: Session, company: Company, username: str, name: str, role: str, password: str
) -> Staff:
    """A new member of staff of `company`; the password is kept as an argon2 hash."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise SanbutingError(
            f"username {username!r}: use 3-64 lowercase letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise SanbutingError(f"role {role!r}: use one of {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 100:
        raise SanbutingError("name: give the person's name (at most 100 characters)")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise SanbutingError(
            f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long"
        )
    if session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken: choose another")
    member = Staff(
        company_id=company.id,
        username=username,
        name=name,
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    session.add(member)
    session.flush()
    return member


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    ip: str,
    now: datetime,
    backoff: throttle.Policy,
) -> Staff:
    """The active member of staff with this username and password, or `Unauthorized` (the
    same message whichever was wrong). Failed tries back off per username at the address,
    per address, and per username from unknown addresses (`guard.throttle`, in the
    database): `TooMany` while one of them must wait, checked before the password. A wrong
    password for a known user is audited. Commit even when it raises: the failure counts."""
    username = username.strip().lower()[:64]
    ip = ip or "-"
    member = session.scalar(select(Staff).where(Staff.username == username))
    keys = throttle.keys_for(
        session, username=username, ip=ip, staff_id=member.id if member else None
    )
    throttle.check(session=session, keys=keys, now=now)
    if member is None or len(password) > MAX_PASSWORD:
        password_matches(password[:MAX_PASSWORD], _dummy_hash())
        throttle.failed(session=session, keys=keys, now=now, policy=backoff)
        raise Unauthorized(SIGN_IN_REFUSED)
    if not password_matches(password, member.password_hash) or not member.active:
        throttle.failed(session=session, keys=keys, now=now, policy=backoff)
        audit(
            session=session,
            staff=member,
            action="sign_in_refused",
            target=member.username,
            detail={"ip": ip},
            now=now,
        )
        raise Unauthorized(SIGN_IN_REFUSED)
    throttle.succeeded(session=session, username=username, ip=ip, staff_id=member.id, now=now)
    return member


def audit(
    *,
    session: Session,
    staff: Staff | None,
    action: str,
    target: str,
    detail: dict[str, Any],
    now: datetime,
    company_id: int | None = None,
    actor: str = "",
) -> AuditEntry:
    """Write one action to the append-only audit log of `company_id` (default: the member's
    company): by `staff`, or by `actor` (an operator at the command line) when there is no
    member of staff; anything in `detail` that looks like a phone or ID number is masked."""
    if company_id is None:
        if staff is None:
            raise SanbutingError("an audit entry needs a member of staff or a company")
        company_id = staff.company_id
    entry = AuditEntry(
        staff_id=staff.id if staff is not None else None,
        actor=(actor if staff is None else "")[:100],
        company_id=company_id,
        action=action[:64],
        target=_masked(target)[:200],
        detail=json.dumps(_scrub(detail), ensure_ascii=False, sort_keys=True, default=str),
        at=as_utc(now),
    )

    def write(side: Session) -> AuditEntry:
        side.add(entry)
        side.flush()
        return entry

    return write_aside(session, write)  # a read-only request's entry is kept on its own


def _masked(text: str) -> str:
    return mask_text(text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _masked(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def can_see_personal_data(staff: Staff) -> bool:
    """Supervisors and policy administrators see phone numbers and names whole; agents and
    regulators see them masked."""
    return staff.role in SEES_PERSONAL_DATA


def reads_the_deployment(staff: Staff) -> bool:
    """Whether `staff` reads the figures of every company (and nothing of one company's)."""
    return staff.role in DEPLOYMENT_READERS


def readable_companies(*, session: Session, staff: Staff) -> list[Company]:
    """The companies whose figures `staff` may read, in code order: every company of the
    deployment for a deployment regulator, their own for a company's regulator or supervisor;
    any other role is refused (`Forbidden`)."""
    if reads_the_deployment(staff):
        return list(session.scalars(select(Company).order_by(Company.code)))
    if staff.role in COMPANY_FIGURE_READERS:
        own = session.get(Company, staff.company_id)
        assert own is not None  # a foreign key
        return [own]
    raise Forbidden(
        f"the {staff.role} role does not read company figures: ask a regulator or a supervisor"
    )


def readable_company(*, session: Session, staff: Staff, code: str) -> Company:
    """The company `code` if `staff` may read its figures (`readable_companies`); another
    company is not found, as one that does not exist."""
    for company in readable_companies(session=session, staff=staff):
        if company.code == code:
            return company
    raise NotFound(f"no company {code!r} among the companies whose figures you read")


def audit_log(
    *, session: Session, company_id: int, page: int = 1, size: int = 50
) -> list[tuple[AuditEntry, str]]:
    """The company's audit log, newest first, with each entry's username."""
    rows = session.execute(
        select(AuditEntry, func.coalesce(Staff.username, AuditEntry.actor))
        .outerjoin(Staff, Staff.id == AuditEntry.staff_id)
        .where(AuditEntry.company_id == company_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return [(entry, username) for entry, username in rows]
