"""The text message of an application's or ticket's move (`applications.service.transition`):
when a member of staff moves it (accepted, in progress, completed, rejected, cancelled), the
customer is told its number, business and new status, in the transaction of the move.

It goes to the signed-in customer who submitted it, else to the contact phone of its form (a
mobile); a move the customer made themselves (cancelling online) sends nothing. The message is
non-essential (`marketing_free`: news, never advertising): held by quiet hours, not sent to a
number opted out, refused past the daily cap. Its key is the application's event, so a move is
told once.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from sanbuting.applications import catalogue
from sanbuting.sms import rules
from sanbuting.sms.templates import configured
from sanbuting.store.models import Company
from sanbuting.store.web_models import Application, ApplicationEvent, Customer

LANGUAGE = "zh-CN"
CATEGORY = "marketing_free"


def application_moved(
    *, session: Session, application: Application, event: ApplicationEvent, status_text: str
) -> rules.Outcome:
    """Queue the message of `event` (the move just recorded, flushed), `status_text` its
    status in words."""
    phone = _phone(session, application)
    if phone is None:
        return rules.Outcome("no_phone")
    company = session.get(Company, application.company_id)
    assert company is not None  # a foreign key
    spec = catalogue.business(application.business)
    kind = "ticket_state" if spec.category == "ticket" else "application_state"
    text = configured().render(
        kind,
        language=LANGUAGE,
        company=company,
        values={
            "number": application.number,
            "business": short_name(spec.zh),
            "status": status_text,
        },
    )
    return rules.submit(
        session,
        company_id=company.id,
        key=f"{company.code}:application:{application.number}:{event.id}:sms",
        phone=phone,
        text=text,
        category=CATEGORY,
        now=event.at,
    )


def short_name(name: str) -> str:
    """A business's name without its explanation in brackets: 故障报修（停电、电压异常） →
    故障报修."""
    return name.partition("（")[0].partition("(")[0].strip() or name


def _phone(session: Session, application: Application) -> str | None:
    """The customer's number, else the form's contact phone when it is a mobile."""
    if application.customer_id is not None:
        customer = session.get(Customer, application.customer_id)
        if customer is not None:
            return customer.phone
    fields = json.loads(application.fields or "{}")
    contact = fields.get("contact_phone") if isinstance(fields, dict) else None
    return rules.mobile_of(contact) if isinstance(contact, str) else None
