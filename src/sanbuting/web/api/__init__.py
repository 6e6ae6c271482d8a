"""The REST API under `/api/v1` (OpenAPI at `/docs`): signing in; customers' accounts, bills,
ledger, payments, relief status, applications and tickets; staff's accounts, applications,
policies, figures (their company's; every company's for the deployment regulator), field work
orders, the collections desk (locks, promises, plans, worklists, waivers and write-offs) and
public-service broadcasts.
Every parameter is bounded, every list paginated, every error a problem (RFC 9457)."""

from __future__ import annotations

from fastapi import APIRouter

from sanbuting.web.api import (
    accounts,
    adjustments,
    applications,
    auth,
    bills,
    broadcasts,
    companies,
    field,
    figures,
    holds,
    ledger,
    payments,
    policies,
    relief,
    staff,
    tickets,
)

router = APIRouter(prefix="/api/v1")
for part in (
    auth.router,
    accounts.router,
    bills.router,
    ledger.router,
    payments.router,
    relief.router,
    applications.public,
    applications.router,
    tickets.router,
    field.router,
    holds.router,
    adjustments.router,
    broadcasts.router,
    staff.router,
    policies.router,
    figures.router,
    companies.router,
):
    router.include_router(part)
