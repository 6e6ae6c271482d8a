"""What every console page shares: the signed-in member of staff with their company, the
audit of their actions, the client's address for rate limits, and rendering with the
console's navigation and times shown in Asia/Shanghai."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sanbuting.applications.service import READERS
from sanbuting.domain import SHANGHAI, read_utc
from sanbuting.guard.limits import Limits
from sanbuting.staff.service import audit, can_see_personal_data
from sanbuting.store.models import Company
from sanbuting.store.web_models import STAFF_ROLES, Staff
from sanbuting.web import deps
from sanbuting.web.console import messages  # noqa: F401  (registers the console's words)
from sanbuting.web.pages import render

NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("dashboard", "/console", STAFF_ROLES),
    (
        "accounts",
        "/console/accounts",
        ("agent", "supervisor", "policy_admin", "regulator", "cashier"),
    ),
    ("worklist", "/console/worklist", ("supervisor", "agent")),
    ("adjustments", "/console/adjustments", ("supervisor", "agent")),
    ("applications", "/console/applications", READERS),
    ("tickets", "/console/tickets", READERS),
    ("field", "/console/field", ("supervisor", "agent", "cashier")),
    ("orders", "/console/orders", ("supervisor", "regulator")),
    ("broadcasts", "/console/broadcasts", ("supervisor", "policy_admin")),
    (
        "policies",
        "/console/policies",
        ("supervisor", "policy_admin", "regulator", "policy_authority"),
    ),
    ("audit", "/console/audit", ("supervisor", "policy_admin", "regulator", "policy_authority")),
    ("companies", "/console/companies", ("regulator", "supervisor")),
)
"""The console's menu: (key, path, the roles that see it)."""


def when(moment: datetime | None) -> str:
    """A stored time as Asia/Shanghai local time, to the minute."""
    if moment is None:
        return ""
    return read_utc(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def business_now(request: Request) -> datetime:
    """The business clock: `deps.now` as the application overrides it (the demo and tests run
    the store's 2020 on it), else the wall clock. Applications, their history and what-if's
    day run on it; security and the audit log run on the wall clock."""
    clock: Callable[[], datetime] | None = request.app.dependency_overrides.get(deps.now)
    return clock() if clock is not None else deps.now()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


def limits(request: Request) -> Limits:
    configured: Limits = request.app.state.limits
    return configured


def company_of(session: Session, staff: Staff) -> Company:
    company = session.get(Company, staff.company_id)
    assert company is not None  # a foreign key
    return company


def record(session: Session, staff: Staff, action: str, target: str = "", **detail: Any) -> None:
    """Audit one action of `staff`, now."""
    audit(session=session, staff=staff, action=action, target=target, detail=detail, now=deps.now())


def page(
    request: Request, template: str, staff: Staff | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A console page, with the menu of `staff`'s role."""
    nav = [(key, path) for key, path, roles in NAV if staff is not None and staff.role in roles]
    return render(
        request,
        template,
        status_code=status_code,
        staff=staff,
        nav=nav,
        sees_personal=staff is not None and can_see_personal_data(staff),
        when=when,
        **context,
    )
