"""Console: relief-policy sets. The versions activated so far (who and when); upload a YAML
file to check it (every problem shown, `file:line: message`) and see its what-if figures over
the company's accounts; activate it (policy administrators only: a new version, the ledger
booked again). Regulators and supervisors read; regulators may also run a what-if, which
changes nothing. Uploads are bounded in size and must be UTF-8 YAML."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from sanbuting.domain import local_date
from sanbuting.errors import PolicyError, SanbutingError
from sanbuting.store.models import PolicyVersion
from sanbuting.store.policies import activate
from sanbuting.store.web_models import Staff
from sanbuting.web import deps
from sanbuting.web.console.common import business_now, company_of, page, record
from sanbuting.web.deps import require_role
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.whatif.service import WhatIf, what_if

routes = APIRouter(prefix="/console")

READERS = ("supervisor", "policy_admin", "regulator")
TRIERS = ("policy_admin", "regulator")
ADMINS = ("policy_admin",)
MAX_UPLOAD = 256 * 1024
"""The largest policy file accepted (the 2020 set with every comment is about 12 KB)."""
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]


def _versions(session: deps.DB) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.version.desc())))


def _page(
    request: Request,
    session: deps.DB,
    staff: Staff,
    status_code: int = 200,
    **context: object,
) -> Response:
    context.setdefault("problems", [])
    context.setdefault("result", None)
    context.setdefault("activated", None)
    return page(
        request,
        "console/policies.html",
        staff,
        status_code=status_code,
        versions=_versions(session),
        can_try=staff.role in TRIERS,
        can_activate=staff.role in ADMINS,
        max_kb=MAX_UPLOAD // 1024,
        **context,
    )


@routes.get("/policies", response_class=HTMLResponse)
def policies_page(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    activated: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    require_role(staff, *READERS)
    return _page(request, session, staff, activated=activated)


def safe_file_name(name: str | None) -> str:
    """The uploaded file's own name, reduced to safe characters; it must end .yaml or .yml."""
    base = SAFE_NAME.sub("_", Path(name or "").name)[:100]
    if not base.lower().endswith((".yaml", ".yml")):
        raise SanbutingError("upload a relief-policy file ending .yaml or .yml")
    return base


async def _read_upload(upload: UploadFile) -> tuple[str, str]:
    name = safe_file_name(upload.filename)
    raw = await upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        raise SanbutingError(f"the file is larger than {MAX_UPLOAD // 1024} KB")
    try:
        return name, raw.decode("utf-8").replace("\r\n", "\n")
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
    """Check the uploaded set and show its what-if figures (nothing is changed)."""
    check_csrf(request, csrf_token)
    require_role(staff, *TRIERS)
    name, text = await _read_upload(file)
    try:
        result = what_if(
            session=session,
            company_ids=[staff.company_id],
            text=text,
            file_name=name,
            on=local_date(business_now(request)),
        )
    except PolicyError as exc:
        record(session, staff, "upload_policies", name, valid=False, problems=len(exc.problems))
        return _page(request, session, staff, 422, problems=exc.problems, file_name=name)
    record(session, staff, "what_if", name, sha256=result.sha256, **_summary(result))
    return _page(request, session, staff, result=result, text=text, file_name=name)


def _summary(result: WhatIf) -> dict[str, object]:
    return {
        "policies": result.policies,
        "seconds": round(result.seconds, 3),
        "figures": {
            f.utility: {
                "touched": f.touched,
                "arrears_fen": f.arrears_fen,
                "cutoffs": [f.cutoffs_without, f.cutoffs_with],
                "events": [f.events_without, f.events_with],
            }
            for f in result.utilities
        },
    }


@routes.post("/policies/activate", response_class=HTMLResponse)
def activate_policies(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    text: Annotated[str, Form(min_length=1, max_length=MAX_UPLOAD)],
    file_name: Annotated[str, Form(min_length=1, max_length=100)],
    sha256: Annotated[str, Form(pattern=r"^[0-9a-f]{64}$")],
    csrf_token: Csrf,
) -> Response:
    """Activate the set that was tried (checked again): a new version, the ledger rebooked."""
    check_csrf(request, csrf_token)
    require_role(staff, *ADMINS)
    name = safe_file_name(file_name)
    text = text.replace("\r\n", "\n")
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha256:
        raise SanbutingError("the file changed since its what-if: upload it again")
    company = company_of(session, staff)
    with tempfile.TemporaryDirectory(prefix="sanbuting-policy-") as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        try:
            done = activate(
                session=session,
                path=path,
                by=f"{staff.username} ({company.code})",
                at=deps.now(),
            )
        except PolicyError as exc:
            return _page(request, session, staff, 422, problems=exc.problems, file_name=name)
    record(
        session,
        staff,
        "activate_policies",
        name,
        version=done.version,
        sha256=done.sha256,
        policies=done.policies,
        postings=done.postings,
    )
    return RedirectResponse(f"/console/policies?activated={done.version}", status_code=303)
