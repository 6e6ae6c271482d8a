"""Starting and ending signed-in sessions. A new session is made at every sign-in (the old
one, if any, is ended: the token rotates), the browser gets it in an HttpOnly cookie and an API
client as a bearer token; the store keeps only the token's hash. Each session has a CSRF token
of its own, which its forms carry; at sign-in the browser's CSRF cookie is replaced by it, so
that a token known before the sign-in is worth nothing after it."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sanbuting.guard.hashing import new_token, token_hash
from sanbuting.settings import Settings
from sanbuting.store.web_models import WebSession
from sanbuting.web.deps import cookie_may_act, now
from sanbuting.web.security import SESSION_COOKIE, remember_session, replace_csrf_cookie


def start_session(
    *,
    session: Session,
    request: Request,
    response: Response | None,
    settings: Settings,
    customer_id: int | None = None,
    staff_id: int | None = None,
) -> str:
    """Sign in: end the request's current session, start a new one; returns its token."""
    end_session(session=session, request=request, response=None)
    token, csrf = new_token(), new_token()
    moment = now()
    session.add(
        WebSession(
            token_hash=token_hash(token),
            kind="staff" if staff_id is not None else "customer",
            customer_id=customer_id,
            staff_id=staff_id,
            csrf_token=csrf,
            created_at=moment,
            last_seen_at=moment,
        )
    )
    session.flush()
    remember_session(request, csrf)
    if response is not None:
        replace_csrf_cookie(request, response, csrf, secure=settings.secure_cookies)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            max_age=settings.session_idle_minutes * 60 * 48,
        )
    return token


def end_session(*, session: Session, request: Request, response: Response | None) -> None:
    """Sign out: the session named by the bearer token or the cookie is deleted (through the
    API the cookie counts only with its CSRF header, `deps.cookie_may_act`)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or _cookie_session(session, request)
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
    remember_session(request, None)
    if response is not None:
        response.delete_cookie(SESSION_COOKIE)


def _cookie_session(session: Session, request: Request) -> str | None:
    """The session token of the browser's cookie, if the cookie may act for this request."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or not request.url.path.startswith("/api/"):
        return token
    named = WebSession.token_hash == token_hash(token)
    csrf = session.scalar(select(WebSession.csrf_token).where(named))
    return token if csrf is not None and cookie_may_act(request, csrf) else None
