"""The web layer's guards: the CSRF check of forms and the security headers of every answer.
Hashing and rate limits live below the web layer, in `sanbuting.guard`.

CSRF: a signed-in caller's forms carry their session's own token (`WebSession.csrf_token`, new
at every sign-in) and a post is checked against it; an anonymous browser's forms (sign-in, quick
pay) carry the token of its CSRF cookie (double submit). `deps.caller` tells this module who is
calling (`remember_session`); a handler that never asked is looked up here, in the request's
own database session when it has one."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanbuting.errors import Forbidden
from sanbuting.guard.hashing import new_token, same, token_hash
from sanbuting.store.web_models import WebSession

CSRF_COOKIE = "sbt_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "sbt_session"
SESSION_CSRF = "sbt_session_csrf"
"""Request state: the signed-in session's CSRF token, None when the caller is anonymous
(absent until known)."""
REQUEST_DB = "sbt_db"
"""Request state: the request's database session while its handler runs (set by `deps.db`)."""


def remember_session(request: Request, csrf_token: str | None) -> None:
    """Record who is calling: a session with this CSRF token, or (None) nobody signed in."""
    setattr(request.state, SESSION_CSRF, csrf_token)
    request.state.csrf = form_token(request)


def cookie_token(request: Request) -> str:
    """The browser's CSRF cookie token (a new one, set on the answer, if it had none)."""
    token: str = getattr(request.state, CSRF_COOKIE, "") or request.cookies.get(CSRF_COOKIE, "")
    return token


def session_token(request: Request) -> str | None:
    """The CSRF token of the caller's session, or None when nobody is signed in."""
    state = request.scope.setdefault("state", {})
    if SESSION_CSRF not in state:
        state[SESSION_CSRF] = _look_up(request)
    known: str | None = state[SESSION_CSRF]
    return known


def form_token(request: Request) -> str:
    """The token this request's forms carry: the session's, else the CSRF cookie's."""
    return session_token(request) or cookie_token(request)


def check_csrf(request: Request, submitted: str | None) -> None:
    """A form post must carry its session's token, or without a session the CSRF cookie's."""
    expected = session_token(request) or request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not same(expected, submitted):
        raise Forbidden("the form has expired or did not come from this site: reload the page")


def _look_up(request: Request) -> str | None:
    """The CSRF token of the session named by the session cookie (a handler that never asked
    who is calling), read in the request's own database session if it has one."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    query = select(WebSession.csrf_token).where(WebSession.token_hash == token_hash(token))
    current: Session | None = getattr(request.state, REQUEST_DB, None)
    if current is not None:
        return current.scalar(query)
    app_state = request.app.state
    opened: sessionmaker[Session] = app_state.read_sessions or app_state.sessions
    with opened() as session:
        return session.scalar(query)


def replace_csrf_cookie(request: Request, response: Response, token: str, secure: bool) -> None:
    """Give the browser a new CSRF cookie (at sign-in)."""
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure)
    setattr(request.state, CSRF_COOKIE, token)
    request.state.csrf = form_token(request)


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
"""No inline script or style anywhere, `/docs` included (its Swagger UI is vendored)."""
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
CACHEABLE = ("/static/", "/favicon.ico", "/healthz")
"""Paths whose answers may be cached: they are the same for everyone. Every other answer may
be personal (a bill, a ledger, a token, a console page) and is `Cache-Control: no-store`."""


def cacheable(path: str) -> bool:
    return path.startswith(CACHEABLE[0]) or path in CACHEABLE[1:]


class SecurityHeaders:
    """ASGI middleware, the outermost of the application's own: the security headers on every
    answer (no-store where personal, HSTS behind HTTPS), a CSRF cookie for every browser (pages
    embed `form_token`: this cookie's token unless a session is signed in), and for an unhandled
    exception an answer of its own (`on_error`: a problem or a page), so that a 500 has the
    headers too; the exception is raised again for the server to log, never shown. Plain ASGI, not
    Starlette's `BaseHTTPMiddleware`: that one costs a task group a request and, when a client
    goes away, cancels the request while its thread still holds a database connection."""

    def __init__(
        self, app: ASGIApp, secure_cookies: bool, on_error: Callable[[Request], Response]
    ) -> None:
        self.app, self.secure_cookies, self.on_error = app, secure_cookies, on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        present = HTTPConnection(scope).cookies.get(CSRF_COOKIE)
        token = present or new_token()
        state = scope.setdefault("state", {})
        state[CSRF_COOKIE] = state["csrf"] = token
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                self._secure(headers, scope["path"])
                if not present and not _sets_csrf_cookie(headers):
                    headers.append("set-cookie", self._cookie(token))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:
                raise
            await self.on_error(Request(scope, receive))(scope, receive, sending)
            raise

    def _secure(self, headers: MutableHeaders, path: str) -> None:
        for name, value in HEADERS.items():
            if name not in headers:
                headers[name] = value
        if not cacheable(path):
            headers["Cache-Control"] = "no-store"
        if self.secure_cookies:
            headers["Strict-Transport-Security"] = HSTS

    def _cookie(self, token: str) -> str:
        carrier = Response()
        carrier.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=self.secure_cookies
        )
        return carrier.headers["set-cookie"]


def _sets_csrf_cookie(headers: MutableHeaders) -> bool:
    return any(cookie.startswith(f"{CSRF_COOKIE}=") for cookie in headers.getlist("set-cookie"))
