"""Signing in by phone and one-time code, and signing out.

`/signin` asks for the phone; `/signin/code` sends the code (a text message in the page's
language) and asks for it; `/signin/verify` checks it, starts a new session (the old one ends:
the token rotates, and the CSRF token with it) and goes to the customer's accounts. Sending and
checking follow the one rule the API follows too (`customers.service.request_code`,
`sign_in_with_code`: limits per phone, address, number prefix and a site budget, on the wall
clock). A wrong code is answered on the page and the request still commits, so the try is
counted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sanbuting.customers import service as customers
from sanbuting.domain import mask_phone
from sanbuting.errors import SanbutingError, TooMany, Unauthorized
from sanbuting.sms.templates import language_of
from sanbuting.web.deps import DB, MaybeCaller
from sanbuting.web.i18n import language
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
    try:
        clean = customers.request_code(  # the API's rule too
            session=session,
            phone=phone,
            ip=client_ip(request),
            settings=settings_of(request),
            now=wall_now(),
            language=language_of(language(request)),
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
    settings = settings_of(request)
    try:
        customer = customers.sign_in_with_code(  # the API's rule too
            session=session,
            phone=phone,
            code=code,
            ip=client_ip(request),
            settings=settings,
            limits=limits_of(request),
            now=wall_now(),
        )
    except TooMany as exc:
        return _signin_page(request, stage="code", phone=phone, error=str(exc), status_code=429)
    except Unauthorized as exc:  # returned, not raised: the wrong try is committed
        refused = _signin_page(request, stage="code", phone=phone, error=str(exc), status_code=401)
        return committed(session, refused)
    except SanbutingError as exc:
        return _signin_page(request, stage="code", phone=phone, error=str(exc), status_code=400)
    response = RedirectResponse("/accounts", status_code=303)
    start_session(  # a new session, and with it a new CSRF token (cookie too)
        session=session,
        request=request,
        response=response,
        settings=settings,
        customer_id=customer.id,
    )
    return committed(session, response)


@router.post("/signout")
def signout(request: Request, session: DB, csrf: CsrfToken = None) -> Response:
    check_form(request, csrf)
    response = RedirectResponse("/", status_code=303)
    end_session(session=session, request=request, response=response)
    return committed(session, response)
