"""The REST API under `/api/v1` (OpenAPI at `/docs`): signing in; customers' accounts, bills,
ledger, payments, relief status, applications and tickets; staff's accounts, applications,
policies, figures, field work orders and the collections desk (locks, promises, worklists).
Every parameter is bounded, every list paginated, every error a problem (RFC 9457)."""

from __future__ import annotations

from fastapi import APIRouter

from sanbuting.web.api import (
    accounts,
    applications,
    auth,
    bills,
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
    staff.router,
    policies.router,
    figures.router,
):
    router.include_router(part)
