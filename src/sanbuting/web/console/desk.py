"""Console: the collections desk. A supervisor opens the worklist of the next day's proposed
actions (`desk.worklist`: filtered by utility, region, class, tag, action, arrears and days
overdue, with each reason), locks the chosen accounts with a reason until a day, and exports
any list as CSV or XLSX; an agent records a promise to pay on an account's page; a supervisor
lifts a lock. Every lock, promise, lift and export is audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sanbuting.desk.holds import (
    LOCKERS,
    PROMISERS,
    HoldRequest,
    InvalidHold,
    first_open_day,
    lift_hold,
    set_hold,
)
from sanbuting.desk.worklist import Filters, table, worklist
from sanbuting.domain import parse_yuan
from sanbuting.errors import Conflict, InvalidMoney, NotFound, SanbutingError
from sanbuting.explain.catalogue import Lang
from sanbuting.web import deps
from sanbuting.web.console import desk_messages  # noqa: F401  (registers the desk's words)
from sanbuting.web.console.common import company_of, page, record
from sanbuting.web.console.exports import FileForm, export
from sanbuting.web.deps import require_role
from sanbuting.web.i18n import language
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.web.types import AccountId

routes = APIRouter(prefix="/console")
READERS = ("supervisor", "agent")
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Short = Annotated[str | None, Query(max_length=32)]
Yuan = Annotated[str, Query(max_length=16, pattern=r"^[0-9]*(\.[0-9]{1,2})?$")]
Days = Annotated[str, Query(max_length=5, pattern=r"^[0-9]*$")]
Reason = Annotated[str, Form(max_length=16)]
Steps = Annotated[str, Form(max_length=8)]
MOST_BULK = 2_000


def _filters(
    utility: Short = None,
    region: Annotated[str | None, Query(max_length=6, pattern=r"^[0-9]*$")] = None,
    customer_class: Short = None,
    tag: Short = None,
    action: Short = None,
    min_arrears: Yuan = "",
    max_arrears: Yuan = "",
    min_days: Days = "",
    max_days: Days = "",
) -> Filters:
    """The query's filters (arrears in yuan; an empty field keeps every value)."""
    return Filters(
        utility=utility or None,
        region=region or None,
        customer_class=customer_class or None,
        tag=tag or None,
        action=action or None,
        min_arrears_fen=parse_yuan(min_arrears) if min_arrears else None,
        max_arrears_fen=parse_yuan(max_arrears) if max_arrears else None,
        min_days_overdue=int(min_days) if min_days else None,
        max_days_overdue=int(max_days) if max_days else None,
    )


Chosen = Annotated[Filters, Depends(_filters)]


def _lang(request: Request) -> Lang:
    return "en" if language(request) == "en" else "zh"


def _refused(exc: SanbutingError) -> dict[str, str]:
    """Why a lock, promise or lift was refused, as query parameters the pages put in words."""
    if isinstance(exc, InvalidHold):
        return {"refused": exc.code, **{k: str(v) for k, v in exc.values.items()}}
    if isinstance(exc, InvalidMoney):
        return {"refused": "amount"}
    if isinstance(exc, NotFound):
        return {"refused": "unknown"}
    if isinstance(exc, Conflict):
        return {"refused": "ended"}
    raise exc


@routes.get("/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    filters: Chosen,
    day: Annotated[date | None, Query()] = None,
    locked: Annotated[int | None, Query(ge=0, le=MOST_BULK)] = None,
) -> Response:
    require_role(staff, *READERS)
    company = company_of(session, staff)
    following = first_open_day(session, company)
    chosen = day or following
    found = worklist(
        engine=request.app.state.engine,
        company_id=company.id,
        day=chosen,
        filters=filters,
        lang=_lang(request),
    )
    return page(
        request,
        "console/worklist.html",
        staff,
        company=company,
        day=chosen,
        first_day=following,
        found=found,
        filters=filters,
        query=filters.given(),
        can_lock=staff.role in LOCKERS,
        locked=locked,
    )


@routes.get("/worklist.{form}")
def worklist_file(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    form: FileForm,
    filters: Chosen,
    day: Annotated[date, Query()],
) -> Response:
    """The worklist as shown, as CSV (UTF-8 with a BOM) or XLSX (`web.console.exports`)."""
    require_role(staff, *READERS)
    company = company_of(session, staff)
    found = worklist(
        engine=request.app.state.engine,
        company_id=company.id,
        day=day,
        filters=filters,
        lang=_lang(request),
    )
    return export(
        request, session, staff, table(found.items, day),
        form=form, name=f"worklist-{day}", action="export_worklist", target=str(day),
    )  # fmt: skip


@routes.post("/holds/bulk")
def bulk_lock(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    csrf_token: Csrf,
    accounts: Annotated[list[str], Form(max_length=MOST_BULK)],
    reason: Reason,
    until: Annotated[date, Form()],
    steps: Steps = "all",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Lock the chosen accounts from the next day to be run through `until`; back to the
    worklist as it was asked (`back`: its day and filters)."""
    check_csrf(request, csrf_token)
    require_role(staff, *LOCKERS)
    company = company_of(session, staff)
    start = first_open_day(session, company)
    chosen = list(dict.fromkeys(a[:64] for a in accounts))
    try:
        for account_id in chosen:
            request_ = HoldRequest(account_id, "hold", start, until, reason, steps)
            hold = set_hold(
                session=session, company=company, request=request_, by=staff.username,
                now=deps.now(),
            )  # fmt: skip
            record(session, staff, "lock_account", account_id, hold=hold.hold_id, until=str(until))
    except SanbutingError as exc:
        session.rollback()
        query = urlencode({**_asked(back), **_refused(exc)})
        return RedirectResponse(f"/console/worklist?{query}", status_code=303)
    query = urlencode({**_asked(back), "locked": str(len(chosen))})
    return RedirectResponse(f"/console/worklist?{query}", status_code=303)


ASKED = ("day", "utility", "region", "customer_class", "tag", "action", "min_arrears",
         "max_arrears", "min_days", "max_days")  # fmt: skip


def _asked(back: str) -> dict[str, str]:
    """The worklist's day and filters from a query string (nothing else is kept)."""
    return {k: v[:32] for k, v in parse_qsl(back) if k in ASKED and v}


@routes.post("/accounts/{account_id}/holds")
def add_hold(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    account_id: AccountId,
    csrf_token: Csrf,
    kind: Annotated[str, Form(max_length=16)],
    reason: Reason,
    until: Annotated[date | None, Form()] = None,
    steps: Steps = "all",
    amount: Annotated[str, Form(max_length=20)] = "",
    parts: Annotated[int | None, Form(ge=2, le=60)] = None,
) -> Response:
    """A lock (supervisor), a promise to pay or an instalment plan (agent, supervisor) on one
    account."""
    check_csrf(request, csrf_token)
    require_role(staff, *(LOCKERS if kind == "hold" else PROMISERS))
    company = company_of(session, staff)
    back = f"/console/accounts/{account_id}"
    try:
        fen = parse_yuan(amount) if amount.strip() else None
        start = first_open_day(session, company)
        hold = set_hold(
            session=session,
            company=company,
            request=HoldRequest(account_id, kind, start, until, reason, steps, fen, parts),
            by=staff.username,
            now=deps.now(),
        )
    except SanbutingError as exc:
        return RedirectResponse(f"{back}?{urlencode(_refused(exc))}#holds", status_code=303)
    action = {"hold": "lock_account", "promise": "record_promise"}.get(kind, "agree_plan")
    record(
        session, staff, action, account_id,
        hold=hold.hold_id, until=str(hold.until_on), fen=fen, parts=parts,
    )  # fmt: skip
    return RedirectResponse(f"{back}#holds", status_code=303)


@routes.post("/holds/{hold_id}/lift")
def lift(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    hold_id: Annotated[str, Path(max_length=64)],
    csrf_token: Csrf,
    account_id: Annotated[str, Form(max_length=64)],
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *LOCKERS)
    back = f"/console/accounts/{account_id[:64]}"
    try:
        hold = lift_hold(session=session, company=company_of(session, staff), hold_id=hold_id)
    except SanbutingError as exc:
        return RedirectResponse(f"{back}?{urlencode(_refused(exc))}#holds", status_code=303)
    record(session, staff, "lift_lock", hold_id, until=str(hold.until_on))
    return RedirectResponse(f"{back}#holds", status_code=303)
