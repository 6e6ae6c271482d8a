"""The staff API of the collections desk (docs/account-relief.md): an account's locks and
promises to pay, setting one, lifting a lock, and the worklist of a day's proposed actions
with the same filters as the console. Roles as in the console (`desk.holds`); every call and
every refusal is audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from sanbuting.desk import holds as desk
from sanbuting.desk.worklist import Filters, worklist
from sanbuting.errors import NotFound
from sanbuting.store.models import Account, AccountHold, Company
from sanbuting.web.api.common import REFUSALS, SECURED, Now, audit, errors, refused
from sanbuting.web.api.schemas import Strict
from sanbuting.web.deps import DB, SignedInStaff, require_role
from sanbuting.web.types import AccountId

router = APIRouter(tags=["collections desk"], dependencies=SECURED)
Amount = Annotated[int, Field(ge=1, le=10**13, description="Fen.")]
HoldId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class HoldIn(Strict):
    kind: Literal["hold", "promise", "instalments"] = Field(
        description="A lock (supervisor), a promise or an instalment plan (agent, supervisor)."
    )
    until: date | None = Field(
        None,
        description="The last day a lock acts, the day a promise is due by (required for "
        "both); a plan's last day is its last part's due day.",
    )
    reason: Literal["dispute", "medical", "hardship", "disaster", "other"]
    steps: Literal["all", "notice"] = Field("all", description="What a lock holds.")
    amount_fen: Amount | None = Field(None, description="A promise's amount, a plan's total.")
    instalments: int | None = Field(
        None, ge=2, le=60, description="A plan's parts, due monthly from the first open day."
    )


class HoldOut(BaseModel):
    hold_id: str
    kind: str
    start: date = Field(description="The first day it acts.")
    until: date | None
    steps: str
    amount_fen: int | None
    instalments: int | None
    reason: str
    set_by: str
    set_at: datetime


class WorkRow(BaseModel):
    account_id: str
    action: str
    step: str
    bill_id: str
    policy_id: str
    reason: str
    arrears_fen: int
    days_overdue: int | None
    utility: str
    region: str
    customer_class: str
    tags: list[str]
    relief: str = Field(description="The exempt and defer policies in scope and why none stops it.")


class WorklistOut(BaseModel):
    day: date
    recorded: bool = Field(description="The day is recorded already: nothing is proposed.")
    cut: bool = Field(description="More rows matched than a list holds (100,000).")
    rows: list[WorkRow]


def _out(hold: AccountHold) -> HoldOut:
    return HoldOut(
        hold_id=hold.hold_id,
        kind=hold.kind,
        start=hold.start_on,
        until=hold.until_on,
        steps=hold.steps,
        amount_fen=hold.amount_fen,
        instalments=hold.instalments,
        reason=hold.reason,
        set_by=hold.set_by,
        set_at=hold.set_at,
    )


def _company_and_account(
    session: DB, staff: SignedInStaff, account_id: str
) -> tuple[Company, Account]:
    company = session.get(Company, staff.company_id)
    account = session.scalar(
        select(Account).where(
            Account.company_id == staff.company_id, Account.account_id == account_id
        )
    )
    if company is None or account is None:
        raise NotFound(f"no account {account_id} in your company")
    return company, account


@router.get(
    "/staff/accounts/{account_id}/holds",
    response_model=list[HoldOut],
    responses=errors(401, 403, 404, 422),
    summary="An account's locks and promises to pay, newest first",
)
def account_holds(
    account_id: AccountId, session: DB, staff: SignedInStaff, now: Now
) -> list[HoldOut] | JSONResponse:
    try:
        require_role(staff, *desk.PROMISERS)
        company, account = _company_and_account(session, staff, account_id)
    except REFUSALS as exc:
        return refused(session, staff, "api.holds.list", account_id, now, exc)
    audit(session, staff, "api.holds.list", account_id, now)
    return [_out(hold) for hold in desk.holds_of(session, company, account)]


@router.post(
    "/staff/accounts/{account_id}/holds",
    status_code=201,
    response_model=HoldOut,
    responses=errors(400, 401, 403, 404, 422),
    summary="Lock an account (supervisor), record a promise to pay or agree an instalment plan "
    "(agent, supervisor)",
)
def add_hold(
    account_id: AccountId, body: HoldIn, session: DB, staff: SignedInStaff, now: Now
) -> HoldOut | JSONResponse:
    """It acts from the first day the daily run has not recorded (400 for a day before)."""
    try:
        require_role(staff, *(desk.LOCKERS if body.kind == "hold" else desk.PROMISERS))
        company = session.get(Company, staff.company_id)
        assert company is not None  # a foreign key
        start = desk.first_open_day(session, company)
        request = desk.HoldRequest(
            account_id, body.kind, start, body.until, body.reason, body.steps, body.amount_fen,
            body.instalments,
        )  # fmt: skip
        hold = desk.set_hold(
            session=session, company=company, request=request, by=staff.username, now=now
        )
    except REFUSALS as exc:
        return refused(session, staff, "api.holds.add", account_id, now, exc)
    audit(session, staff, "api.holds.add", f"{account_id}:{hold.hold_id}", now)
    return _out(hold)


@router.post(
    "/staff/holds/{hold_id}/lift",
    response_model=HoldOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Lift a lock from the first day not recorded (supervisor)",
)
def lift_hold(
    hold_id: HoldId, session: DB, staff: SignedInStaff, now: Now
) -> HoldOut | JSONResponse:
    try:
        require_role(staff, *desk.LOCKERS)
        company = session.get(Company, staff.company_id)
        assert company is not None  # a foreign key
        hold = desk.lift_hold(session=session, company=company, hold_id=hold_id)
    except REFUSALS as exc:
        return refused(session, staff, "api.holds.lift", hold_id, now, exc)
    audit(session, staff, "api.holds.lift", hold_id, now)
    return _out(hold)


Short = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9_]+$")]


@router.get(
    "/staff/worklist",
    response_model=WorklistOut,
    responses=errors(401, 403, 422),
    summary="The proposed actions of a day not recorded yet, filtered (nothing is recorded)",
)
def day_worklist(
    request: Request,
    session: DB,
    staff: SignedInStaff,
    now: Now,
    day: Annotated[date | None, Query(description="Default: the first day not recorded.")] = None,
    utility: Short = None,
    region: Annotated[str | None, Query(max_length=6, pattern=r"^[0-9]{2,6}$")] = None,
    customer_class: Short = None,
    tag: Annotated[str | None, Query(max_length=32)] = None,
    action: Short = None,
    min_arrears_fen: Annotated[int | None, Query(ge=0, le=10**13)] = None,
    max_arrears_fen: Annotated[int | None, Query(ge=0, le=10**13)] = None,
    min_days_overdue: Annotated[int | None, Query(ge=0, le=36_500)] = None,
    max_days_overdue: Annotated[int | None, Query(ge=0, le=36_500)] = None,
) -> WorklistOut | JSONResponse:
    try:
        require_role(staff, *desk.PROMISERS)
    except REFUSALS as exc:
        return refused(session, staff, "api.worklist", str(day or ""), now, exc)
    company = session.get(Company, staff.company_id)
    assert company is not None  # a foreign key
    chosen = day or desk.first_open_day(session, company)
    filters = Filters(
        utility, region, customer_class, tag, action, min_arrears_fen, max_arrears_fen,
        min_days_overdue, max_days_overdue,
    )  # fmt: skip
    found = worklist(
        engine=request.app.state.engine, company_id=company.id, day=chosen, filters=filters
    )
    audit(session, staff, "api.worklist", str(chosen), now)
    rows = [
        WorkRow(
            account_id=i.proposed.account_id,
            action=i.proposed.action,
            step=i.proposed.step,
            bill_id=i.proposed.bill_id,
            policy_id=i.proposed.policy_id,
            reason=i.proposed.reason,
            arrears_fen=i.proposed.arrears_fen,
            days_overdue=i.proposed.days_overdue,
            utility=i.utility,
            region=i.region,
            customer_class=i.customer_class,
            tags=list(i.tags),
            relief=i.relief,
        )
        for i in found.items
    ]
    return WorklistOut(day=chosen, recorded=found.recorded, cut=found.cut, rows=rows)
