"""Online business (网上办理): the catalogue of business types (GET /business-types), a
customer's applications (POST/GET /applications, GET /applications/{number}), and staff working
their company's queue (GET /staff/applications, GET /staff/applications/{number}, POST
/staff/applications/{number}/transitions, agents and supervisors). A customer sees only their
own applications, staff only their company's; every staff call is audited."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.applications import catalogue
from sanbuting.applications import service as applications
from sanbuting.customers import service as customers
from sanbuting.domain import mask_phone, read_utc
from sanbuting.errors import Conflict, SanbutingError
from sanbuting.staff.service import can_see_personal_data
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Application, Customer
from sanbuting.web.api.application_schemas import (
    ApplicationDetail,
    ApplicationIn,
    ApplicationOut,
    BusinessList,
    BusinessOut,
    EventOut,
    TransitionIn,
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
from sanbuting.web.deps import DB, SignedInCustomer, SignedInStaff, require_role
from sanbuting.web.types import ApplicationNumber, Page, PageSize

router = APIRouter(tags=["applications"], dependencies=SECURED)
public = APIRouter(tags=["applications"])
"""The catalogue: no sign-in needed."""
PHONE_LIKE = re.compile(r"1[3-9][0-9]{9}")


@public.get("/business-types", response_model=BusinessList, summary="The business catalogue")
def business_types() -> BusinessList:
    """Every business type with its form fields, documents and promised completion time."""
    return BusinessList(items=[business_out(b) for b in catalogue.catalogue()])


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationDetail,
    responses=errors(400, 401, 404, 409, 422),
    summary="Apply for a business (or report a fault, complain: a ticket)",
)
def apply(
    body: ApplicationIn, session: DB, customer: SignedInCustomer, now: Now
) -> ApplicationDetail:
    application = submit_form(session, customer, body, now, category=None)
    return detail(session, application, personal=True)


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
    return detail(session, found, personal=True)


@router.get(
    "/staff/applications",
    response_model=Paged[ApplicationOut],
    responses=errors(401, 422),
    summary="My company's applications: by priority, then promise",
)
def company_queue(
    session: DB,
    staff: SignedInStaff,
    now: Now,
    status: StatusFilter = None,
    page: Page = 1,
    size: PageSize = 20,
) -> Paged[ApplicationOut]:
    found = applications.for_company(
        session=session, company_id=staff.company_id, status=status, page=page, size=size
    )
    count = select(func.count(Application.id)).where(Application.company_id == staff.company_id)
    if status == "open":
        count = count.where(Application.status.in_(applications.OPEN))
    elif status is not None:
        count = count.where(Application.status == status)
    audit(session, staff, "api.applications.list", status or "", now)
    personal = can_see_personal_data(staff)
    return Paged[ApplicationOut](
        items=[summary(session, a, personal=personal) for a in found],
        page=page,
        size=size,
        total=session.scalar(count) or 0,
    )


@router.get(
    "/staff/applications/{number}",
    response_model=ApplicationDetail,
    responses=errors(401, 404, 422),
    summary="One of my company's applications with its history",
)
def company_application(
    number: ApplicationNumber, session: DB, staff: SignedInStaff, now: Now
) -> ApplicationDetail | JSONResponse:
    try:
        found = applications.get_for_company(
            session=session, company_id=staff.company_id, number=number
        )
    except REFUSALS as exc:
        return refused(session, staff, "api.applications.read", number, now, exc)
    audit(session, staff, "api.applications.read", number, now)
    return detail(session, found, personal=can_see_personal_data(staff))


@router.post(
    "/staff/applications/{number}/transitions",
    response_model=ApplicationDetail,
    responses=errors(400, 401, 403, 404, 409, 422),
    summary="Move an application on (accept, start, complete, reject, cancel)",
)
def move(
    number: ApplicationNumber, body: TransitionIn, session: DB, staff: SignedInStaff, now: Now
) -> ApplicationDetail | JSONResponse:
    """Agents and supervisors; a move its lifecycle does not allow is 409."""
    try:
        require_role(staff, "agent", "supervisor")
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
        )
    except REFUSALS as exc:
        return refused(session, staff, f"api.applications.{body.status}", number, now, exc)
    audit(session, staff, f"api.applications.{body.status}", number, now)
    return detail(session, found, personal=can_see_personal_data(staff))


def submit_form(
    session: Session, customer: Customer, body: ApplicationIn, now: Any, *, category: str | None
) -> Application:
    """Submit `body` for `customer` (a form that does not fit its business is 422, listing
    every bad field and document; an account not bound to the customer is 404)."""
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
    except Conflict:
        raise
    except SanbutingError as exc:
        raise invalid(("body", "business"), str(exc)) from exc


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
    items = [summary(session, row[0], personal=True) for row in rows]
    return Paged[ApplicationOut](items=items, page=page, size=size, total=total)


def business_out(spec: catalogue.Business) -> BusinessOut:
    promise = spec.promise
    fields = [
        {
            **{k: getattr(f, k) for k in ("name", "zh", "en", "kind", "required", "max_length")},
            **{k: getattr(f, k) for k in ("pattern", "example", "min_days", "max_days")},
            "minimum": None if f.minimum is None else str(f.minimum),
            "maximum": None if f.maximum is None else str(f.maximum),
            "choices": [{"value": c.value, "zh": c.zh, "en": c.en} for c in f.choices],
        }
        for f in spec.fields
    ]
    return BusinessOut.model_validate(
        {
            "code": spec.code,
            "zh": spec.zh,
            "en": spec.en,
            "utilities": [str(u) for u in spec.utilities],
            "category": spec.category,
            "needs_account": spec.needs_account,
            "promise": {
                "hours": promise.hours,
                "working_days": promise.working_days,
                "source": promise.source,
                "zh": catalogue.describe_promise(promise, "zh"),
                "en": catalogue.describe_promise(promise, "en"),
            },
            "fields": fields,
            "documents": [
                {"code": d.code, "zh": d.zh, "en": d.en, "required": d.required}
                for d in spec.documents
            ],
        }
    )


def summary(session: Session, application: Application, *, personal: bool) -> ApplicationOut:
    return ApplicationOut.model_validate(_fields(session, application, personal))


def detail(session: Session, application: Application, *, personal: bool) -> ApplicationDetail:
    events = applications.history(session=session, application=application)
    return ApplicationDetail.model_validate(
        {
            **_fields(session, application, personal),
            "history": [
                EventOut.model_validate(
                    {"status": e.status, "note": e.note, "by": e.by, "at": read_utc(e.at)}
                )
                for e in events
            ],
            "next_statuses": list(applications.next_statuses(application)),
        }
    )


def _fields(session: Session, application: Application, personal: bool) -> dict[str, Any]:
    spec = next((b for b in catalogue.catalogue() if b.code == application.business), None)
    company = session.get(Company, application.company_id)
    account = session.get(Account, application.account) if application.account else None
    values = applications.fields_of(application)
    if not personal:
        values = {k: PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), v) for k, v in values.items()}
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
