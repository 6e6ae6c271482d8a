"""The web application: the API under `/api/v1` (OpenAPI at `/docs`), the customer portal at
`/`, the staff console at `/console`; in demo mode only, the sandbox payment provider at
`/sandbox-pay` and the SMS inbox at `/demo/sms` (without it they do not exist: 404). Errors are
problem details for the API and a page for people, a server error included.

Around the routes, outermost first: the security headers (and the answer to an unhandled
exception), the request body limit, admission."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sanbuting import __version__
from sanbuting.errors import SanbutingError
from sanbuting.guard.limits import Limits
from sanbuting.settings import Settings
from sanbuting.sms.templates import configured as sms_templates
from sanbuting.store.database import make_engine, read_sessions, sessions
from sanbuting.web import docs_page, failures, problems
from sanbuting.web.admission import Admission
from sanbuting.web.body_limit import BodyLimit, BodyTooLarge
from sanbuting.web.security import SecurityHeaders

ROUTERS = (
    "sanbuting.web.api",
    "sanbuting.web.portal",
    "sanbuting.web.console",
    "sanbuting.web.business",
)
"""Each module has a `router`; a part not built yet is skipped."""
DEMO_ROUTERS = ("sanbuting.web.sandbox", "sanbuting.web.portal.demo")
"""Served only in demo mode: never in production."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for `settings` (default: from the environment)."""
    settings = settings or Settings()
    sms_templates(settings.sms_templates)  # refuse bad SMS templates before serving anything
    app = FastAPI(
        title="sanbuting 三不停",
        version=__version__,
        description="Accounts, bills, ledger, payments, relief status, policies, applications, "
        "tickets and figures of a utility running sanbuting. Errors are RFC 9457 problem "
        "details. Customers and staff authenticate with a bearer token (`/api/v1/auth/…`).",
        docs_url=None,  # `docs_page`: Swagger UI from this site, not a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    engine = make_engine(settings.database_url, settings.database_connections)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions(engine)
    app.state.read_sessions = read_sessions(
        settings.database_url, app.state.sessions, settings.database_connections
    )
    app.state.limits = Limits(settings.sign_ins_per_minute, settings.codes_per_hour)
    writers = 1 if settings.database_url.startswith("sqlite") else None  # one writer at a time
    app.add_middleware(Admission, limit=settings.database_connections, writes=writers)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, policy_bytes=settings.policy_max_bytes
    )
    app.add_middleware(
        SecurityHeaders, secure_cookies=settings.secure_cookies, on_error=failures.server_error
    )
    problems.install(app)
    _page_errors(app)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), "static")
    app.include_router(docs_page.router)
    for name in ROUTERS + (DEMO_ROUTERS if settings.demo else ()):
        _include(app, name)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def _include(app: FastAPI, module: str) -> None:
    try:
        part = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return
        raise
    router = getattr(part, "router", None)
    if router is not None:
        app.include_router(router)


def _page_errors(app: FastAPI) -> None:
    """People get a page, not JSON, when a page fails."""

    async def page_or_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SanbutingError)
        answer = problems.answer(exc)
        if failures.for_programs(request.url.path):
            return answer
        status = answer.status_code
        if status == 401:
            console = request.url.path.startswith("/console")
            return RedirectResponse("/console/signin" if console else "/signin", status_code=303)
        return failures.error_page(request, status, str(exc))

    async def too_large(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BodyTooLarge)
        return failures.too_large(request, exc.limit)

    app.add_exception_handler(SanbutingError, page_or_problem)
    app.add_exception_handler(BodyTooLarge, too_large)
