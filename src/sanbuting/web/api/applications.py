"""Online business (网上办理): the catalogue of business types (GET /business-types), a
customer's applications (POST/GET /applications, GET /applications/{number}), and staff working
their company's queue (GET /staff/applications, GET /staff/applications/{number}, POST
/staff/applications/{number}/transitions, agents and supervisors; PUT .../assignee, supervisors;
POST .../reveal-phone, the assignee only). A customer sees only their own applications, within
their limits (429 past them), staff only their company's, and a regulator none (403: figures,
not queues). Phone and ID numbers in every answer are masked (`sanbuting.privacy`); every staff
call is audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.applications import assignment, catalogue
from sanbuting.applications import service as applications
from sanbuting.customers import service as customers
from sanbuting.domain import read_utc
from sanbuting.errors import Conflict, SanbutingError, TooMany
from sanbuting.privacy import mask_phone, mask_text
from sanbuting.settings import Settings
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Application, Customer, Staff
from sanbuting.web import problems
from sanbuting.web.api.application_schemas import (
    ApplicationDetail,
    ApplicationIn,
    ApplicationOut,
    AssigneeIn,
    BusinessList,
    EventOut,
    RevealedPhone,
    StaffApplicationDetail,
    StaffApplicationOut,
    TransitionIn,
    business_out,
)
from sanbuting.web.api.common import (
    REFUSALS,
    SECURED,
    Now,
    audit,
    company_of,
    errors,
    paged,
    refused,
)
from sanbuting.web.api.schemas import Paged, StatusFilter
from sanbuting.web.deps import DB, Configured, SignedInCustomer, SignedInStaff, require_role
from sanbuting.web.types import ApplicationNumber, Page, PageSize

router = APIRouter(tags=["applications"], dependencies=SECURED)
public = APIRouter(tags=["applications"])
"""The catalogue: no sign-in needed."""


@public.get("/business-types", response_model=BusinessList, summary="The business catalogue")
def business_types() -> BusinessList:
    """Every business type with its form fields, documents and promised completion time."""
    return BusinessList(items=[business_out(b) for b in catalogue.catalogue()])


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationDetail,
    responses=errors(400, 401, 404, 409, 422, 429),
    summary="Apply for a business (or report a fault, complain: a ticket)",
)
def apply(
    body: ApplicationIn, session: DB, customer: SignedInCustomer, now: Now, config: Configured
) -> ApplicationDetail | JSONResponse:
    """At most `open_applications_per_customer` open applications and
    `applications_per_customer_day` a day (Asia/Shanghai) per customer: 429 past either."""
    try:
        application = submit_form(session, customer, body, now, config, category=None)
    except TooMany as exc:
        return too_many(exc)
    return detail(session, application)


@router.get(
    "/applications",
    response_model=Paged[ApplicationOut],
    responses=errors(401, 422),
    summary="My applications, newest first",
)
def my_applications(
    session: DB, customer: SignedInCustomer, page: Page = 1, size: PageSize = 20
) -> Paged[ApplicationOut]:
    return mine(session, customer, page, size, tickets=False)


@router.get(
    "/applications/{number}",
    response_model=ApplicationDetail,
    responses=errors(401, 404, 422),
    summary="One of my applications with its history",
)
def my_application(
    number: ApplicationNumber, session: DB, customer: SignedInCustomer
) -> ApplicationDetail:
    found = applications.get_for_customer(session=session, customer=customer, number=number)
    return detail(session, found)


@router.get(
    "/staff/applications",
    response_model=Paged[StaffApplicationOut],
    responses=errors(401, 403, 422),
    summary="My company's applications: by priority, then promise",
)
def company_queue(
    session: DB,
    staff: SignedInStaff,
    now: Now,
    status: StatusFilter = None,
    page: Page = 1,
    size: PageSize = 20,
) -> Paged[StaffApplicationOut] | JSONResponse:
    """Agents, supervisors and policy administrators (a regulator reads figures: 403)."""
    try:
        require_role(staff, *applications.READERS)
    except REFUSALS as exc:
        return refused(session, staff, "api.applications.list", status or "", now, exc)
    found = applications.for_company(
        session=session, company_id=staff.company_id, status=status, page=page, size=size
    )
    count = select(func.count(Application.id)).where(Application.company_id == staff.company_id)
    if status == "open":
        count = count.where(Application.status.in_(applications.OPEN))
    elif status is not None:
        count = count.where(Application.status == status)
    audit(session, staff, "api.applications.list", status or "", now)
    working = assignment.assignees(
        session=session, company_id=staff.company_id, ids=(a.assigned_to for a in found)
    )
    return Paged[StaffApplicationOut](
        items=[
            StaffApplicationOut.model_validate(
                {
                    **application_fields(session, a),
                    "assignee": _username(working.get(a.assigned_to or 0)),
                }
            )
            for a in found
        ],
        page=page,
        size=size,
        total=session.scalar(count) or 0,
    )


@router.get(
    "/staff/applications/{number}",
    response_model=StaffApplicationDetail,
    responses=errors(401, 403, 404, 422),
    summary="One of my company's applications with its history",
)
def company_application(
    number: ApplicationNumber, session: DB, staff: SignedInStaff, now: Now
) -> StaffApplicationDetail | JSONResponse:
    """Agents, supervisors and policy administrators (a regulator: 403)."""
    try:
        require_role(staff, *applications.READERS)
        found = applications.get_for_company(
            session=session, company_id=staff.company_id, number=number
        )
    except REFUSALS as exc:
        return refused(session, staff, "api.applications.read", number, now, exc)
    audit(session, staff, "api.applications.read", number, now)
    return staff_detail(session, found)


@router.post(
    "/staff/applications/{number}/transitions",
    response_model=StaffApplicationDetail,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="Move an application on (accept, start, complete, reject, cancel)",
)
def move(
    number: ApplicationNumber, body: TransitionIn, session: DB, staff: SignedInStaff, now: Now
) -> StaffApplicationDetail | JSONResponse:
    """Agents and supervisors; a move its lifecycle does not allow is 409. Who accepts an
    application becomes its assignee."""
    try:
        require_role(staff, *applications.WORKERS)
        found = applications.get_for_company(
            session=session, company_id=staff.company_id, number=number
        )
        applications.transition(
            session=session,
            application=found,
            status=body.status,
            note=body.note,
            by=staff.username,
            now=now,
            staff=staff,
        )
    except REFUSALS as exc:
        return refused(session, staff, f"api.applications.{body.status}", number, now, exc)
    audit(session, staff, f"api.applications.{body.status}", number, now)
    return staff_detail(session, found)


@router.put(
    "/staff/applications/{number}/assignee",
    response_model=StaffApplicationDetail,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="Hand an open application to an agent of my company",
)
def reassign(
    number: ApplicationNumber, body: AssigneeIn, session: DB, staff: SignedInStaff, now: Now
) -> StaffApplicationDetail | JSONResponse:
    """Supervisors; an unknown or inactive username is 404, a member who is not an agent 400,
    a closed application 409."""
    try:
        found = applications.get_for_company(
            session=session, company_id=staff.company_id, number=number
        )
        require_role(staff, *assignment.ASSIGNS)
        assignment.assign(session=session, application=found, username=body.username, by=staff)
    except SanbutingError as exc:  # every refusal audited, a member who is no agent too
        return refused(session, staff, "api.applications.assign", number, now, exc)
    audit(session, staff, "api.applications.assign", number, now)
    return staff_detail(session, found)


@router.post(
    "/staff/applications/{number}/reveal-phone",
    response_model=RevealedPhone,
    responses=errors(401, 403, 404, 422),
    summary="The application's contact phone, whole: for its assignee only, audited",
)
def reveal_phone(
    number: ApplicationNumber, session: DB, staff: SignedInStaff, now: Now
) -> RevealedPhone | JSONResponse:
    """The form's phone field (else the account's phone) of an application assigned to the
    caller; anyone else is refused (403). Every reveal and refusal is in the audit log."""
    try:
        found = applications.get_for_company(
            session=session, company_id=staff.company_id, number=number
        )
        revealed = assignment.reveal_phone(
            session=session, application=found, staff=staff, via="api", now=now
        )
    except REFUSALS as exc:
        return refused(session, staff, "reveal_phone", number, now, exc)
    return RevealedPhone(
        number=found.number, phone=revealed.phone, source=revealed.source, field=revealed.field
    )


def submit_form(
    session: Session,
    customer: Customer,
    body: ApplicationIn,
    now: Any,
    config: Settings,
    *,
    category: str | None,
) -> Application:
    """Submit `body` for `customer` within the limits of `config` (a form that does not fit
    its business is 422, listing every bad field and document; an account not bound to the
    customer is 404; past a limit, `TooMany`)."""
    spec = next((b for b in catalogue.catalogue() if b.code == body.business), None)
    if spec is None:
        raise invalid(("body", "business"), f"there is no business {body.business!r}")
    if category is not None and spec.category != category:
        raise invalid(("body", "business"), f"{spec.code} is not a {category}")
    account: Account | None = None
    if body.account_id is not None:
        account = customers.owned_account(
            session=session, customer=customer, account_id=body.account_id
        )
        company = company_of(session, account)
        if body.company is not None and body.company != company.code:
            raise invalid(("body", "company"), f"account {account.account_id} is not of it")
    elif body.company is not None:
        chosen = session.scalar(select(Company).where(Company.code == body.company))
        if chosen is None:
            raise invalid(("body", "company"), f"there is no company {body.company!r}")
        company = chosen
    else:
        raise invalid(("body", "account_id"), "give the account (or, for a new one, the company)")
    try:
        return applications.submit(
            session=session,
            business=spec.code,
            company=company,
            account=account,
            customer=customer,
            fields=dict(body.fields),
            documents=list(body.documents),
            now=now,
            max_open=config.open_applications_per_customer,
            max_per_day=config.applications_per_customer_day,
        )
    except catalogue.InvalidApplication as exc:
        raise RequestValidationError(
            [
                {
                    "loc": (
                        "body",
                        "documents" if p.key.startswith("document") else "fields",
                        p.name,
                    ),
                    "msg": p.text("en"),
                    "type": "value_error",
                }
                for p in exc.problems
            ]
        ) from exc
    except (Conflict, TooMany):
        raise
    except SanbutingError as exc:
        raise invalid(("body", "business"), str(exc)) from exc


def too_many(exc: TooMany) -> JSONResponse:
    """The 429 problem for a limit passed, with `Retry-After` when the wait is known."""
    answer = problems.answer(exc)
    if exc.retry_after is not None:
        answer.headers["Retry-After"] = str(exc.retry_after)
    return answer


def invalid(loc: tuple[str, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


def mine(
    session: Session, customer: Customer, page: int, size: int, *, tickets: bool
) -> Paged[ApplicationOut]:
    """The customer's applications (only tickets if `tickets`), newest first."""
    query = (
        select(Application)
        .where(Application.customer_id == customer.id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    )
    if tickets:
        codes = [b.code for b in catalogue.catalogue() if b.category == "ticket"]
        query = query.where(Application.business.in_(codes))
    rows, total = paged(session, query, page, size)
    items = [summary(session, row[0]) for row in rows]
    return Paged[ApplicationOut](items=items, page=page, size=size, total=total)


def summary(session: Session, application: Application) -> ApplicationOut:
    return ApplicationOut.model_validate(application_fields(session, application))


def detail(session: Session, application: Application) -> ApplicationDetail:
    return ApplicationDetail.model_validate(_detail_fields(session, application))


def staff_detail(session: Session, application: Application) -> StaffApplicationDetail:
    assignee = session.get(Staff, application.assigned_to) if application.assigned_to else None
    return StaffApplicationDetail.model_validate(
        {**_detail_fields(session, application), "assignee": _username(assignee)}
    )


def _username(member: Staff | None) -> str | None:
    return member.username if member is not None else None


def _detail_fields(session: Session, application: Application) -> dict[str, Any]:
    """The application with its history, notes masked."""
    events = applications.history(session=session, application=application)
    return {
        **application_fields(session, application),
        "history": [
            EventOut.model_validate(
                {"status": e.status, "note": mask_text(e.note), "by": e.by, "at": read_utc(e.at)}
            )
            for e in events
        ],
        "next_statuses": list(applications.next_statuses(application)),
    }


def application_fields(session: Session, application: Application) -> dict[str, Any]:
    """The application's own fields; phone fields, and phone and ID numbers anywhere in the
    form's text, masked (for every caller: see `sanbuting.privacy`)."""
    spec = next((b for b in catalogue.catalogue() if b.code == application.business), None)
    company = session.get(Company, application.company_id)
    account = session.get(Account, application.account) if application.account else None
    phones = {f.name for f in spec.fields if f.kind == "phone"} if spec is not None else set()
    values = {
        name: mask_phone(value) if name in phones else mask_text(value)
        for name, value in applications.fields_of(application).items()
    }
    return {
        "number": application.number,
        "business": application.business,
        "category": spec.category if spec is not None else "business",
        "company": company.code if company is not None else "",
        "account_id": account.account_id if account is not None else None,
        "status": application.status,
        "priority": application.priority,
        "created_at": read_utc(application.created_at),
        "promised_by": read_utc(application.promised_by),
        "fields": values,
        "documents": applications.documents_of(application),
    }
