"""Console: the company's queue of applications and tickets (by priority, then promise), one
application with its form, documents and history, and working it (agents and supervisors move
it along its lifecycle with a note). Contact phones in forms are masked unless the role may see
personal data; every view and move is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sanbuting.applications import catalogue
from sanbuting.applications import service as applications
from sanbuting.domain import mask_phone
from sanbuting.errors import Conflict
from sanbuting.staff.service import can_see_personal_data
from sanbuting.store.models import Account
from sanbuting.store.web_models import Application, Staff
from sanbuting.web import deps
from sanbuting.web.console.common import business_now, page, record
from sanbuting.web.deps import require_role
from sanbuting.web.i18n import language
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.web.types import ApplicationNumber, Page

routes = APIRouter(prefix="/console")

StatusFilter = Annotated[
    str, Query(pattern=r"^(all|open|submitted|accepted|in_progress|completed|rejected|cancelled)$")
]
WORKERS = ("agent", "supervisor")
PAGE_SIZE = 50


@routes.get("/applications", response_class=HTMLResponse)
def queue(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    status: StatusFilter = "open",
    page_number: Annotated[Page, Query(alias="page")] = 1,
) -> Response:
    rows = applications.for_company(
        session=session,
        company_id=staff.company_id,
        status=None if status == "all" else status,
        page=page_number,
        size=PAGE_SIZE,
    )
    return page(
        request,
        "console/applications.html",
        staff,
        rows=rows,
        status=status,
        filters=("open", *applications.STATUSES, "all"),
        names={b.code: b for b in catalogue.catalogue()},
        page_number=page_number,
        more=len(rows) == PAGE_SIZE,
    )


@routes.get("/applications/{number}", response_class=HTMLResponse)
def application_page(
    request: Request, session: deps.DB, staff: deps.SignedInStaff, number: ApplicationNumber
) -> Response:
    found = applications.get_for_company(
        session=session, company_id=staff.company_id, number=number
    )
    record(session, staff, "view_application", found.number)
    return _render(request, session, staff, found)


def _render(
    request: Request,
    session: deps.DB,
    staff: Staff,
    found: Application,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    spec = catalogue.business(found.business)
    values = applications.fields_of(found)
    shown = []
    for spec_field in spec.fields:
        if spec_field.name not in values:
            continue
        value = values[spec_field.name]
        if spec_field.kind == "phone" and not can_see_personal_data(staff):
            value = mask_phone(value)
        if spec_field.kind == "choice":
            choice = next((c for c in spec_field.choices if c.value == value), None)
            if choice is not None:
                value = choice.zh if language(request) == "zh" else choice.en
        shown.append((spec_field, value))
    declared = set(applications.documents_of(found))
    account = session.get(Account, found.account) if found.account is not None else None
    return page(
        request,
        "console/application.html",
        staff,
        status_code=status_code,
        application=found,
        business=spec,
        fields=shown,
        documents=[(d, d.code in declared) for d in spec.documents],
        account=account,
        history=applications.history(session=session, application=found),
        moves=applications.next_statuses(found) if staff.role in WORKERS else (),
        error=error,
    )


@routes.post("/applications/{number}", response_class=HTMLResponse)
def work(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    number: ApplicationNumber,
    status: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=applications.MAX_NOTE)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    """Move the application to `status` with a note (agents and supervisors)."""
    check_csrf(request, csrf_token)
    require_role(staff, *WORKERS)
    found = applications.get_for_company(
        session=session, company_id=staff.company_id, number=number
    )
    before = found.status
    try:
        applications.transition(
            session=session,
            application=found,
            status=status,
            note=note,
            by=f"staff:{staff.username}",
            now=business_now(request),
        )
    except Conflict as exc:
        return _render(request, session, staff, found, error=str(exc), status_code=409)
    record(session, staff, "work_application", found.number, before=before, after=status)
    return RedirectResponse(f"/console/applications/{found.number}", status_code=303)
