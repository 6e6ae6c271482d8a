"""Demo mode only (`Settings.demo`; the application does not include this router otherwise,
so the path answers 404): the sandbox SMS inbox at `/demo/sms`, the latest rows of the SMS queue
(`sms_messages`, whatever their status), phone masked and code shown, so that a new user can sign
in without a phone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from sanbuting.domain import mask_phone
from sanbuting.sms.queue import SmsMessage
from sanbuting.web.deps import DB, MaybeCaller
from sanbuting.web.portal.common import page

router = APIRouter(include_in_schema=False)
INBOX_ROWS = 50
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


@dataclass(frozen=True)
class Sms:
    phone: str
    """Masked."""
    text: str
    code: str
    """The 6-digit code in the text, shown apart for a quick copy."""
    sent_at: datetime
    status: str


@router.get("/demo/sms")
def sms_inbox(request: Request, session: DB, who: MaybeCaller) -> Response:
    """The sandbox SMS inbox."""
    rows = session.scalars(
        select(SmsMessage)
        .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
        .limit(INBOX_ROWS)
    )
    messages = []
    for row in rows:
        code = CODE.search(row.text) if row.category == "sign_in" else None
        messages.append(
            Sms(
                phone=mask_phone(row.phone),
                text=row.text,
                code=code.group(0) if code else "",
                sent_at=row.created_at,
                status=row.status,
            )
        )
    signed_in = who is not None and who.customer is not None
    return page(request, "portal/demo_sms.html", signed_in=signed_in, messages=messages)
