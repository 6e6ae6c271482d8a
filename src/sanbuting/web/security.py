"""Secrets and guards: session tokens (kept only as hashes), sign-in codes and staff passwords
(argon2), the CSRF double-submit check for forms, security headers, and rate limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from limits import RateLimitItemPerHour, RateLimitItemPerMinute, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pwdlib import PasswordHash

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


def security_headers(
    secure_cookies: bool,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Middleware: security headers on every answer, and a CSRF cookie for every browser."""

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        token = request.cookies.get(CSRF_COOKIE) or new_token()
        request.state.csrf = token
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path in ("/docs", "/redoc"):
            response.headers["Content-Security-Policy"] = DOCS_CSP
        if CSRF_COOKIE not in request.cookies:
            response.set_cookie(
                CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies
            )
        return response

    return middleware


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
