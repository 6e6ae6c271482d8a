"""Field work orders for staff (`field.service`): the worklists of cut-offs, reconnections and
meter closings with their address, arrears, deadline and crew (GET /staff/field-orders?view=
open|overdue|closed|paid_at_door[&team=CODE]), one order (GET /staff/field-orders/{id}),
handing it to a crew (PUT .../crew, a supervisor) and the crew's report (POST .../report:
done, not done with a reason, or paid at the door with the amount claimed, which posts no
payment). Overdue is computed at the request's time. Every call, and every refusal, is
audited; free text is masked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sanbuting.errors import SanbutingError
from sanbuting.field import orders, service
from sanbuting.privacy import mask_text
from sanbuting.store.web_models import FieldOrder, Staff
from sanbuting.web.api.common import REFUSALS, SECURED, Now, audit, errors, refused
from sanbuting.web.api.schemas import Paged, Strict
from sanbuting.web.api.ticket_schemas import Note, TeamCode
from sanbuting.web.deps import DB, SignedInStaff
from sanbuting.web.types import Fen, Page, PageSize

router = APIRouter(tags=["field orders"], dependencies=SECURED)
WorkOrder = Annotated[int, Path(ge=1, le=2**31 - 1, description="The field order's id.")]
Amount = Annotated[int, Field(ge=0, le=10**15)]
Seconds = Annotated[int, Field(ge=-(10**10), le=10**10)]
ViewParam = Annotated[
    service.View,
    Query(
        description="open: not reported yet; overdue: open and past the deadline now; closed: "
        "reported; paid_at_door: the claims for a cashier to post."
    ),
]
TeamParam = Annotated[
    str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{1,31}$", description="One crew's orders.")
]


class FieldOrderOut(BaseModel):
    id: Annotated[int, Field(ge=1)]
    account_id: str
    kind: Literal["cut_off", "reconnect", "meter_close"]
    action: str = Field(description="The outbox order it was made from (disconnect, …).")
    day: date = Field(description="The day the order was decided for.")
    address: str = Field(description="The service address (the account's region by name).")
    arrears_fen: Amount = Field(description="The arrears when the order was sent (fen).")
    deadline: datetime
    deadline_source: str = Field(description="Where the deadline comes from.")
    team: TeamCode | None = Field(description="The crew working it.")
    status: Literal["open", "assigned", "done", "not_done", "paid_at_door"]
    reason: service.Reason | None = Field(description="Why it was not done.")
    paid_fen: Amount | None = Field(
        description="Paid at the door, as the customer says (not posted: a cashier posts it)."
    )
    note: str
    reported_by: str | None
    reported_at: datetime | None
    state: Literal["running", "overdue", "met", "missed", "closed"]
    overdue: bool
    seconds_left: Seconds | None = Field(description="Until the deadline; negative when late.")


class CrewIn(Strict):
    team: TeamCode


class ReportIn(Strict):
    """`not_done` needs a `reason`; `paid_at_door` the amount the customer says they paid."""

    outcome: Literal["done", "not_done", "paid_at_door"]
    reason: service.Reason | None = None
    paid_fen: Fen | None = None
    note: Note = ""


def out(session: Session, order: FieldOrder, now: datetime) -> FieldOrderOut:
    clock = orders.clock_of(order, now)
    numbers = service.account_ids(session=session, orders=[order])
    crew = service.crews(session=session, company_id=order.company_id, orders=[order])
    reporter = session.get(Staff, order.reported_by) if order.reported_by else None
    return FieldOrderOut.model_validate(
        {
            "id": order.id,
            "account_id": numbers[order.account],
            "kind": order.kind,
            "action": order.action,
            "day": order.day,
            "address": order.address,
            "arrears_fen": order.arrears_fen,
            "deadline": clock.deadline,
            "deadline_source": order.deadline_source,
            "team": crew[order.team_id].code if order.team_id in crew else None,
            "status": order.status,
            "reason": order.reason,
            "paid_fen": order.paid_fen,
            "note": mask_text(order.note),
            "reported_by": reporter.username if reporter else None,
            "reported_at": order.reported_at,
            "state": clock.state,
            "overdue": clock.overdue,
            "seconds_left": clock.seconds_left,
        }
    )


@router.get(
    "/staff/field-orders",
    response_model=Paged[FieldOrderOut],
    responses=errors(400, 401, 403, 404, 422),
    summary="A worklist of field orders: by deadline",
)
def worklist(
    session: DB,
    staff: SignedInStaff,
    now: Now,
    view: ViewParam = "open",
    team: TeamParam = None,
    page: Page = 1,
    size: PageSize = 20,
) -> Paged[FieldOrderOut] | JSONResponse:
    """Supervisors: the company's; agents: their crew's (403 when in none); cashiers: the
    claims of payment at the door. An unknown crew is 404."""
    try:
        rows, total = service.worklist(
            session=session, staff=staff, view=view, now=now, team=team, page=page, size=size
        )
    except SanbutingError as exc:
        return refused(session, staff, "api.field.list", view, now, exc)
    audit(session, staff, "api.field.list", view, now)
    items = [out(session, order, now) for order in rows]
    return Paged[FieldOrderOut](items=items, page=page, size=size, total=total)


@router.get(
    "/staff/field-orders/{work_order}",
    response_model=FieldOrderOut,
    responses=errors(401, 403, 404, 422),
    summary="One of my company's field orders",
)
def one_order(
    work_order: WorkOrder, session: DB, staff: SignedInStaff, now: Now
) -> FieldOrderOut | JSONResponse:
    try:
        found = service.get_order(session=session, staff=staff, order_id=work_order)
    except REFUSALS as exc:
        return refused(session, staff, "api.field.read", str(work_order), now, exc)
    audit(session, staff, "api.field.read", str(work_order), now)
    return out(session, found, now)


@router.put(
    "/staff/field-orders/{work_order}/crew",
    response_model=FieldOrderOut,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="Hand a field order to a crew (a team)",
)
def hand_to_crew(
    work_order: WorkOrder, body: CrewIn, session: DB, staff: SignedInStaff, now: Now
) -> FieldOrderOut | JSONResponse:
    """A supervisor; an unknown crew is 404, a reported order 409."""
    try:
        found = service.get_order(session=session, staff=staff, order_id=work_order)
        service.assign(session=session, order=found, by=staff, team=body.team, now=now)
    except SanbutingError as exc:
        return refused(session, staff, "api.field.assign", str(work_order), now, exc)
    return out(session, found, now)


@router.post(
    "/staff/field-orders/{work_order}/report",
    response_model=FieldOrderOut,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="The crew's report: done, not done (with a reason) or paid at the door",
)
def report(
    work_order: WorkOrder, body: ReportIn, session: DB, staff: SignedInStaff, now: Now
) -> FieldOrderOut | JSONResponse:
    """A member of the order's crew, or a supervisor. Paid at the door records the amount
    claimed and posts no payment; an order without a crew, or reported already, is 409."""
    said = service.Report(body.outcome, body.reason, body.paid_fen, body.note)
    try:
        found = service.get_order(session=session, staff=staff, order_id=work_order)
        service.report(session=session, order=found, by=staff, said=said, now=now)
    except SanbutingError as exc:
        return refused(session, staff, "api.field.report", str(work_order), now, exc)
    return out(session, found, now)
