"""The customer's online business (网上办理): the catalogue at `/business`, each business's
form at `/business/{code}`, the customer's applications at `/applications` and each one's
progress at `/applications/{number}`."""

from __future__ import annotations

from fastapi import APIRouter

from sanbuting.web.business import pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.routes)

__all__ = ["router"]
