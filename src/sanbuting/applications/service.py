"""Taking and working online business applications and service tickets.

`submit` checks a form against its business in the catalogue, numbers the application
(`SQ` + the Asia/Shanghai date + a sequence of the day: `SQ20200203000001`), sets the promised
time and the priority, and records its first event. Priority follows 2020's practice of serving
Hubei first: 1 = a ticket for a Hubei account (region 42xxxx), 2 = a ticket or a Hubei account,
3 = the rest; a queue is ordered by priority, then by the promise. `transition` moves an
application along submitted → accepted → in_progress → completed (any open one may be rejected
or cancelled) and records who did it and why. Every function is keyword-only; the caller owns
the transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.applications import catalogue
from sanbuting.applications.catalogue import InvalidApplication, Problem
from sanbuting.domain import as_utc, local_date
from sanbuting.errors import Conflict, NotFound, SanbutingError
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Application, ApplicationEvent, Customer

STATUSES = ("submitted", "accepted", "in_progress", "completed", "rejected", "cancelled")
OPEN = ("submitted", "accepted", "in_progress")
MOVES: dict[str, tuple[str, ...]] = {
    "submitted": ("accepted", "rejected", "cancelled"),
    "accepted": ("in_progress", "rejected", "cancelled"),
    "in_progress": ("completed", "rejected", "cancelled"),
}
"""The moves allowed from each open status; completed, rejected and cancelled are final."""
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "submitted": ("已提交", "submitted"),
    "accepted": ("已受理", "accepted"),
    "in_progress": ("办理中", "in progress"),
    "completed": ("已办结", "completed"),
    "rejected": ("不予受理", "rejected"),
    "cancelled": ("已撤销", "cancelled"),
}
"""Each status in words: (中文, English)."""
HUBEI = "42"
MAX_NOTE = 2000


class IllegalMove(Conflict):
    """A status change the application's lifecycle does not allow."""


def submit(
    *,
    session: Session,
    business: str,
    company: Company,
    account: Account | None,
    customer: Customer | None,
    fields: dict[str, str],
    documents: list[str],
    now: datetime,
) -> Application:
    """A new application for `business` (see the module docstring); an `InvalidApplication`
    lists every bad field and document."""
    spec = catalogue.business(business)
    if company.utility not in spec.utilities:
        raise SanbutingError(
            f"{spec.code} is not offered for {company.utility}: it is for "
            f"{', '.join(spec.utilities)}"
        )
    if account is not None and account.company_id != company.id:
        raise SanbutingError(f"account {account.account_id} is not an account of {company.code}")
    if spec.needs_account and account is None:
        raise SanbutingError(
            f"{spec.code} needs one of your accounts: bind it first, then choose it"
        )
    problems: list[Problem] = []
    cleaned: dict[str, str] = {}
    declared: list[str] = []
    try:
        cleaned = catalogue.clean_fields(spec, fields, local_date(now))
    except InvalidApplication as exc:
        problems += exc.problems
    try:
        declared = catalogue.clean_documents(spec, documents)
    except InvalidApplication as exc:
        problems += exc.problems
    if problems:
        raise InvalidApplication(spec, problems)
    hubei = account is not None and account.region.startswith(HUBEI)
    priority = 3 - (spec.category == "ticket") - hubei
    prefix = f"SQ{local_date(now):%Y%m%d}"
    for _attempt in range(5):
        application = Application(
            number=_next_number(session, prefix),
            company_id=company.id,
            account=account.id if account is not None else None,
            customer_id=customer.id if customer is not None else None,
            business=spec.code,
            fields=json.dumps(cleaned, ensure_ascii=False, sort_keys=True),
            documents=json.dumps(declared, ensure_ascii=False),
            status="submitted",
            priority=priority,
            created_at=as_utc(now),
            promised_by=as_utc(catalogue.promised_by(spec.promise, now)),
        )
        try:
            with session.begin_nested():
                session.add(application)
                session.flush()
        except IntegrityError:
            continue  # another request took the number meanwhile: take the next
        break
    else:
        raise Conflict("could not number the application: try again")
    by = "customer" if customer is not None else "channel"
    session.add(
        ApplicationEvent(
            application_id=application.id, status="submitted", note="", by=by, at=as_utc(now)
        )
    )
    session.flush()
    return application


def _next_number(session: Session, prefix: str) -> str:
    last = session.scalar(
        select(func.max(Application.number)).where(Application.number.like(f"{prefix}%"))
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def transition(
    *, session: Session, application: Application, status: str, note: str, by: str, now: datetime
) -> Application:
    """Move `application` to `status` (an `IllegalMove` if its lifecycle does not allow it),
    with a note and who did it."""
    if status not in STATUSES:
        raise SanbutingError(f"{status!r} is not a status: use one of {', '.join(STATUSES)}")
    if len(note) > MAX_NOTE:
        raise SanbutingError(f"the note is longer than {MAX_NOTE} characters: shorten it")
    session.refresh(application, with_for_update=True)  # two agents at once: one wins
    allowed = MOVES.get(application.status, ())
    if status not in allowed:
        if not allowed:
            raise IllegalMove(
                f"application {application.number} is {application.status}: it is closed"
            )
        raise IllegalMove(
            f"application {application.number} is {application.status}: it can move to "
            f"{' or '.join(allowed)}, not {status}"
        )
    application.status = status
    session.add(
        ApplicationEvent(
            application_id=application.id, status=status, note=note.strip(), by=by, at=as_utc(now)
        )
    )
    session.flush()
    return application


def history(*, session: Session, application: Application) -> list[ApplicationEvent]:
    """The application's events, oldest first."""
    query = (
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application.id)
        .order_by(ApplicationEvent.at, ApplicationEvent.id)
    )
    return list(session.scalars(query))


def for_customer(
    *, session: Session, customer: Customer, page: int = 1, size: int = 20
) -> list[Application]:
    """The customer's applications, newest first."""
    query = (
        select(Application)
        .where(Application.customer_id == customer.id)
        .order_by(Application.created_at.desc(), Application.id.desc())
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return list(session.scalars(query))


def for_company(
    *, session: Session, company_id: int, status: str | None, page: int = 1, size: int = 50
) -> list[Application]:
    """The company's queue: by priority, then the promise (`status` None: all; "open": the
    open ones; otherwise that status)."""
    query = select(Application).where(Application.company_id == company_id)
    if status == "open":
        query = query.where(Application.status.in_(OPEN))
    elif status is not None:
        if status not in STATUSES:
            raise SanbutingError(f"{status!r} is not a status: use open or {', '.join(STATUSES)}")
        query = query.where(Application.status == status)
    query = (
        query.order_by(Application.priority, Application.promised_by, Application.id)
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return list(session.scalars(query))


def get_for_customer(*, session: Session, customer: Customer, number: str) -> Application:
    """The customer's application `number` (NotFound if there is none or it is another's)."""
    found = session.scalar(
        select(Application).where(
            Application.number == number, Application.customer_id == customer.id
        )
    )
    if found is None:
        raise NotFound(f"you have no application {number}")
    return found


def get_for_company(*, session: Session, company_id: int, number: str) -> Application:
    """The company's application `number` (NotFound if there is none or it is another's)."""
    found = session.scalar(
        select(Application).where(
            Application.number == number, Application.company_id == company_id
        )
    )
    if found is None:
        raise NotFound(f"no application {number}")
    return found


def counts_by_status(*, session: Session, company_id: int) -> dict[str, int]:
    """How many of the company's applications are in each status."""
    rows = session.execute(
        select(Application.status, func.count())
        .where(Application.company_id == company_id)
        .group_by(Application.status)
    )
    counted = {status: int(count) for status, count in rows}
    return {status: counted.get(status, 0) for status in STATUSES}


def fields_of(application: Application) -> dict[str, str]:
    loaded: dict[str, str] = json.loads(application.fields or "{}")
    return loaded


def documents_of(application: Application) -> list[str]:
    loaded: list[str] = json.loads(application.documents or "[]")
    return loaded


def next_statuses(application: Application) -> tuple[str, ...]:
    """Where the application may move next (empty when it is closed)."""
    return MOVES.get(application.status, ())
