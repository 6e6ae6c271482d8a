"""What the API's routers share: the documented error answers (problem details), the clock,
the active policies, rate limits, pagination, and reading accounts — a customer only the
accounts bound to them (`customers.service.owned_account`), staff only their company's;
anything else is "not found"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVarTuple

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import mask_phone
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError
from sanbuting.guard.limits import Limits
from sanbuting.staff import service as staff_service
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Staff
from sanbuting.web import deps, problems
from sanbuting.web.api.schemas import AccountOut, Problem

BEARER = HTTPBearer(auto_error=False, description="A token from /api/v1/auth/verify or /staff.")
"""Documents the bearer token in OpenAPI; `deps.caller` reads it."""
SECURED = [Depends(BEARER)]

MEANINGS = {
    400: "The body is not JSON (or not UTF-8), or the request cannot be carried out.",
    401: "Not signed in, or the session expired.",
    403: "This role may not do this.",
    404: "No such thing, or not yours to see.",
    409: "The request contradicts what is stored.",
    422: "A parameter or the body is invalid.",
    429: "Too many requests: wait and try again.",
    503: "Not available on this server (e.g. no payment provider is configured).",
}
Ts = TypeVarTuple("Ts")
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route: each status answered with a problem (documented under
    `application/problem+json`, the media type sent, and `application/json`)."""
    return {
        status: {
            "model": Problem,
            "description": MEANINGS[status],
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


Now = Annotated[datetime, Depends(deps.now)]
"""The current time (tests and the demo override `deps.now`)."""


def limits(request: Request) -> Limits:
    found: Limits = request.app.state.limits
    return found


RateLimits = Annotated[Limits, Depends(limits)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def paged(session: Session, query: Select[*Ts], page: int, size: int) -> tuple[list[Row[*Ts]], int]:
    """The rows of `page` (from 1) of `query`, and how many rows it has in all."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.execute(query.limit(size).offset((page - 1) * size)).all())
    return rows, int(total or 0)


def company_of(session: Session, account: Account) -> Company:
    company = session.get(Company, account.company_id)
    assert company is not None
    return company


def account_out(account: Account, company: Company) -> AccountOut:
    return AccountOut(
        account_id=account.account_id,
        company=company.code,
        utility=account.utility,
        region=account.region,
        customer_class=account.customer_class,
        billing_mode=account.billing_mode,
    )


def staff_account(session: Session, staff: Staff, account_id: str) -> Account:
    """An account of the member's company; another company's is not found."""
    account = session.scalar(
        select(Account).where(
            Account.company_id == staff.company_id, Account.account_id == account_id
        )
    )
    if account is None:
        raise NotFound(f"no account {account_id!r} in your company")
    return account


def masked_phone(phone: str | None) -> str:
    return mask_phone(phone) if phone else ""


def audit(session: Session, staff: Staff, action: str, target: str, now: datetime) -> None:
    """Record a staff call of the API in the audit log."""
    staff_service.audit(
        session=session, staff=staff, action=action, target=target, detail={"via": "api"}, now=now
    )


REFUSALS = (NotFound, Forbidden, Conflict)


def refused(
    session: Session, staff: Staff, action: str, target: str, now: datetime, exc: SanbutingError
) -> JSONResponse:
    """The problem answering a staff call that was refused, audited: returned (not raised) so
    that the request's transaction keeps the audit entry."""
    audit(session, staff, f"{action}.refused", target, now)
    return problems.answer(exc)
