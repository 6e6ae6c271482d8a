"""Console: public-service broadcasts (公益短信, `sms.broadcasts`). A supervisor or policy
admin writes a message and a scope (utility, region prefixes, customer classes, tags), previews
how many accounts and distinct numbers it reaches (a sample masked), and asks for approval;
another supervisor approves (which queues it to every number, free of charge, counted per
broadcast) or rejects it, never their own. Every preview, draft and decision is audited."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError
from sanbuting.policy.model import Scope
from sanbuting.sms import broadcasts
from sanbuting.sms.templates import MAX_TEXT
from sanbuting.store.sms_controls import SmsBroadcast
from sanbuting.store.web_models import Staff
from sanbuting.web import deps
from sanbuting.web.console import broadcast_messages  # noqa: F401  (registers the words)
from sanbuting.web.console.common import company_of, page, record
from sanbuting.web.deps import require_role
from sanbuting.web.security import CSRF_FIELD, check_csrf

routes = APIRouter(prefix="/console")
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Text = Annotated[str, Form(max_length=MAX_TEXT + 50)]
Listed = Annotated[str, Form(max_length=600)]
Choices = Annotated[list[str], Form(max_length=3)]
Note = Annotated[str, Form(max_length=broadcasts.NOTE_LIMIT)]
Number = Annotated[str, Path(max_length=32, pattern=r"^GB-[0-9A-F]+$")]
READERS = (*broadcasts.DRAFTERS, *broadcasts.APPROVERS)


def refusal(exc: SanbutingError) -> str:
    """The word key of why a draft or decision was refused."""
    if isinstance(exc, broadcasts.InvalidBroadcast):
        return exc.code
    for kind, code in ((Forbidden, "four_eyes"), (Conflict, "changed"), (NotFound, "unknown")):
        if isinstance(exc, kind):
            return code
    raise exc


def split(listed: str) -> list[str]:
    """Items typed as a list: separated by commas (also ，、), semicolons or spaces."""
    for mark in "，、;；":
        listed = listed.replace(mark, ",")
    return [item for part in listed.split(",") for item in part.split() if item]


def scope_text(broadcast: SmsBroadcast) -> dict[str, list[str]]:
    return {key: list(value) for key, value in json.loads(broadcast.scope).items()}


def _page(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    entered: dict[str, object] | None = None,
    seen: broadcasts.Preview | None = None,
    as_sent: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    company = company_of(session, staff)
    rows = broadcasts.recent(session, company)
    ids = {r.drafted_by for r in rows} | {r.decided_by for r in rows if r.decided_by}
    names = dict(session.execute(select(Staff.id, Staff.username).where(Staff.id.in_(ids))).all())
    return page(
        request,
        "console/broadcasts.html",
        staff,
        status_code=status_code,
        rows=rows,
        names=names,
        scope_text=scope_text,
        can_draft=staff.role in broadcasts.DRAFTERS,
        can_decide=staff.role in broadcasts.APPROVERS,
        entered=entered or {},
        seen=seen,
        as_sent=as_sent,
        error=error or request.query_params.get("refused", ""),
        drafted=request.query_params.get("drafted", ""),
        max_text=MAX_TEXT,
    )


@routes.get("/broadcasts", response_class=HTMLResponse)
def listing(request: Request, session: deps.DB, staff: deps.SignedInStaff) -> Response:
    require_role(staff, *READERS)
    return _page(request, session, staff)


def _scope(utilities: list[str], regions: str, classes: list[str], tags: str) -> Scope:
    return broadcasts.make_scope(
        utilities=utilities, regions=split(regions), classes=classes, tags=split(tags)
    )


@routes.post("/broadcasts/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    csrf_token: Csrf,
    text: Text = "",
    regions: Listed = "",
    tags: Listed = "",
    utility: Choices | None = None,
    customer_class: Choices | None = None,
    emergency: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *broadcasts.DRAFTERS)
    entered: dict[str, object] = {
        "text": text, "regions": regions, "tags": tags, "utility": utility or [],
        "customer_class": customer_class or [], "emergency": emergency,
    }  # fmt: skip
    company = company_of(session, staff)
    try:
        scope = _scope(utility or [], regions, customer_class or [], tags)
        as_sent = broadcasts.rendered(company, broadcasts.clean_text(text)) if text.strip() else ""
    except SanbutingError as exc:
        return _page(request, session, staff, entered=entered, error=refusal(exc), status_code=400)
    seen = broadcasts.preview(session=session, company=company, scope=scope)
    record(
        session, staff, "preview_broadcast", "",
        scope=broadcasts.scope_json(scope), numbers=seen.numbers,
    )  # fmt: skip
    return _page(request, session, staff, entered=entered, seen=seen, as_sent=as_sent)


@routes.post("/broadcasts")
def draft(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    csrf_token: Csrf,
    text: Text = "",
    regions: Listed = "",
    tags: Listed = "",
    utility: Choices | None = None,
    customer_class: Choices | None = None,
    emergency: Annotated[bool, Form()] = False,
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *broadcasts.DRAFTERS)
    try:
        made = broadcasts.draft(
            session=session,
            company=company_of(session, staff),
            text=text,
            scope=_scope(utility or [], regions, customer_class or [], tags),
            emergency=emergency,
            by=staff,
            now=deps.now(),
        )
    except SanbutingError as exc:
        return RedirectResponse(f"/console/broadcasts?refused={refusal(exc)}", status_code=303)
    record(
        session, staff, "draft_broadcast", made.number,
        scope=made.scope, numbers=made.numbers, emergency=made.emergency, text=made.text,
    )  # fmt: skip
    return RedirectResponse(f"/console/broadcasts?drafted={made.number}", status_code=303)


@routes.post("/broadcasts/{number}/decision")
def decision(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    number: Number,
    csrf_token: Csrf,
    verdict: Annotated[str, Form(pattern=r"^(approve|reject)$")],
    note: Note = "",
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *broadcasts.APPROVERS)
    try:
        with session.begin_nested():  # a refused decision leaves nothing half done
            made = broadcasts.decide(
                session=session,
                company=company_of(session, staff),
                number=number,
                approve=verdict == "approve",
                by=staff,
                now=deps.now(),
                note=note,
            )
    except SanbutingError as exc:
        return RedirectResponse(f"/console/broadcasts?refused={refusal(exc)}", status_code=303)
    record(
        session, staff, f"{verdict}_broadcast", number,
        numbers=made.numbers, queued=made.queued, refused=made.refused, note=made.decision_note,
    )  # fmt: skip
    return RedirectResponse("/console/broadcasts#broadcast-list", status_code=303)
