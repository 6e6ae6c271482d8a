"""Starting and ending signed-in sessions. A new session is made at every sign-in (the old
one, if any, is ended: the token rotates), the browser gets it in an HttpOnly cookie and an API
client as a bearer token; the store keeps only the token's hash."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import delete
from sqlalchemy.orm import Session

from sanbuting.guard.hashing import new_token, token_hash
from sanbuting.settings import Settings
from sanbuting.store.web_models import WebSession
from sanbuting.web.deps import now
from sanbuting.web.security import SESSION_COOKIE


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
    token = new_token()
    moment = now()
    session.add(
        WebSession(
            token_hash=token_hash(token),
            kind="staff" if staff_id is not None else "customer",
            customer_id=customer_id,
            staff_id=staff_id,
            csrf_token=new_token(),
            created_at=moment,
            last_seen_at=moment,
        )
    )
    session.flush()
    if response is not None:
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
    """Sign out: the session named by the cookie or bearer token is deleted."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or request.cookies.get(SESSION_COOKIE)
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
    if response is not None:
        response.delete_cookie(SESSION_COOKIE)
