"""Console: the company's queue of applications and tickets (by priority, then promise, with
who works each), one application with its form, documents and history, and working it: agents
and supervisors move it along its lifecycle with a note (accepting it makes them its
assignee), a supervisor hands it to an agent, its assignee reveals its contact phone. Phone and
ID numbers in forms and notes are masked for every role (`sanbuting.privacy`); its SLA clock
is shown at the business clock's now (`applications.clock`); a regulator
reads figures, not the queue (403). Every view, move, assignment and reveal is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sanbuting.applications import assignment, catalogue, clock
from sanbuting.applications import service as applications
from sanbuting.applications.assignment import ContactPhone
from sanbuting.errors import Conflict, Forbidden, SanbutingError
from sanbuting.privacy import mask_phone, mask_text
from sanbuting.store.models import Account
from sanbuting.store.web_models import Application, Staff, Team
from sanbuting.web import deps
from sanbuting.web.console.common import business_now, page, record
from sanbuting.web.console.exports import MOST_ROWS, FileForm, export
from sanbuting.web.console.tables import applications_table
from sanbuting.web.deps import require_role
from sanbuting.web.i18n import language, translator
from sanbuting.web.pages import render
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.web.types import ApplicationNumber, Page

routes = APIRouter(prefix="/console")

StatusFilter = Annotated[
    str, Query(pattern=r"^(all|open|submitted|accepted|in_progress|completed|rejected|cancelled)$")
]
WORKERS = applications.WORKERS
READERS = applications.READERS
PAGE_SIZE = 50
CsrfToken = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]


@routes.get("/applications", response_class=HTMLResponse)
def queue(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    status: StatusFilter = "open",
    page_number: Annotated[Page, Query(alias="page")] = 1,
) -> Response:
    require_role(staff, *READERS)
    rows = applications.for_company(
        session=session,
        company_id=staff.company_id,
        status=None if status == "all" else status,
        page=page_number,
        size=PAGE_SIZE,
    )
    working = assignment.assignees(
        session=session, company_id=staff.company_id, ids=(a.assigned_to for a in rows)
    )
    return page(
        request,
        "console/applications.html",
        staff,
        rows=rows,
        assignees=working,
        status=status,
        filters=("open", *applications.STATUSES, "all"),
        names={b.code: b for b in catalogue.catalogue()},
        page_number=page_number,
        more=len(rows) == PAGE_SIZE,
    )


@routes.get("/applications.{form}")
def queue_file(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    form: FileForm,
    status: StatusFilter = "open",
) -> Response:
    """The queue with `status`, every page of it (up to `exports.MOST_ROWS`), as CSV or XLSX."""
    require_role(staff, *READERS)
    rows = applications.for_company(
        session=session,
        company_id=staff.company_id,
        status=None if status == "all" else status,
        size=MOST_ROWS,
    )
    working = assignment.assignees(
        session=session, company_id=staff.company_id, ids=(a.assigned_to for a in rows)
    )
    lang = language(request)
    names = {b.code: b for b in catalogue.catalogue()}
    listed = applications_table(rows, working, names, translator(lang), lang)
    return export(
        request, session, staff, listed,
        form=form, name=f"applications-{status}", action="export_applications", target=status,
    )  # fmt: skip


@routes.get("/applications/{number}", response_class=HTMLResponse)
def application_page(
    request: Request, session: deps.DB, staff: deps.SignedInStaff, number: ApplicationNumber
) -> Response:
    require_role(staff, *READERS)
    found = applications.get_for_company(
        session=session, company_id=staff.company_id, number=number
    )
    record(session, staff, "view_application", found.number)
    return _render(request, session, staff, found)


def masked_fields(request: Request, found: Application) -> list[tuple[catalogue.FormField, str]]:
    """The form's fields in the business's order, as staff see them: choices in words, phone
    and ID numbers masked."""
    spec = catalogue.business(found.business)
    values = applications.fields_of(found)
    shown = []
    for spec_field in spec.fields:
        if spec_field.name not in values:
            continue
        value = values[spec_field.name]
        if spec_field.kind == "phone":
            value = mask_phone(value)
        elif spec_field.kind == "choice":
            choice = next((c for c in spec_field.choices if c.value == value), None)
            if choice is not None:
                value = choice.zh if language(request) == "zh" else choice.en
        shown.append((spec_field, mask_text(value)))
    return shown


def _render(
    request: Request,
    session: deps.DB,
    staff: Staff,
    found: Application,
    error: str | None = None,
    status_code: int = 200,
    revealed: ContactPhone | None = None,
) -> Response:
    spec = catalogue.business(found.business)
    declared = set(applications.documents_of(found))
    account = session.get(Account, found.account) if found.account is not None else None
    events = applications.history(session=session, application=found)
    assignee = session.get(Staff, found.assigned_to) if found.assigned_to is not None else None
    is_open = found.status in applications.OPEN
    return page(
        request,
        "console/application.html",
        staff,
        status_code=status_code,
        application=found,
        business=spec,
        fields=masked_fields(request, found),
        documents=[(d, d.code in declared) for d in spec.documents],
        account=account,
        history=[(event, mask_text(event.note)) for event in events],
        moves=applications.next_statuses(found) if staff.role in WORKERS else (),
        assignee=assignee,
        team=session.get(Team, found.team_id) if found.team_id is not None else None,
        clock=clock.clock_of(found, business_now(request)),
        can_reveal=assignment.may_reveal(found, staff),
        revealed=revealed,
        agents=(
            assignment.agents(session=session, company_id=staff.company_id)
            if is_open and staff.role in assignment.ASSIGNS
            else []
        ),
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
    csrf_token: CsrfToken = "",
) -> Response:
    """Move the application to `status` with a note (agents and supervisors; accepting it
    makes them its assignee)."""
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
            staff=staff,
        )
    except Conflict as exc:
        return _render(request, session, staff, found, error=str(exc), status_code=409)
    record(session, staff, "work_application", found.number, before=before, after=status)
    return RedirectResponse(f"/console/applications/{found.number}", status_code=303)


@routes.post("/applications/{number}/assignee", response_class=HTMLResponse)
def reassign(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    number: ApplicationNumber,
    username: Annotated[str, Form(max_length=64)],
    csrf_token: CsrfToken = "",
) -> Response:
    """Hand the application to an agent of the company (supervisors)."""
    check_csrf(request, csrf_token)
    require_role(staff, *assignment.ASSIGNS)
    found = applications.get_for_company(
        session=session, company_id=staff.company_id, number=number
    )
    try:
        before, after = assignment.assign(
            session=session, application=found, username=username, by=staff
        )
    except SanbutingError as exc:
        status_code = 409 if isinstance(exc, Conflict) else 422
        return _render(request, session, staff, found, error=str(exc), status_code=status_code)
    record(
        session,
        staff,
        "assign_application",
        found.number,
        before=before.username if before is not None else "",
        after=after.username,
    )
    return RedirectResponse(f"/console/applications/{found.number}", status_code=303)


@routes.post("/applications/{number}/reveal-phone", response_class=HTMLResponse)
def reveal_phone(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    number: ApplicationNumber,
    csrf_token: CsrfToken = "",
) -> Response:
    """The application's contact phone whole, for its assignee only (audited either way)."""
    check_csrf(request, csrf_token)
    found = applications.get_for_company(
        session=session, company_id=staff.company_id, number=number
    )
    try:
        revealed = assignment.reveal_phone(
            session=session, application=found, staff=staff, via="console", now=deps.now()
        )
    except Forbidden:
        record(session, staff, "reveal_phone.refused", found.number)
        refusal = translator(language(request))("console.reveal.refused")
        return render(request, "error.html", status_code=403, detail=refusal, back="/console")
    return _render(request, session, staff, found, revealed=revealed)
