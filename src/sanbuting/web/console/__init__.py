"""The staff console at `/console`: sign-in, the dashboard, account search and stories,
the collections desk's worklist with its locks and promises to pay, the applications
queue, the ticket worklists on the clock, field work orders, enforcement orders awaiting
release, public-service broadcasts (公益短信) with four eyes, relief policies with what-if and
activation, the audit log, and the companies' relief figures. Staff see only their own
company's data, but the deployment regulator, who reads every company's figures and nothing
else; roles are enforced on every page and action."""

from __future__ import annotations

from fastapi import APIRouter

from sanbuting.web.console import (
    accounts,
    adjustments,
    applications,
    audit,
    broadcasts,
    companies,
    desk,
    field,
    home,
    orders,
    policies,
    tickets,
)

router = APIRouter(include_in_schema=False)
for part in (
    home,
    accounts,
    desk,
    adjustments,
    applications,
    tickets,
    field,
    orders,
    broadcasts,
    policies,
    audit,
    companies,
):
    router.include_router(part.routes)

__all__ = ["router"]
