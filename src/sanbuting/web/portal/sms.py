"""The customer's text messages ("我的短信", `/messages`): every message sent to the number
they signed in with, of every company, newest first (`sms.queue.messages_to`), a sign-in code
hidden, with its status (a message held by quiet hours says when it goes); and the opt-out of
non-essential messages (`sms.rules.set_opt_out`), which covers every company of the
deployment. Messages to an account's phone on record that is not the customer's own number
are not shown: the customer proved the account, not that number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import SHANGHAI, mask_phone, read_utc
from sanbuting.sms import rules
from sanbuting.sms.queue import QUEUED, messages_to
from sanbuting.store.models import Company
from sanbuting.web.deps import DB, SignedInCustomer
from sanbuting.web.portal import sms_words  # noqa: F401  (registers the words)
from sanbuting.web.portal.common import CsrfToken, check_form, committed, page, wall_now

router = APIRouter()
SHOWN = 50
CODE = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])")


@dataclass(frozen=True)
class Shown:
    at: datetime
    company: str
    text: str
    status: str
    """A key of the page's words (`queued`, `held`, `sent`, ...)."""
    held_until: str
    """Asia/Shanghai time a held message goes at (`held` only)."""


def shown_text(text: str, category: str) -> str:
    """A message as the page shows it: a sign-in code's digits hidden."""
    return CODE.sub(lambda m: "*" * len(m.group(0)), text) if category == "sign_in" else text


def my_messages(session: Session, phone: str, now: datetime) -> list[Shown]:
    """The latest `SHOWN` messages to `phone` of every company, newest first."""
    companies = {c.id: c.name for c in session.scalars(select(Company).order_by(Company.id))}
    found = [m for company in companies for m in messages_to(session, company, phone, SHOWN)]
    found.sort(key=lambda m: (read_utc(m.created_at), m.id), reverse=True)
    rows = []
    for message in found[:SHOWN]:
        status, held = message.status, ""
        goes = read_utc(message.not_before)
        if status == QUEUED and goes > now:
            status, held = "held", goes.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        rows.append(
            Shown(
                message.created_at,
                companies.get(message.company_id, ""),
                shown_text(message.text, message.category),
                status,
                held,
            )
        )
    return rows


@router.get("/messages")
def messages(request: Request, session: DB, customer: SignedInCustomer) -> Response:
    return page(
        request,
        "portal/messages.html",
        signed_in=True,
        rows=my_messages(session, customer.phone, wall_now()),
        phone=mask_phone(customer.phone),
        opted_out=rules.opted_out_everywhere(session, phone=customer.phone),
    )


@router.post("/messages/opt-out")
def opt_out(
    request: Request,
    session: DB,
    customer: SignedInCustomer,
    out: Annotated[str, Form(pattern=r"^(on|off)$")] = "on",
    csrf: CsrfToken = None,
) -> Response:
    check_form(request, csrf)
    companies = list(session.scalars(select(Company.id).order_by(Company.id)))
    rules.set_opt_out(
        session,
        company_ids=companies,
        phone=customer.phone,
        out=out == "on",
        source="portal",
        now=wall_now(),
    )
    return committed(session, RedirectResponse("/messages#opt-out", status_code=303))
