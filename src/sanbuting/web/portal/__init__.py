"""The customer portal: server-rendered pages (Jinja2, vendored htmx), zh-CN first with
English, usable at a phone's width — home and quick pay, sign-in by SMS code, bound accounts
with bills, late fees, ledger and "Am I protected?", online payment through the sandbox
provider, and the text messages sent to the customer with their opt-out ("我的短信"). The
online business pages (`/business`) belong to the applications service."""

from __future__ import annotations

from fastapi import APIRouter

from sanbuting.web.portal import accounts, home, pay, quickpay, signin, sms
from sanbuting.web.portal.messages import MESSAGES

router = APIRouter(include_in_schema=False)
for part in (home, signin, accounts, pay, quickpay, sms):
    router.include_router(part.router)

__all__ = ["MESSAGES", "router"]
