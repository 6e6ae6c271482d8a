"""Secrets and guards: session tokens (kept only as hashes), sign-in codes and staff passwords
(argon2), the CSRF double-submit check for forms, security headers, and rate limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response
from limits import RateLimitItemPerHour, RateLimitItemPerMinute, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pwdlib import PasswordHash
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanbuting.web.problems import Forbidden, TooMany

CSRF_COOKIE = "sbt_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "sbt_session"
PASSWORDS = PasswordHash.recommended()
"""argon2id with the library's recommended parameters."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_code() -> str:
    """A 6-digit sign-in code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(code: str, phone: str, secret: str) -> str:
    """A keyed hash of a code (bound to the phone it was sent to)."""
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def password_matches(password: str, hashed: str) -> bool:
    return PASSWORDS.verify(password, hashed)


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


class Limits:
    """Rate limits kept in this process (one server; a cluster would use a shared store)."""

    def __init__(self, sign_ins_per_minute: int, codes_per_hour: int) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.sign_in = RateLimitItemPerMinute(sign_ins_per_minute)
        self.codes = RateLimitItemPerHour(codes_per_hour)
        self.requests = parse("600/minute")

    def hit(self, item: object, *keys: str, what: str) -> None:
        if not self.limiter.hit(item, *keys):  # type: ignore[arg-type]
            raise TooMany(f"too many {what}: wait a while and try again")
