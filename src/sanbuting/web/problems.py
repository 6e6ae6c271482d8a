"""Errors as RFC 9457 problem details (`application/problem+json`), mapped in one place:
domain exceptions raised by services become clear HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sanbuting.checkout.service import ProviderUnavailable
from sanbuting.errors import (
    Conflict,
    Forbidden,
    NotFound,
    SanbutingError,
    TooMany,
    Unauthorized,
)
from sanbuting.payments.service import PaymentRefused

STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (Forbidden, 403, "Forbidden"),
    (Unauthorized, 401, "Sign in first"),
    (Conflict, 409, "Conflict"),
    (PaymentRefused, 409, "Payment refused"),
    (ProviderUnavailable, 503, "Not available"),
    (TooMany, 429, "Too many requests"),
    (SanbutingError, 400, "Bad request"),
)


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def answer(exc: SanbutingError) -> JSONResponse:
    """The problem a domain error is (a rate limit's says when to try again: `Retry-After`)."""
    found = next(((s, t) for kind, s, t in STATUS if isinstance(exc, kind)), (400, "Bad request"))
    answered = problem(found[0], found[1], str(exc))
    if isinstance(exc, TooMany) and exc.retry_after is not None:
        answered.headers["Retry-After"] = str(exc.retry_after)
    return answered


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(SanbutingError)
    async def domain_error(_request: Request, exc: SanbutingError) -> JSONResponse:
        return answer(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))
