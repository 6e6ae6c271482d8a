"""The portal's home page: quick pay, sign-in, the online business catalogue (in demo mode
also a link to the sandbox SMS inbox, `web.portal.demo`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sanbuting.web.deps import MaybeCaller
from sanbuting.web.portal.common import page

router = APIRouter()


@router.get("/")
def home(request: Request, who: MaybeCaller) -> Response:
    signed_in = who is not None and who.customer is not None
    return page(request, "portal/home.html", signed_in=signed_in)
