"""Console: every list and table exports as CSV or XLSX (`reports.tables`), with the same rows
as on screen, Chinese or English headings (the page's language), money in 元.

A list's export is its path with `.csv` or `.xlsx` (`/console/accounts.csv?q=…` beside
`/console/accounts?q=…`), and holds the whole list, not one page of it (at most `MOST_ROWS`
rows, newest or first as on screen). Personal data is shown as on screen: phones and holders'
names masked unless the role may see them. The CSV is UTF-8 with a BOM, so that Excel opens the
Chinese as Chinese. Every export is written in the audit log (what, how many rows, which form).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from sanbuting.errors import NotFound
from sanbuting.reports import tables
from sanbuting.reports.tables import Lang, Table
from sanbuting.store.web_models import Staff
from sanbuting.web.console.common import record
from sanbuting.web.i18n import language, register

FORMS = ("csv", "xlsx")
MOST_ROWS = 100_000
"""The most rows a console list exports (the worklist's bound; a what-if keeps its own)."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

register(
    {
        "console.export.csv": ("导出 CSV", "Export CSV"),
        "console.export.xlsx": ("导出 Excel（XLSX）", "Export Excel (XLSX)"),
        "console.export.yes": ("是", "yes"),
        "console.export.no": ("否", "no"),
    }
)


def file_form(form: str) -> str:
    """The export's form from its path: `csv` or `xlsx` (anything else is not found)."""
    if form not in FORMS:
        raise NotFound(f"no export as .{form}: ask for .csv or .xlsx")
    return form


FileForm = Annotated[str, Depends(file_form)]
"""A route's `{form}` path parameter, checked before any work is done."""


def lang_of(request: Request) -> Lang:
    """The page's language as the table's headings take it."""
    return "en" if language(request) == "en" else "zh"


def export(
    request: Request,
    session: Session,
    staff: Staff,
    table: Table,
    *,
    form: str,
    name: str,
    action: str,
    target: str = "",
    **detail: object,
) -> Response:
    """`table` as the file `name.form`, audited as `action` on `target` with its row count,
    form and `detail` (the list's filters)."""
    lang = lang_of(request)
    record(session, staff, action, target, rows=len(table.rows), form=form, **detail)
    file_name = f"{UNSAFE.sub('_', name)[:100] or 'export'}.{form}"
    headers = {"Content-Disposition": f'attachment; filename="{file_name}"'}
    if form == "csv":
        body = "\ufeff" + tables.as_csv(table, lang)  # a BOM: Excel then reads UTF-8
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(tables.as_xlsx(table, lang), media_type=XLSX, headers=headers)
