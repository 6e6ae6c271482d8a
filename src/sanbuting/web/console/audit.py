"""Console: the audit log of the staff member's company, newest first (supervisors, policy
administrators and regulators read it; it is append-only in the database)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from sanbuting.staff.service import audit_log
from sanbuting.web import deps
from sanbuting.web.console.common import page
from sanbuting.web.console.exports import MOST_ROWS, FileForm, export
from sanbuting.web.console.tables import audit_table
from sanbuting.web.deps import require_role
from sanbuting.web.types import Page

routes = APIRouter(prefix="/console")
READERS = ("supervisor", "policy_admin", "regulator", "policy_authority")
PAGE_SIZE = 100


@routes.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    page_number: Annotated[Page, Query(alias="page")] = 1,
) -> Response:
    require_role(staff, *READERS)
    rows = audit_log(session=session, company_id=staff.company_id, page=page_number, size=PAGE_SIZE)
    shown = [(entry, username, json.loads(entry.detail or "{}")) for entry, username in rows]
    return page(
        request,
        "console/audit.html",
        staff,
        rows=shown,
        page_number=page_number,
        more=len(rows) == PAGE_SIZE,
    )


@routes.get("/audit.{form}")
def audit_file(
    request: Request, session: deps.DB, staff: deps.SignedInStaff, form: FileForm
) -> Response:
    """The audit log, newest first (the newest `exports.MOST_ROWS` entries), as CSV or XLSX;
    the export itself is logged after it is read."""
    require_role(staff, *READERS)
    rows = audit_log(session=session, company_id=staff.company_id, size=MOST_ROWS)
    return export(
        request, session, staff, audit_table(rows),
        form=form, name="audit-log", action="export_audit",
    )  # fmt: skip
