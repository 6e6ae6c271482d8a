"""What the portal's pages share: the business clock, the CSRF check of a form post, the
caller's address for rate limits, bounded form fields, and the page renderer with the portal's
navigation.

Two clocks: security (codes, sessions, rate limits) always runs on the wall clock; money runs
on the business clock, which is `deps.now` as the application overrides it
(`app.dependency_overrides[deps.now]`, as for the API: the demo and the tests run the store's
2020 on it), else the wall clock. A payment's instant and the day a page is "as of" come from
the business clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sanbuting.domain import SHANGHAI, local_date, parse_yuan, read_utc
from sanbuting.errors import InvalidMoney, SanbutingError
from sanbuting.guard.limits import Limits
from sanbuting.settings import Settings
from sanbuting.web import deps
from sanbuting.web.pages import TEMPLATES, render
from sanbuting.web.security import CSRF_FIELD, check_csrf

CSRF_HEADER = "X-CSRF-Token"
R = TypeVar("R", bound=Response)

CsrfToken = Annotated[str | None, Form(alias=CSRF_FIELD, max_length=200)]
OrderNumber = Annotated[
    str, Path(pattern=r"^SP[0-9]{24}$", max_length=26, description="支付订单号")
]
FormText = Annotated[str, Form(max_length=100)]
FormShort = Annotated[str, Form(max_length=32)]


def business_now(request: Request) -> datetime:
    """The business clock (see the module docstring)."""
    clock: Callable[[], datetime] | None = request.app.dependency_overrides.get(deps.now)
    return clock() if clock is not None else deps.now()


def wall_now() -> datetime:
    return deps.now()


def today(request: Request) -> date:
    """The business day (Asia/Shanghai) pages are as of."""
    return local_date(business_now(request))


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def limits_of(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


def client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def check_form(request: Request, token: str | None) -> None:
    """Refuse a form post without this browser's CSRF token (field, or htmx's header)."""
    check_csrf(request, token or request.headers.get(CSRF_HEADER))


def amount_fen(text: str) -> int:
    """A yuan amount typed in a form, in fen; refused with a clear message."""
    try:
        fen = parse_yuan(text)
    except InvalidMoney:
        raise SanbutingError("enter an amount in yuan, e.g. 120.50") from None
    if fen <= 0:
        raise SanbutingError("enter an amount above 0")
    return fen


def shanghai(moment: datetime | None) -> str:
    """A stored UTC time as Asia/Shanghai wall time (`2020-03-10 12:00`)."""
    if moment is None:
        return ""
    return read_utc(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


TEMPLATES.env.filters.setdefault("shanghai", shanghai)


def page(
    request: Request, template: str, *, signed_in: bool, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A portal page (its navigation knows whether the customer is signed in)."""
    settings = settings_of(request)
    return render(
        request,
        template,
        status_code=status_code,
        signed_in=signed_in,
        demo=settings.demo,
        **context,
    )


def committed(session: Session, response: R) -> R:
    """Commit the request's transaction now, before the answer leaves. The `DB` dependency
    commits only after the answer is sent, and the browser following a redirect (or the
    provider reading `success`) must find what this request wrote. Call it last: the session
    cannot be used after it."""
    session.commit()
    return response
