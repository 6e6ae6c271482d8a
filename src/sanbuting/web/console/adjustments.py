"""Console: manual late-fee waivers and write-offs with four eyes (`desk.adjustments`). An
agent or supervisor asks on an account's page, with a reason and a note; another supervisor
approves or rejects it on the list of requests waiting (never their own). Every request and
decision is audited with its reason, amount and notes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sanbuting.desk.adjustments import (
    APPROVERS,
    ASKERS,
    NOTE_LIMIT,
    AdjustmentRequest,
    ask,
    decide,
    pending,
)
from sanbuting.desk.holds import InvalidHold
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError
from sanbuting.web import deps
from sanbuting.web.console import adjustment_messages  # noqa: F401  (registers the words)
from sanbuting.web.console.common import company_of, page, record
from sanbuting.web.deps import require_role
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.web.types import AccountId

routes = APIRouter(prefix="/console")
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Note = Annotated[str, Form(max_length=NOTE_LIMIT)]
Number = Annotated[str, Path(max_length=32, pattern=r"^ADJ-[0-9A-F]+$")]


def refusal(exc: SanbutingError) -> str:
    """The word key of why a request or decision was refused."""
    if isinstance(exc, InvalidHold):
        return exc.code
    for kind, code in ((Forbidden, "four_eyes"), (Conflict, "changed"), (NotFound, "unknown")):
        if isinstance(exc, kind):
            return code
    raise exc


@routes.post("/accounts/{account_id}/adjustments")
def ask_adjustment(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    account_id: AccountId,
    csrf_token: Csrf,
    kind: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=16)],
    note: Note = "",
    until: Annotated[date | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *ASKERS)
    back = f"/console/accounts/{account_id}"
    try:
        made = ask(
            session=session,
            company=company_of(session, staff),
            request=AdjustmentRequest(account_id, kind, reason, note, until),
            by=staff,
            now=deps.now(),
        )
    except SanbutingError as exc:
        return RedirectResponse(f"{back}?adjustment={refusal(exc)}#adjustments", status_code=303)
    record(
        session, staff, "ask_adjustment", account_id,
        number=made.number, kind=kind, fen=made.amount_fen, reason=reason, note=made.note,
    )  # fmt: skip
    return RedirectResponse(f"{back}#adjustments", status_code=303)


@routes.get("/adjustments", response_class=HTMLResponse)
def waiting(request: Request, session: deps.DB, staff: deps.SignedInStaff) -> Response:
    require_role(staff, *ASKERS)
    return page(
        request,
        "console/adjustments.html",
        staff,
        rows=pending(session, company_of(session, staff)),
        can_decide=staff.role in APPROVERS,
    )


@routes.post("/adjustments/{number}/decision")
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
    require_role(staff, *APPROVERS)
    try:
        with session.begin_nested():  # a refused approval leaves nothing half done
            made = decide(
                session=session,
                company=company_of(session, staff),
                number=number,
                approve=verdict == "approve",
                by=staff,
                now=deps.now(),
                note=note,
            )
    except SanbutingError as exc:
        return RedirectResponse(
            f"/console/adjustments?refused={refusal(exc)}&number={number}", status_code=303
        )
    record(
        session, staff, f"{verdict}_adjustment", number,
        kind=made.kind, fen=made.amount_fen, made=made.made or "", note=made.decision_note,
    )  # fmt: skip
    return RedirectResponse("/console/adjustments", status_code=303)
