"""The web layer's guards: the CSRF check of forms and the security headers of every answer.
Hashing and rate limits live below the web layer, in `sanbuting.guard`."""

from __future__ import annotations

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanbuting.errors import Forbidden
from sanbuting.guard.hashing import new_token, same

CSRF_COOKIE = "sbt_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "sbt_session"


def check_csrf(request: Request, submitted: str | None) -> None:
    """A form post must carry the token its page was given in the CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not same(cookie, submitted):
        raise Forbidden("the form has expired or did not come from this site: reload the page")


HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    "script-src 'self' 'unsafe-inline' https:; frame-ancestors 'none'"
)


class SecurityHeaders:
    """ASGI middleware: security headers on every answer, and a CSRF cookie for every browser
    (the token is `request.state.csrf` for the page to embed). Plain ASGI, not Starlette's
    `BaseHTTPMiddleware`: that one costs a task group a request and, when a client goes away,
    cancels the request while its thread still holds a database connection."""

    def __init__(self, app: ASGIApp, secure_cookies: bool) -> None:
        self.app, self.secure_cookies = app, secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        present = HTTPConnection(scope).cookies.get(CSRF_COOKIE)
        token = present or new_token()
        scope.setdefault("state", {})["csrf"] = token
        docs = scope["path"] in ("/docs", "/redoc")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
                if not present:
                    headers.append("set-cookie", self._cookie(token))
            await send(message)

        await self.app(scope, receive, sending)

    def _cookie(self, token: str) -> str:
        carrier = Response()
        carrier.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=self.secure_cookies
        )
        return carrier.headers["set-cookie"]
