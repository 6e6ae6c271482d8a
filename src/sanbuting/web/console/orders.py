"""Console: enforcement orders waiting for approval. A company that requires approval has its
notices, suspensions, cut-offs and terminations held in the outbox by the daily run; here a
supervisor sees the held days (how many of each action), downloads the proposal of the next
day with the reason for each action (`jobs.preview`), and releases a day's orders to the
dispatcher (re-checked before each is sent). Releases are audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sanbuting.desk.holds import first_open_day
from sanbuting.explain.catalogue import Lang
from sanbuting.jobs.preview import preview
from sanbuting.jobs.releases import held_days, release_day
from sanbuting.web import deps
from sanbuting.web.console.common import company_of, page
from sanbuting.web.console.exports import FileForm, export
from sanbuting.web.console.tables import held_table
from sanbuting.web.deps import require_role
from sanbuting.web.i18n import language, translator
from sanbuting.web.security import CSRF_FIELD, check_csrf

routes = APIRouter(prefix="/console")
READERS = ("supervisor", "regulator")
RELEASERS = ("supervisor",)
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Day = Annotated[date, Form(description="The day whose held orders go out.")]


@routes.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    released: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
) -> Response:
    require_role(staff, *READERS)
    company = company_of(session, staff)
    following = first_open_day(session, company) if company.origin else None
    return page(
        request,
        "console/orders.html",
        staff,
        company=company,
        held=held_days(session=session, company=company),
        next_day=following,
        can_release=staff.role in RELEASERS,
        released=released,
    )


@routes.get("/orders.{form}")
def held_file(
    request: Request, session: deps.DB, staff: deps.SignedInStaff, form: FileForm
) -> Response:
    """The days with held orders, how many of each action, as CSV or XLSX."""
    require_role(staff, *READERS)
    held = held_days(session=session, company=company_of(session, staff))
    return export(
        request, session, staff, held_table(held, translator(language(request))),
        form=form, name="held-orders", action="export_held_orders",
    )  # fmt: skip


@routes.post("/orders/release")
def release(
    request: Request, session: deps.DB, staff: deps.SignedInStaff, day: Day, csrf_token: Csrf
) -> Response:
    check_csrf(request, csrf_token)
    require_role(staff, *RELEASERS)
    count = release_day(
        session=session, company=company_of(session, staff), day=day, now=deps.now(), staff=staff
    )
    return RedirectResponse(f"/console/orders?released={count}", status_code=303)


@routes.get("/orders/proposal.csv")
def proposal(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    day: Annotated[date, Query(description="The day to propose (not recorded yet).")],
) -> Response:
    """The day's proposed actions with their reasons, as CSV (nothing is recorded)."""
    require_role(staff, *READERS)
    lang: Lang = "en" if request.query_params.get("lang") == "en" else "zh"
    found = preview(
        engine=request.app.state.engine, day=day, lang=lang, company_ids=[staff.company_id]
    )
    return Response(
        "\ufeff" + found.csv(),  # a BOM, so that a spreadsheet opens the Chinese as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="proposal-{day}.csv"'},
    )
