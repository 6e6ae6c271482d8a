"""Service tickets (报修, 投诉, 咨询…): applications whose business is of the `ticket` category,
taken and listed apart (POST/GET /tickets). A ticket is read and worked like any application
(GET /applications/{number}; staff: /staff/applications); phone and ID numbers in it are
masked in every answer."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from sanbuting.errors import TooMany
from sanbuting.web.api.application_schemas import ApplicationDetail, ApplicationIn, ApplicationOut
from sanbuting.web.api.applications import detail, mine, submit_form, too_many
from sanbuting.web.api.common import SECURED, Now, errors
from sanbuting.web.api.schemas import Paged
from sanbuting.web.deps import DB, Configured, SignedInCustomer
from sanbuting.web.types import Page, PageSize

router = APIRouter(tags=["tickets"], dependencies=SECURED)


@router.post(
    "/tickets",
    status_code=201,
    response_model=ApplicationDetail,
    responses=errors(400, 401, 404, 409, 422, 429),
    summary="Open a service ticket (a business of the ticket category)",
)
def open_ticket(
    body: ApplicationIn, session: DB, customer: SignedInCustomer, now: Now, config: Configured
) -> ApplicationDetail | JSONResponse:
    """A ticket counts towards the customer's application limits (429 past them)."""
    try:
        ticket = submit_form(session, customer, body, now, config, category="ticket")
    except TooMany as exc:
        return too_many(exc)
    return detail(session, ticket)


@router.get(
    "/tickets",
    response_model=Paged[ApplicationOut],
    responses=errors(401, 422),
    summary="My tickets, newest first",
)
def my_tickets(
    session: DB, customer: SignedInCustomer, page: Page = 1, size: PageSize = 20
) -> Paged[ApplicationOut]:
    return mine(session, customer, page, size, tickets=True)
