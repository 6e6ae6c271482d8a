"""The console's door and first page: staff sign-in (username and password, backing off after
failures per username and address in the database, `guard.throttle`; a new session each
time), sign-out, and the dashboard — open applications by status, the day's figures of the
staff member's company, and the charts of their role (`console.dashboard`); the deployment
regulator's dashboard is every company's figures compared (`console.companies`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from sanbuting.applications import service as applications
from sanbuting.domain import as_utc, local_date, local_midnight
from sanbuting.errors import TooMany, Unauthorized
from sanbuting.reports.svg import Lang
from sanbuting.staff import service as staff_service
from sanbuting.store.models import OutboxItem, Payment, ProtectionEvent, Run, StoredAction
from sanbuting.store.runs import last_run_day
from sanbuting.store.web_models import Application
from sanbuting.web import deps
from sanbuting.web.console.common import (
    business_now,
    client_ip,
    company_of,
    page,
    record,
)
from sanbuting.web.console.companies import comparison
from sanbuting.web.console.dashboard import dashboard_charts
from sanbuting.web.deps import backoff
from sanbuting.web.i18n import language
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.web.sessions import end_session, start_session

routes = APIRouter(prefix="/console")

Username = Annotated[str, Form(min_length=1, max_length=64)]
Password = Annotated[str, Form(min_length=1, max_length=200)]
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]


@routes.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, who: deps.MaybeCaller) -> Response:
    if who is not None and who.staff is not None:
        return RedirectResponse("/console", status_code=303)
    return page(request, "console/signin.html", None, error=None, username="")


@routes.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    session: deps.DB,
    settings: deps.Configured,
    username: Username,
    password: Password,
    csrf_token: Csrf,
) -> Response:
    """Check the password; on success a new session (the old one ends) and the dashboard."""
    check_csrf(request, csrf_token)
    try:
        member = staff_service.authenticate(
            session=session,
            username=username,
            password=password,
            ip=client_ip(request),
            now=deps.now(),
            backoff=backoff(settings),
        )
    except (Unauthorized, TooMany) as refused:  # returned, not raised: the failure counts
        waiting = isinstance(refused, TooMany)
        return page(
            request,
            "console/signin.html",
            None,
            status_code=429 if waiting else 401,
            error="console.signin.wait" if waiting else "console.signin.refused",
            wait=refused.retry_after if isinstance(refused, TooMany) else None,
            username=username[:64],
        )
    response = RedirectResponse("/console", status_code=303)
    start_session(
        session=session, request=request, response=response, settings=settings, staff_id=member.id
    )
    record(session, member, "sign_in", member.username, ip=client_ip(request))
    return response


@routes.post("/signout")
def signout(
    request: Request, session: deps.DB, who: deps.MaybeCaller, csrf_token: Csrf
) -> Response:
    check_csrf(request, csrf_token)
    if who is not None and who.staff is not None:
        record(session, who.staff, "sign_out", who.staff.username)
    response = RedirectResponse("/console/signin", status_code=303)
    end_session(session=session, request=request, response=response)
    return response


@routes.get("", response_class=HTMLResponse)
def dashboard(request: Request, session: deps.DB, staff: deps.AnyStaff) -> Response:
    """Open applications by status, today's and the last run day's figures, and the charts
    of the member's role; the deployment regulator's is every company compared."""
    if staff_service.reads_the_deployment(staff):
        return comparison(request, session, staff)
    company = company_of(session, staff)
    counts = applications.counts_by_status(session=session, company_id=company.id)
    now = business_now(request)
    today = local_date(now)
    lang: Lang = "en" if language(request) == "en" else "zh"
    run_day = last_run_day(session, company)
    return page(
        request,
        "console/home.html",
        staff,
        company=company,
        counts=counts,
        reads_queue=staff.role in applications.READERS,
        open_statuses=applications.OPEN,
        today=today,
        figures=_today(session, company.id, today),
        run_day=run_day,
        run=_run_figures(session, company.id, run_day) if run_day else None,
        charts=dashboard_charts(session=session, staff=staff, company=company, lang=lang, now=now),
    )


def _day_range(day: date) -> tuple[datetime, datetime]:
    return as_utc(local_midnight(day)), as_utc(local_midnight(day + timedelta(days=1)))


def _today(session: deps.DB, company_id: int, today: date) -> dict[str, int]:
    begin, end = _day_range(today)
    submitted = session.scalar(
        select(func.count())
        .select_from(Application)
        .where(
            Application.company_id == company_id,
            Application.created_at >= begin,
            Application.created_at < end,
        )
    )
    paid = session.execute(
        select(func.count(), func.coalesce(func.sum(Payment.amount_fen), 0)).where(
            Payment.company_id == company_id, Payment.paid_at >= begin, Payment.paid_at < end
        )
    ).one()
    pending = session.scalar(
        select(func.count())
        .select_from(OutboxItem)
        .where(OutboxItem.company_id == company_id, OutboxItem.status == "pending")
    )
    return {
        "submitted": int(submitted or 0),
        "payments": int(paid[0]),
        "paid_fen": int(paid[1]),
        "pending_orders": int(pending or 0),
    }


def _run_figures(session: deps.DB, company_id: int, day: date) -> dict[str, int]:
    run = select(Run.id).where(Run.company_id == company_id, Run.day == day).scalar_subquery()
    actions = session.scalar(
        select(func.count()).select_from(StoredAction).where(StoredAction.run == run)
    )
    protections = session.scalar(
        select(func.count()).select_from(ProtectionEvent).where(ProtectionEvent.run == run)
    )
    return {"actions": int(actions or 0), "protections": int(protections or 0)}
