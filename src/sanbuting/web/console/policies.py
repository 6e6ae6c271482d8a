"""Console: relief-policy sets. The versions of the staff member's scope (their company's own
sets and the deployment-wide ones; who and when); upload a YAML file to check it (every
problem shown, `file:line: message`, the first 100 and a count of the rest) and see its
what-if over every company its scope covers; activate it from that what-if, with an explicit
confirmation (`whatif.trials`: the server remembers the what-if of the exact bytes, so the
browser never sends the file or its hash again).

The what-if page also shows what changes: the file's changes policy by policy (added, removed,
windows moved, scopes and effects changed, `whatif.policy_diff`), the would-be cut-offs and
protection events per day before and after as inline SVG charts, and the first `SAMPLE`
account-days whose actions change (`whatif.accounts`); its maker exports them all as CSV or
XLSX from the what-if the server kept. The versions list exports too.

Scopes: a policy administrator tries and activates their company's own set; the policy
authority the deployment-wide set (its what-if shows every company); regulators may try their
company's scope, which changes nothing; supervisors read. Uploads are bounded in size (the
policy cap) and must be UTF-8 YAML."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from sanbuting.domain import local_date
from sanbuting.errors import PolicyError, SanbutingError
from sanbuting.policy.limits import too_large
from sanbuting.reports import charts
from sanbuting.reports.svg import ChartError, Lang
from sanbuting.store.models import Company
from sanbuting.store.policy_versions import versions_for
from sanbuting.store.web_models import Staff
from sanbuting.web import deps
from sanbuting.web.console import whatif_messages  # noqa: F401  (registers the words)
from sanbuting.web.console.common import business_now, company_of, page, record
from sanbuting.web.console.exports import FileForm, export, lang_of
from sanbuting.web.console.tables import changes_table, versions_table
from sanbuting.web.deps import require_role
from sanbuting.web.i18n import language, translator
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.whatif.policy_diff import describe
from sanbuting.whatif.service import FIGURES, WhatIf, day_frame, what_if
from sanbuting.whatif.trials import activate_trial, changes_of, remember, summary

routes = APIRouter(prefix="/console")

READERS = ("supervisor", "policy_admin", "regulator", "policy_authority")
TRIERS = ("policy_admin", "regulator", "policy_authority")
ADMINS = ("policy_admin", "policy_authority")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
SAMPLE = 50
"""How many changed account-days the what-if page shows (the export holds them all)."""
LOG = logging.getLogger(__name__)
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]


def scope_for(session: deps.DB, staff: Staff) -> Company | None:
    """The scope `staff` tries and activates in: the deployment (the policy authority), else
    their company's own set."""
    return None if staff.role == "policy_authority" else company_of(session, staff)


def _page(
    request: Request,
    session: deps.DB,
    staff: Staff,
    status_code: int = 200,
    **context: object,
) -> Response:
    context.setdefault("problems", [])
    context.setdefault("result", None)
    context.setdefault("trial", None)
    context.setdefault("activated", None)
    scope = scope_for(session, staff)
    result = context["result"]
    if isinstance(result, WhatIf):
        context.update(_what_changes(request, result))
    return page(
        request,
        "console/policies.html",
        staff,
        status_code=status_code,
        versions=versions_for(session, scope),
        scope=scope,
        can_try=staff.role in TRIERS,
        can_activate=staff.role in ADMINS,
        max_kb=_max_bytes(request) // 1024,
        figures=FIGURES,
        **context,
    )


def _what_changes(request: Request, result: WhatIf) -> dict[str, object]:
    """What the page shows of a what-if's changes: the file's in words, the day-by-day
    charts, the first changed account-days and their total, the companies by code."""
    lang = lang_of(request)
    return {
        "policy_changes": [describe(change, lang) for change in result.policy_changes],
        "whatif_charts": _charts(result, lang),
        "sample": result.changes[:SAMPLE],
        "changed_total": len(result.changes),
        "company_names": {f.company: f.name for f in result.companies},
    }


def _charts(result: WhatIf, lang: Lang) -> tuple[tuple[str, Markup], ...]:
    """Would-be cut-offs and protection events per day, before and after (none when the
    what-if counted no day; a chart that cannot be drawn is left out and logged)."""
    frame = day_frame(result)
    if frame.height == 0:
        return ()
    try:
        return tuple(
            (
                f"whatif_{measure}",
                Markup(
                    charts.whatif_by_day(
                        frame.filter(measure=measure).drop("measure"), lang, measure=measure
                    )
                ),
            )
            for measure in ("cutoffs", "events")
        )
    except ChartError:
        LOG.exception("the what-if's charts could not be drawn")
        return ()


def _max_bytes(request: Request) -> int:
    return deps.settings(request).policy_max_bytes


@routes.get("/policies", response_class=HTMLResponse)
def policies_page(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    activated: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    require_role(staff, *READERS)
    return _page(request, session, staff, activated=activated)


@routes.get("/policies.{form}")
def versions_file(
    request: Request, session: deps.DB, staff: deps.SignedInStaff, form: FileForm
) -> Response:
    """The versions of the staff member's scope, newest first, as CSV or XLSX."""
    require_role(staff, *READERS)
    scope = scope_for(session, staff)
    listed = versions_table(
        versions_for(session, scope),
        scope.name if scope else "",
        translator(language(request)),
    )
    return export(
        request, session, staff, listed,
        form=form, name="policy-versions", action="export_policy_versions",
    )  # fmt: skip


@routes.get("/policies/what-if/{trial}/changes.{form}")
def changes_file(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    trial: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    form: FileForm,
) -> Response:
    """Every account-day whose actions the what-if `trial` changes, as CSV or XLSX (its
    maker only: anyone else's is not found)."""
    require_role(staff, *TRIERS)
    kept = changes_of(session=session, trial_id=trial, staff=staff)
    names: dict[str, str] = dict(session.execute(select(Company.code, Company.name)).all())
    return export(
        request, session, staff, changes_table(kept, names),
        form=form, name=f"what-if-{trial}-changes", action="export_what_if_changes",
        target=str(trial),
    )  # fmt: skip


def safe_file_name(name: str | None) -> str:
    """The uploaded file's own name, reduced to safe characters; it must end .yaml or .yml."""
    base = SAFE_NAME.sub("_", Path(name or "").name)[:100]
    if not base.lower().endswith((".yaml", ".yml")):
        raise SanbutingError("upload a relief-policy file ending .yaml or .yml")
    return base


async def _read_upload(upload: UploadFile, limit: int) -> tuple[str, str]:
    name = safe_file_name(upload.filename)
    raw = await upload.read(limit + 1)
    if len(raw) > limit:
        raise PolicyError([f"{name}:1: {too_large(None, limit)}"])
    try:
        return name, raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise SanbutingError("the file is not UTF-8 text: save it as UTF-8 YAML") from None


@routes.post("/policies/what-if", response_class=HTMLResponse)
async def try_policies(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    file: Annotated[UploadFile, File(description="The relief-policy YAML file")],
    csrf_token: Csrf,
) -> Response:
    """Check the uploaded set and show its what-if figures; remember them for activation."""
    check_csrf(request, csrf_token)
    require_role(staff, *TRIERS)
    scope = scope_for(session, staff)
    name = safe_file_name(file.filename)
    try:
        name, text = await _read_upload(file, _max_bytes(request))
        result = what_if(
            session=session,
            scope=scope,
            text=text,
            file_name=name,
            on=local_date(business_now(request)),
        )
    except PolicyError as exc:
        record(session, staff, "upload_policies", name, valid=False, problems=len(exc.problems))
        return _page(request, session, staff, 422, problems=exc.problems, file_name=name)
    trial = remember(
        session=session, scope=scope, staff=staff, text=text, result=result, now=deps.now()
    )
    record(session, staff, "what_if", name, sha256=result.sha256, trial=trial.id, **summary(result))
    return _page(request, session, staff, result=result, trial=trial.id)


@routes.post("/policies/activate", response_class=HTMLResponse)
def activate_policies(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    trial: Annotated[int, Form(ge=1, le=2**31 - 1)],
    csrf_token: Csrf,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Activate the set of a what-if the server made (see the module docstring)."""
    check_csrf(request, csrf_token)
    require_role(staff, *ADMINS)
    try:
        done = activate_trial(  # audited in every company it changes
            session=session, trial_id=trial, staff=staff, confirmed=confirm == "yes", now=deps.now()
        )
    except PolicyError as exc:  # an id put in force in the other scope since the what-if
        return _page(request, session, staff, 422, problems=exc.problems, file_name=str(trial))
    return RedirectResponse(f"/console/policies?activated={done.version}", status_code=303)
