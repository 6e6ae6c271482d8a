"""The staff API of manual late-fee waivers and write-offs (`desk.adjustments`): asking
(agent, supervisor), the requests waiting, and a decision by another supervisor (four eyes).
Every call and every refusal is audited with the reason and notes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sanbuting.desk import adjustments as desk
from sanbuting.store.models import Company
from sanbuting.store.web_models import FeeAdjustment
from sanbuting.web.api.common import REFUSALS, SECURED, Now, audit, errors, refused
from sanbuting.web.api.schemas import Strict
from sanbuting.web.deps import DB, SignedInStaff, require_role
from sanbuting.web.types import AccountId

router = APIRouter(tags=["collections desk"], dependencies=SECURED)
Number = Annotated[str, Path(max_length=32, pattern=r"^ADJ-[0-9A-F]+$")]
Note = Annotated[str, Field(max_length=desk.NOTE_LIMIT)]


class AdjustmentIn(Strict):
    kind: Literal["waive_fee", "write_off"] = Field(
        description="Waive the late fees of the bills issued so far, or write off what is "
        "overdue (principal and fees) as bad debt."
    )
    reason: Literal["dispute", "medical", "hardship", "disaster", "other"]
    note: Note = ""
    until: date | None = Field(
        None, description="A waiver's last day without fees (default: the first day not run)."
    )


class DecisionIn(Strict):
    approve: bool
    note: Note = ""


class AdjustmentOut(BaseModel):
    number: str
    kind: str
    amount_fen: int = Field(description="The fees to waive, or what to write off, when asked.")
    until: date | None
    reason: str
    note: str
    status: str
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str
    made: str | None = Field(description="The waiver's hold id, the write-off's payment key.")


def _out(adjustment: FeeAdjustment) -> AdjustmentOut:
    return AdjustmentOut(
        number=adjustment.number,
        kind=adjustment.kind,
        amount_fen=adjustment.amount_fen,
        until=adjustment.until_on,
        reason=adjustment.reason,
        note=adjustment.note,
        status=adjustment.status,
        requested_at=adjustment.requested_at,
        decided_at=adjustment.decided_at,
        decision_note=adjustment.decision_note,
        made=adjustment.made,
    )


def _company(session: DB, staff: SignedInStaff) -> Company:
    company = session.get(Company, staff.company_id)
    assert company is not None  # a foreign key
    return company


@router.post(
    "/staff/accounts/{account_id}/adjustments",
    status_code=201,
    response_model=AdjustmentOut,
    responses=errors(400, 401, 403, 404, 422),
    summary="Ask for a late-fee waiver or a write-off (agent, supervisor)",
)
def ask(
    account_id: AccountId, body: AdjustmentIn, session: DB, staff: SignedInStaff, now: Now
) -> AdjustmentOut | JSONResponse:
    """Nothing changes until another supervisor approves (400 when there is nothing to
    waive or write off, or a request of the kind waits already)."""
    try:
        require_role(staff, *desk.ASKERS)
        request = desk.AdjustmentRequest(account_id, body.kind, body.reason, body.note, body.until)
        made = desk.ask(
            session=session, company=_company(session, staff), request=request, by=staff, now=now
        )
    except REFUSALS as exc:
        return refused(session, staff, "api.adjustments.ask", account_id, now, exc)
    audit(session, staff, "api.adjustments.ask", f"{account_id}:{made.number}", now)
    return _out(made)


@router.get(
    "/staff/adjustments",
    response_model=list[AdjustmentOut],
    responses=errors(401, 403),
    summary="The waivers and write-offs waiting for a decision, oldest first",
)
def waiting(session: DB, staff: SignedInStaff, now: Now) -> list[AdjustmentOut] | JSONResponse:
    try:
        require_role(staff, *desk.ASKERS)
    except REFUSALS as exc:
        return refused(session, staff, "api.adjustments.list", "", now, exc)
    return [_out(made) for made, _ in desk.pending(session, _company(session, staff))]


@router.post(
    "/staff/adjustments/{adjustment}/decision",
    response_model=AdjustmentOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Approve or reject a waiver or write-off (another supervisor: four eyes)",
)
def decision(
    adjustment: Number, body: DecisionIn, session: DB, staff: SignedInStaff, now: Now
) -> AdjustmentOut | JSONResponse:
    """403 for the person who asked; 409 when it was decided already or, for a write-off,
    when what the account owes changed since it was asked."""
    try:
        require_role(staff, *desk.APPROVERS)
        with session.begin_nested():
            made = desk.decide(
                session=session, company=_company(session, staff), number=adjustment,
                approve=body.approve, by=staff, now=now, note=body.note,
            )  # fmt: skip
    except REFUSALS as exc:
        return refused(session, staff, "api.adjustments.decide", adjustment, now, exc)
    audit(session, staff, "api.adjustments.decide", f"{adjustment}:{made.status}", now)
    return _out(made)
