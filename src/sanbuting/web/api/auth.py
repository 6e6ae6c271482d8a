"""Signing in to the API: a customer asks for a one-time code by SMS (POST /auth/code) and
trades it for a bearer token (POST /auth/verify); a member of staff signs in with a username
and password (POST /auth/staff); POST /auth/signout ends the session. Tokens rotate at every
sign-in and expire when idle; attempts and codes sent are rate-limited.

A wrong code or password is recorded (a code's tries, a staff audit entry) before the refusal,
so the refusal is returned as an answer, not raised: the request's transaction commits it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sanbuting.customers import service as customers
from sanbuting.domain import mask_phone
from sanbuting.errors import TooMany, Unauthorized
from sanbuting.staff import service as staff_service
from sanbuting.store.models import Company
from sanbuting.web import deps, problems
from sanbuting.web.api.common import SECURED, Now, RateLimits, client_ip, errors
from sanbuting.web.api.schemas import (
    CodeRequest,
    CodeSent,
    StaffSignIn,
    StaffTokenOut,
    TokenOut,
    VerifyRequest,
)
from sanbuting.web.deps import DB, Configured
from sanbuting.web.sessions import end_session, start_session

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/code",
    status_code=202,
    response_model=CodeSent,
    responses=errors(400, 422, 429),
    summary="Send a sign-in code by SMS",
)
def send_code(body: CodeRequest, request: Request, session: DB, config: Configured) -> CodeSent:
    customers.request_code(
        session=session, phone=body.phone, ip=client_ip(request), settings=config, now=deps.now()
    )
    return CodeSent(phone=mask_phone(body.phone), expires_in=config.code_ttl_minutes * 60)


@router.post(
    "/verify",
    response_model=TokenOut,
    responses=errors(400, 401, 422, 429),
    summary="Trade a sign-in code for a bearer token",
)
def verify(
    body: VerifyRequest,
    request: Request,
    session: DB,
    config: Configured,
    limits: RateLimits,
) -> TokenOut | JSONResponse:
    try:
        customer = customers.sign_in_with_code(  # the portal's rule, on the wall clock
            session=session,
            phone=body.phone,
            code=body.code,
            ip=client_ip(request),
            settings=config,
            limits=limits,
            now=deps.now(),
        )
    except Unauthorized as refused:
        return problems.answer(refused)
    token = start_session(
        session=session, request=request, response=None, settings=config, customer_id=customer.id
    )
    return TokenOut(token=token, expires_in=config.session_idle_minutes * 60)


@router.post(
    "/staff",
    response_model=StaffTokenOut,
    responses=errors(400, 401, 422, 429),
    summary="Staff sign-in: a bearer token for a username and password",
)
def staff_sign_in(
    body: StaffSignIn,
    request: Request,
    session: DB,
    config: Configured,
    now: Now,
) -> StaffTokenOut | JSONResponse:
    try:
        member = staff_service.authenticate(
            session=session,
            username=body.username,
            password=body.password,
            ip=client_ip(request),
            now=deps.now(),  # security runs on the wall clock
            backoff=deps.backoff(config),
        )
    except (Unauthorized, TooMany) as refused:  # returned, not raised: the failure counts
        return problems.answer(refused)
    token = start_session(
        session=session, request=request, response=None, settings=config, staff_id=member.id
    )
    company = session.get(Company, member.company_id)
    assert company is not None
    staff_service.audit(
        session=session,
        staff=member,
        action="api.sign_in",
        target=member.username,
        detail={"ip": client_ip(request)},
        now=now,
    )
    return StaffTokenOut.model_validate(
        {
            "token": token,
            "expires_in": config.session_idle_minutes * 60,
            "role": member.role,
            "company": company.code,
        }
    )


@router.post(
    "/signout",
    status_code=204,
    response_class=Response,
    dependencies=SECURED,
    summary="End the session of the bearer token (if any)",
)
def sign_out(request: Request, session: DB) -> Response:
    end_session(session=session, request=request, response=None)
    return Response(status_code=204)
