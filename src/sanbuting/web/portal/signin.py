"""Signing in by phone and one-time code, and signing out.

`/signin` asks for the phone; `/signin/code` sends the code (through the outbox) and asks for
it; `/signin/verify` checks it, starts a new session (the old one ends: the token rotates, and
the CSRF token with it) and goes to the customer's accounts. Both posts are rate-limited per
address (`Limits.sign_in`); code sending is limited per phone by `customers.service`. A wrong
code is answered on the page and the request still commits, so the try is counted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sanbuting.customers import service as customers
from sanbuting.domain import mask_phone
from sanbuting.errors import SanbutingError, TooMany, Unauthorized
from sanbuting.guard.hashing import new_token
from sanbuting.web.deps import DB, MaybeCaller
from sanbuting.web.portal.common import (
    CsrfToken,
    FormShort,
    check_form,
    client_ip,
    committed,
    limits_of,
    page,
    settings_of,
    wall_now,
)
from sanbuting.web.security import CSRF_COOKIE
from sanbuting.web.sessions import end_session, start_session

router = APIRouter()


def _signin_page(
    request: Request,
    *,
    stage: str,
    phone: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "portal/signin.html",
        signed_in=False,
        stage=stage,
        phone=phone,
        shown_phone=mask_phone(phone) if phone else "",
        error=error,
        ttl=settings_of(request).code_ttl_minutes,
        status_code=status_code,
    )


@router.get("/signin")
def signin_form(request: Request, who: MaybeCaller) -> Response:
    if who is not None and who.customer is not None:
        return RedirectResponse("/accounts", status_code=303)
    return _signin_page(request, stage="phone")


@router.post("/signin/code")
def send_code(
    request: Request, session: DB, phone: FormShort = "", csrf: CsrfToken = None
) -> Response:
    check_form(request, csrf)
    limits = limits_of(request)
    try:
        limits.hit(limits.sign_in, "signin", client_ip(request), what="sign-in attempts")
        clean = customers.normal_phone(phone)
        customers.send_code(
            session=session,
            phone=clean,
            settings=settings_of(request),
            limits=limits,
            now=wall_now(),
        )
    except TooMany as exc:
        return _signin_page(request, stage="phone", phone="", error=str(exc), status_code=429)
    except customers.InvalidPhone as exc:
        return _signin_page(request, stage="phone", error=str(exc), status_code=400)
    return committed(session, _signin_page(request, stage="code", phone=clean))


@router.post("/signin/verify")
def verify(
    request: Request,
    session: DB,
    phone: FormShort = "",
    code: FormShort = "",
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    limits = limits_of(request)
    settings = settings_of(request)
    try:
        limits.hit(limits.sign_in, "signin", client_ip(request), what="sign-in attempts")
        customer = customers.verify_code(
            session=session, phone=phone, code=code, settings=settings, now=wall_now()
        )
    except TooMany as exc:
        return _signin_page(request, stage="code", phone=phone, error=str(exc), status_code=429)
    except Unauthorized as exc:  # returned, not raised: the wrong try is committed
        refused = _signin_page(request, stage="code", phone=phone, error=str(exc), status_code=401)
        return committed(session, refused)
    except SanbutingError as exc:
        return _signin_page(request, stage="code", phone=phone, error=str(exc), status_code=400)
    response = RedirectResponse("/accounts", status_code=303)
    start_session(
        session=session,
        request=request,
        response=response,
        settings=settings,
        customer_id=customer.id,
    )
    response.set_cookie(
        CSRF_COOKIE,
        new_token(),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )
    return committed(session, response)


@router.post("/signout")
def signout(request: Request, session: DB, csrf: CsrfToken = None) -> Response:
    check_form(request, csrf)
    response = RedirectResponse("/", status_code=303)
    end_session(session=session, request=request, response=response)
    return committed(session, response)
