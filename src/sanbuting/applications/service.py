"""Taking and working online business applications and service tickets.

`submit` checks a form against its business in the catalogue and the customer's limits (at
most `max_open` open applications, at most `max_per_day` submitted in an Asia/Shanghai day,
counted in the database under a lock on the customer), numbers the application (`SQ` + the
Asia/Shanghai date + a sequence of the day: `SQ20200203000001`), sets its SLA clock (the
account's area class, the promised time and the escalation moment: `applications.clock`) and
its priority (hospitals, then regions a relief policy names, tickets before business:
`applications.priority`), and records its first event; a queue is ordered by priority, then by
the promise. `transition` moves an application along submitted → accepted → in_progress →
completed (any open one may be rejected or cancelled), records who did it and why, and stops
the clock when the move reaches the promised milestone; the member of staff who accepts an
application becomes its assignee (see `applications.assignment`); a move by staff queues the
customer's text message (`sms.news`). Every function is keyword-only; the caller owns the
transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.applications import catalogue, clock
from sanbuting.applications.catalogue import InvalidApplication, Problem
from sanbuting.applications.priority import priority_of
from sanbuting.domain import as_utc, local_date, local_midnight
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError, TooMany
from sanbuting.settings import Settings
from sanbuting.sms import news
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Application, ApplicationEvent, Customer, Staff

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
MAX_NOTE = 2000
WORKERS = ("agent", "supervisor")
"""The roles that work applications: move them on, become their assignee."""
READERS = (*WORKERS, "policy_admin")
"""The roles that read the queue and its applications (a regulator reads figures, not
queues)."""
MAX_OPEN = int(Settings.model_fields["open_applications_per_customer"].default)
MAX_PER_DAY = int(Settings.model_fields["applications_per_customer_day"].default)


class IllegalMove(Conflict):
    """A status change the application's lifecycle does not allow."""


class TooManyOpen(TooMany):
    """The customer has as many open applications as allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you have {limit} applications open, the most allowed: wait until one is "
            "completed, or cancel one you no longer need, then apply again"
        )
        self.limit = limit


class TooManyToday(TooMany):
    """The customer has submitted as many applications today as allowed."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"you have submitted {limit} applications today, the most allowed in a day: "
            "apply again tomorrow (Beijing time), or call us if it cannot wait",
            retry_after=retry_after,
        )
        self.limit = limit


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
    max_open: int = MAX_OPEN,
    max_per_day: int = MAX_PER_DAY,
) -> Application:
    """A new application for `business` (see the module docstring); an `InvalidApplication`
    lists every bad field and document, a `TooManyOpen` or `TooManyToday` says which of the
    customer's limits it would pass."""
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
    if customer is not None:
        _check_limits(session, customer, now, max_open=max_open, max_per_day=max_per_day)
    priority = priority_of(
        session=session, account=account, category=spec.category, on=local_date(now)
    )
    area = clock.area_class(account)
    due = catalogue.promised_by(spec.promise, now, area)
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
            promised_by=as_utc(due),
            area=area,
            escalate_at=as_utc(clock.escalate_at(spec.promise, now, due)),
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


def _check_limits(
    session: Session, customer: Customer, now: datetime, *, max_open: int, max_per_day: int
) -> None:
    """Refuse a customer at either limit. The customer's row is locked first (PostgreSQL; a
    SQLite transaction holds the write lock from its start), so that two submissions at once,
    from any worker process, are counted one after the other."""
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    mine = select(func.count(Application.id)).where(Application.customer_id == customer.id)
    if (session.scalar(mine.where(Application.status.in_(OPEN))) or 0) >= max_open:
        raise TooManyOpen(max_open)
    day_starts = local_midnight(local_date(now))
    day_ends = local_midnight(local_date(now) + timedelta(days=1))
    today = mine.where(
        Application.created_at >= as_utc(day_starts), Application.created_at < as_utc(day_ends)
    )
    if (session.scalar(today) or 0) >= max_per_day:
        wait = max(1, int((day_ends - now).total_seconds()))
        raise TooManyToday(max_per_day, retry_after=wait)


def _next_number(session: Session, prefix: str) -> str:
    last = session.scalar(
        select(func.max(Application.number)).where(Application.number.like(f"{prefix}%"))
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def transition(
    *,
    session: Session,
    application: Application,
    status: str,
    note: str,
    by: str,
    now: datetime,
    staff: Staff | None = None,
) -> Application:
    """Move `application` to `status` (an `IllegalMove` if its lifecycle does not allow it),
    with a note and who did it; `staff`, the member of staff making the move, becomes the
    assignee of an application they accept."""
    if staff is not None and staff.company_id != application.company_id:
        raise NotFound(f"no application {application.number}")
    if staff is not None and staff.role not in WORKERS:
        raise Forbidden(
            f"the {staff.role} role does not work applications: ask an agent or a supervisor"
        )
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
    if status == "accepted" and staff is not None:
        application.assigned_to = staff.id
    promise = catalogue.business(application.business).promise
    if application.clock_stopped_at is None and clock.stops_clock(promise, status):
        application.clock_stopped_at = as_utc(now)
    event = ApplicationEvent(
        application_id=application.id, status=status, note=note.strip(), by=by, at=as_utc(now)
    )
    session.add(event)
    session.flush()
    if staff is not None:  # the customer is told what staff did, not what they did themselves
        news.application_moved(
            session=session,
            application=application,
            event=event,
            status_text=STATUS_TEXT[status][0],
        )
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
