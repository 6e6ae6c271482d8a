"""FastAPI dependencies: a database session per request (committed when the request succeeds),
and who is asking — a customer or a member of staff — from the session cookie (pages) or a
bearer token (API). Sessions expire when idle. The API takes the session cookie only with the
session's CSRF token in an `X-CSRF-Token` header for anything but GET and HEAD (a browser's
script on this site sends it; another site cannot)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from sanbuting.domain import read_utc
from sanbuting.errors import Forbidden, Unauthorized
from sanbuting.guard import throttle
from sanbuting.guard.hashing import same, token_hash
from sanbuting.settings import Settings
from sanbuting.staff.service import reads_the_deployment
from sanbuting.store.database import write_aside
from sanbuting.store.web_models import Customer, Staff, WebSession
from sanbuting.web.security import REQUEST_DB, SESSION_COOKIE, remember_session

TOUCH_EVERY = timedelta(minutes=1)
"""How stale a session's `last_seen_at` may get before a request writes it again."""


def now() -> datetime:
    return datetime.now(tz=UTC)


def settings(request: Request) -> Settings:
    configured: Settings = request.app.state.settings
    return configured


WRITES = "sanbuting_writes"
F = TypeVar("F", bound=Callable[..., Any])


def writes(endpoint: F) -> F:
    """Mark a GET route that writes in its request's transaction (a payment provider's return
    address posts the payment): it gets a session that may write, as other methods do."""
    setattr(endpoint, WRITES, True)
    return endpoint


def db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the handler returns, rolled back if not. A
    GET or HEAD only reads (unless marked `writes`): where the store has read-only sessions
    (SQLite) it gets one, which neither waits for writers nor holds them up, and writes what it
    must with `write_aside`."""
    readers: sessionmaker[Session] | None = request.app.state.read_sessions
    endpoint = request.scope.get("endpoint")
    reads = request.method in ("GET", "HEAD") and not getattr(endpoint, WRITES, False)
    if readers is not None and reads:
        with readers() as session:
            yield from _lent(request, session)
        return
    with request.app.state.sessions.begin() as session:
        yield from _lent(request, session)


def _lent(request: Request, session: Session) -> Iterator[Session]:
    """Yield the request's session, known to the request's state while the handler runs (the
    CSRF check of a handler that never asked who is calling reads the caller's session in it)."""
    setattr(request.state, REQUEST_DB, session)
    try:
        yield session
    finally:
        setattr(request.state, REQUEST_DB, None)


DB = Annotated[Session, Depends(db, scope="function")]
"""Committed when the handler returns, before the answer is sent (so the next request sees it)."""
Configured = Annotated[Settings, Depends(settings)]


@dataclass(frozen=True)
class Caller:
    session_id: int
    csrf_token: str
    customer: Customer | None = None
    staff: Staff | None = None


CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def cookie_may_act(request: Request, csrf_token: str) -> bool:
    """Whether the session cookie (of a session with `csrf_token`) may act for this request:
    always on pages (their forms are checked on their own), and through the API for GET and
    HEAD, or with the session's CSRF token in the `X-CSRF-Token` header."""
    if not request.url.path.startswith("/api/") or request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(sent) and same(sent, csrf_token)


def _check_api_cookie(request: Request, web: WebSession) -> None:
    """A change through the API by session cookie must send the session's CSRF token."""
    if not cookie_may_act(request, web.csrf_token):
        raise Forbidden(
            f"a change through the API with the session cookie needs the {CSRF_HEADER} header "
            "(the session's CSRF token): send it, or use a bearer token from /api/v1/auth/"
        )


def caller(request: Request, session: DB, config: Configured) -> Caller | None:
    """The signed-in caller, or None; an idle session is ended."""
    bearer = _bearer(request)
    token = bearer or request.cookies.get(SESSION_COOKIE)
    web = _live_session(session, config, token)
    if web is None:
        remember_session(request, None)
        return None
    if bearer is None:
        _check_api_cookie(request, web)
    remember_session(request, web.csrf_token)
    customer = session.get(Customer, web.customer_id) if web.customer_id else None
    staff = session.get(Staff, web.staff_id) if web.staff_id else None
    if staff is not None and not staff.active:
        return None
    return Caller(web.id, web.csrf_token, customer, staff)


def _live_session(session: Session, config: Settings, token: str | None) -> WebSession | None:
    """The session `token` names, unless it has been idle too long (then it is ended)."""
    if token is None or len(token) > 200:
        return None
    web = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if web is None:
        return None
    moment = now()
    one = WebSession.id == web.id
    if read_utc(web.last_seen_at) + timedelta(minutes=config.session_idle_minutes) < moment:
        write_aside(session, lambda side: side.execute(delete(WebSession).where(one)))
        return None
    if read_utc(web.last_seen_at) + TOUCH_EVERY < moment:  # at most once a minute
        touch = update(WebSession).where(one).values(last_seen_at=moment)
        write_aside(session, lambda side: side.execute(touch))
    return web


MaybeCaller = Annotated[Caller | None, Depends(caller)]


def customer(who: MaybeCaller) -> Customer:
    if who is None or who.customer is None:
        raise Unauthorized("sign in with your phone number first")
    return who.customer


def any_staff(who: MaybeCaller) -> Staff:
    """Any signed-in member of staff, the deployment regulator included: only for what reads
    the deployment's figures (the dashboard, `/console/companies`, `/api/v1/figures/companies`),
    each of which asks `staff.service.readable_companies` for its scope."""
    if who is None or who.staff is None:
        raise Unauthorized("staff sign-in required")
    return who.staff


def staff(who: MaybeCaller) -> Staff:
    """A signed-in member of staff working in their company: every company-scoped page and
    call. The deployment regulator is refused here, whatever the route, so that nothing of one
    company's accounts, queues or actions is ever open to it."""
    member = any_staff(who)
    if reads_the_deployment(member):
        raise Forbidden(
            "the deployment regulator reads the figures of every company (/console/companies, "
            "/api/v1/figures/companies) and nothing of one company's accounts, queues or actions"
        )
    return member


SignedInCustomer = Annotated[Customer, Depends(customer)]
SignedInStaff = Annotated[Staff, Depends(staff)]
"""A member of staff scoped to their company (never the deployment regulator)."""
AnyStaff = Annotated[Staff, Depends(any_staff)]
"""Any member of staff, the deployment regulator included (figures only)."""


def require_role(member: Staff, *roles: str) -> None:
    """Refuse a member of staff whose role is not one of `roles`."""
    if member.role not in roles:
        raise Forbidden(f"the {member.role} role may not do this (needs {' or '.join(roles)})")


def backoff(settings: Settings) -> throttle.Policy:
    """The staff sign-in back-off the settings ask for."""
    return throttle.Policy(settings.sign_in_free_failures, settings.sign_in_max_wait_seconds)
