"""The staff API of public-service broadcasts (公益短信, `sms.broadcasts`): previewing what a
scope reaches, drafting (supervisor, policy admin), the company's broadcasts, and a decision
by another supervisor (four eyes), which queues the message to every number. Every call and
every refusal is audited."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sanbuting.policy.model import Scope
from sanbuting.sms import broadcasts as service
from sanbuting.sms.templates import MAX_TEXT
from sanbuting.store.models import Company
from sanbuting.store.sms_controls import SmsBroadcast
from sanbuting.web.api.common import REFUSALS, SECURED, Now, audit, errors, refused
from sanbuting.web.api.schemas import Strict
from sanbuting.web.deps import DB, SignedInStaff, require_role

router = APIRouter(tags=["broadcasts"], dependencies=SECURED)
Number = Annotated[str, Path(max_length=32, pattern=r"^GB-[0-9A-F]+$")]
Prefix = Annotated[str, Field(pattern=r"^[0-9]{2}(?:[0-9]{2}){0,2}$")]
Tag = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[^;\s]+$")]
Items = service.MOST_ITEMS
FAILURES = (*REFUSALS, service.InvalidBroadcast)


class ScopeIn(Strict):
    """Whom a broadcast reaches, read as a relief policy's scope: every key given must match,
    a list matches any of its items, an empty list matches all."""

    utility: list[Literal["power", "telecom", "gas"]] = Field(default=[], max_length=3)
    region: list[Prefix] = Field(default=[], max_length=Items, description="GB/T 2260 prefixes")
    customer_class: list[Literal["residential", "non_residential"]] = Field(
        default=[], max_length=2
    )
    tags: list[Tag] = Field(default=[], max_length=Items)

    def scope(self) -> Scope:
        return service.make_scope(
            utilities=self.utility,
            regions=self.region,
            classes=self.customer_class,
            tags=self.tags,
        )


class BroadcastIn(Strict):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    scope: ScopeIn = ScopeIn()
    emergency: bool = Field(
        False, description="An emergency warning: sent at night and to numbers opted out."
    )


class DecisionIn(Strict):
    approve: bool
    note: str = Field("", max_length=service.NOTE_LIMIT)


class PreviewOut(BaseModel):
    accounts: int = Field(description="Accounts of the company the scope covers.")
    numbers: int = Field(description="Distinct mobile numbers on record among them.")
    opted_out: int = Field(description="Of those, numbers opted out of non-essential messages.")
    sample: list[str] = Field(description="Up to five of the numbers, masked.")


class BroadcastOut(BaseModel):
    number: str
    text: str
    scope: dict[str, list[str]]
    emergency: bool
    status: str
    numbers: int = Field(description="Distinct numbers reached (when drafted; when approved).")
    queued: int = Field(description="Messages queued on approval (free of charge).")
    refused: int = Field(description="Messages the sending rules refused (opt-out, daily cap).")
    drafted_at: datetime
    decided_at: datetime | None
    decision_note: str


def _out(made: SmsBroadcast) -> BroadcastOut:
    return BroadcastOut(
        number=made.number,
        text=made.text,
        scope=json.loads(made.scope),
        emergency=made.emergency,
        status=made.status,
        numbers=made.numbers,
        queued=made.queued,
        refused=made.refused,
        drafted_at=made.drafted_at,
        decided_at=made.decided_at,
        decision_note=made.decision_note,
    )


def _company(session: DB, staff: SignedInStaff) -> Company:
    company = session.get(Company, staff.company_id)
    assert company is not None  # a foreign key
    return company


@router.post(
    "/staff/broadcasts/preview",
    response_model=PreviewOut,
    responses=errors(400, 401, 403, 422),
    summary="What a broadcast's scope reaches now (supervisor, policy admin)",
)
def preview(
    body: ScopeIn, session: DB, staff: SignedInStaff, now: Now
) -> PreviewOut | JSONResponse:
    try:
        require_role(staff, *service.DRAFTERS)
        seen = service.preview(
            session=session, company=_company(session, staff), scope=body.scope()
        )
    except FAILURES as exc:
        return refused(session, staff, "api.broadcasts.preview", "", now, exc)
    audit(session, staff, "api.broadcasts.preview", f"numbers:{seen.numbers}", now)
    return PreviewOut(
        accounts=seen.accounts, numbers=seen.numbers, opted_out=seen.opted_out,
        sample=list(seen.sample),
    )  # fmt: skip


@router.post(
    "/staff/broadcasts",
    status_code=201,
    response_model=BroadcastOut,
    responses=errors(400, 401, 403, 422),
    summary="Draft a public-service broadcast for another supervisor's approval",
)
def draft(
    body: BroadcastIn, session: DB, staff: SignedInStaff, now: Now
) -> BroadcastOut | JSONResponse:
    """Nothing is sent until another supervisor approves."""
    try:
        require_role(staff, *service.DRAFTERS)
        made = service.draft(
            session=session, company=_company(session, staff), text=body.text,
            scope=body.scope.scope(), emergency=body.emergency, by=staff, now=now,
        )  # fmt: skip
    except FAILURES as exc:
        return refused(session, staff, "api.broadcasts.draft", "", now, exc)
    audit(session, staff, "api.broadcasts.draft", made.number, now)
    return _out(made)


@router.get(
    "/staff/broadcasts",
    response_model=list[BroadcastOut],
    responses=errors(401, 403),
    summary="The company's broadcasts, newest first (at most 50)",
)
def listing(session: DB, staff: SignedInStaff, now: Now) -> list[BroadcastOut] | JSONResponse:
    try:
        require_role(staff, *service.DRAFTERS, *service.APPROVERS)
    except REFUSALS as exc:
        return refused(session, staff, "api.broadcasts.list", "", now, exc)
    return [_out(made) for made in service.recent(session, _company(session, staff))]


@router.post(
    "/staff/broadcasts/{broadcast}/decision",
    response_model=BroadcastOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Approve (and queue) or reject a broadcast (another supervisor: four eyes)",
)
def decision(
    broadcast: Number, body: DecisionIn, session: DB, staff: SignedInStaff, now: Now
) -> BroadcastOut | JSONResponse:
    """403 for its drafter; 409 when it was decided already."""
    try:
        require_role(staff, *service.APPROVERS)
        with session.begin_nested():
            made = service.decide(
                session=session, company=_company(session, staff), number=broadcast,
                approve=body.approve, by=staff, now=now, note=body.note,
            )  # fmt: skip
    except FAILURES as exc:
        return refused(session, staff, "api.broadcasts.decide", broadcast, now, exc)
    audit(session, staff, "api.broadcasts.decide", f"{broadcast}:{made.status}", now)
    return _out(made)
