"""Console: field work orders (`/console/field`). A supervisor (the dispatcher's desk) sees the
company's open, overdue and reported cut-offs, reconnections and meter closings with their
address, arrears, deadline and crew, overdue ones flagged at the business clock's now, and
hands an order to a crew; a crew member (an agent in the order's team) sees their crew's
orders and reports one done, not done (with a reason) or paid at the door (the amount claimed,
for a cashier to post: no payment is made here); a cashier sees those claims. Holders' names
are masked unless the role may see them. Every view and action is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sanbuting.customers.service import holder_name, masked_name
from sanbuting.domain import parse_yuan
from sanbuting.errors import Conflict, Forbidden, InvalidMoney, NotFound, SanbutingError
from sanbuting.field import orders, service
from sanbuting.staff import teams
from sanbuting.staff.service import can_see_personal_data
from sanbuting.store.models import Account
from sanbuting.store.web_models import FieldOrder, Staff
from sanbuting.web import deps
from sanbuting.web.console.common import business_now, page, record
from sanbuting.web.console.exports import MOST_ROWS, FileForm, export
from sanbuting.web.console.field_messages import ERRORS
from sanbuting.web.console.tables import field_table
from sanbuting.web.deps import require_role
from sanbuting.web.i18n import language, translator
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.web.types import Page

routes = APIRouter(prefix="/console")
PAGE_SIZE = 50
READERS = ("supervisor", "agent", "cashier")
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Short = Annotated[str, Form(max_length=64)]
NoteText = Annotated[str, Form(max_length=2000)]
TeamQuery = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{1,31}$")]
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@routes.get("/field", response_class=HTMLResponse)
def worklist(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    view: Annotated[service.View | None, Query()] = None,
    team: TeamQuery = None,
    page_number: Annotated[Page, Query(alias="page")] = 1,
    done: Annotated[str | None, Query(pattern=r"^(assigned|reported)$")] = None,
) -> Response:
    require_role(staff, *READERS)
    chosen: service.View = view or ("paid_at_door" if staff.role == "cashier" else "open")
    return _page(request, session, staff, chosen, team, page_number, done=done)


@routes.get("/field.{form}")
def worklist_file(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    form: FileForm,
    view: Annotated[service.View | None, Query()] = None,
    team: TeamQuery = None,
) -> Response:
    """The worklist `view` (of `team`), every page of it (up to `exports.MOST_ROWS`), with each
    order's clock at the business clock's now, holders as on screen."""
    require_role(staff, *READERS)
    chosen: service.View = view or ("paid_at_door" if staff.role == "cashier" else "open")
    now = business_now(request)
    rows, _ = service.worklist(
        session=session, staff=staff, view=chosen, now=now, team=team, size=MOST_ROWS
    )
    listed = field_table(
        [(order, orders.clock_of(order, now)) for order in rows],
        service.account_ids(session=session, orders=rows),
        _holders(session, staff, rows),
        service.crews(session=session, company_id=staff.company_id, orders=rows),
        translator(language(request)),
    )
    return export(
        request, session, staff, listed,
        form=form, name=f"field-{chosen}", action="export_field", target=chosen,
        team=team or "",
    )  # fmt: skip


def _page(
    request: Request,
    session: Session,
    staff: Staff,
    view: service.View,
    team: str | None,
    page_number: int,
    *,
    done: str | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    now = business_now(request)
    refused = ""
    try:
        rows, total = service.worklist(
            session=session,
            staff=staff,
            view=view,
            now=now,
            team=team,
            page=page_number,
            size=PAGE_SIZE,
        )
    except (Forbidden, NotFound) as exc:
        rows, total, refused = [], 0, _error_key(exc, staff)
    record(session, staff, "view_field", view, team=team or "")
    crew = teams.team_of(session=session, staff=staff)
    return page(
        request,
        "console/field.html",
        staff,
        status_code=status_code,
        rows=[(order, orders.clock_of(order, now)) for order in rows],
        numbers=service.account_ids(session=session, orders=rows),
        holders=_holders(session, staff, rows),
        crews=service.crews(session=session, company_id=staff.company_id, orders=rows),
        all_crews=[t for t, _ in teams.teams(session=session, company_id=staff.company_id)],
        my_crew=crew.id if crew is not None else None,
        view=view,
        views=service.VIEWS if staff.role != "cashier" else ("paid_at_door",),
        team=team or "",
        reasons=service.REASONS,
        refused=refused,
        error=error,
        done=done,
        total=total,
        page_number=page_number,
        more=page_number * PAGE_SIZE < total,
        can_assign=staff.role in service.DISPATCHERS,
        can_report=staff.role in (*service.DISPATCHERS, *service.CREWS),
    )


def _holders(session: Session, staff: Staff, rows: list[FieldOrder]) -> dict[int, str]:
    whole = can_see_personal_data(staff)
    shown: dict[int, str] = {}
    for order in rows:
        account = session.get(Account, order.account)
        name = holder_name(session=session, account=account) if account is not None else None
        shown[order.account] = (name if whole else masked_name(name)) if name else ""
    return shown


def _error_key(exc: SanbutingError, staff: Staff) -> str:
    if isinstance(exc, NotFound):
        return "notfound"
    if isinstance(exc, Forbidden):
        return "nocrew" if staff.role == "agent" else "role"
    if isinstance(exc, Conflict):
        return "state"
    return "input"


@routes.post("/field/{order_id}/crew")
def assign(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    order_id: OrderId,
    team: Annotated[str, Form(max_length=32)],
    csrf_token: Csrf,
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *service.DISPATCHERS)
    now = business_now(request)
    try:
        found = service.get_order(session=session, staff=staff, order_id=order_id)
        service.assign(session=session, order=found, by=staff, team=team, now=now)
    except SanbutingError as exc:
        return _refused(request, session, staff, "field.assign.refused", order_id, exc)
    return RedirectResponse("/console/field?done=assigned", status_code=303)


@routes.post("/field/{order_id}/report")
def report(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    order_id: OrderId,
    outcome: Short,
    csrf_token: Csrf,
    reason: Short = "",
    paid_yuan: Annotated[str, Form(max_length=20)] = "",
    note: NoteText = "",
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *service.DISPATCHERS, *service.CREWS)
    now = business_now(request)
    try:
        said = _said(outcome, reason, paid_yuan, note)
        found = service.get_order(session=session, staff=staff, order_id=order_id)
        service.report(session=session, order=found, by=staff, said=said, now=now)
    except SanbutingError as exc:
        return _refused(request, session, staff, "field.report.refused", order_id, exc)
    return RedirectResponse("/console/field?done=reported", status_code=303)


def _said(outcome: str, reason: str, paid_yuan: str, note: str) -> service.Report:
    if outcome not in service.OUTCOMES:
        raise SanbutingError("outcome")
    if outcome == "not_done" and reason not in service.REASONS:
        raise SanbutingError("reason")
    paid = None
    if outcome == "paid_at_door":
        try:
            paid = parse_yuan(paid_yuan) if paid_yuan.strip() else None
        except InvalidMoney:
            paid = None
        if not paid:
            raise InvalidMoney("amount")
    chosen = next(o for o in service.OUTCOMES if o == outcome)
    picked = next((r for r in service.REASONS if r == reason), None)
    return service.Report(chosen, picked if chosen == "not_done" else None, paid, note)


def _refused(
    request: Request,
    session: Session,
    staff: Staff,
    action: str,
    order_id: int,
    exc: SanbutingError,
) -> Response:
    record(session, staff, action, str(order_id), error=str(exc))
    key = "amount" if isinstance(exc, InvalidMoney) else _error_key(exc, staff)
    if key == "input" and str(exc) == "reason":
        key = "reason"
    status = {"notfound": 404, "role": 403, "nocrew": 403, "state": 409}.get(key, 400)
    view: service.View = "paid_at_door" if staff.role == "cashier" else "open"
    return _page(request, session, staff, view, None, 1, error=ERRORS[key], status_code=status)
