"""Online service figures of the deployment's companies from the store, as the 2020 report
counted them ("24 online services, online payments"): per company,

- payments by channel: how many and how much, each channel marked online or not
  (`labels.ONLINE_CHANNELS`: app, WeChat, Alipay, website, the portal's checkout); an approved
  write-off is no payment and is left out;
- business done online by kind: the applications customers filed themselves through the portal
  or the API (`customer_id` set), by business type, and how many of them are done.

Counts and sums only, never an account or a person; one grouped query each over the companies
asked for (`staff.service.readable_companies` decides which: the caller's scope, explicitly).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from sanbuting.domain import WRITE_OFF_CHANNEL
from sanbuting.reports.labels import ONLINE_CHANNELS
from sanbuting.store.models import Company, Payment
from sanbuting.store.web_models import Application

PAYMENT_SCHEMA = {
    "company": pl.String,
    "channel": pl.String,
    "online": pl.Boolean,
    "payments": pl.Int64,
    "paid_fen": pl.Int64,
}
BUSINESS_SCHEMA = {
    "company": pl.String,
    "business": pl.String,
    "applications": pl.Int64,
    "done": pl.Int64,
}
DONE = ("completed",)
"""The application status that counts as done (`applications.service.STATUSES`)."""


def payments_by_channel(session: Session, companies: Sequence[Company]) -> pl.DataFrame:
    """(company code, channel, online?, payments, paid fen) of `companies`, by company and
    channel; a payment without a channel counts under `unknown`."""
    codes = {company.id: company.code for company in companies}
    rows = session.execute(
        select(Payment.company_id, Payment.channel, func.count(), func.sum(Payment.amount_fen))
        .where(
            Payment.company_id.in_(sorted(codes)),
            Payment.posted.is_(True),
            or_(Payment.channel.is_(None), Payment.channel != WRITE_OFF_CHANNEL),
        )
        .group_by(Payment.company_id, Payment.channel)
    ).all()
    found = [
        (
            codes[company_id],
            channel or "unknown",
            channel in ONLINE_CHANNELS,
            int(n),
            int(paid or 0),
        )
        for company_id, channel, n, paid in rows
    ]
    return pl.DataFrame(found, schema=PAYMENT_SCHEMA, orient="row").sort("company", "channel")


def business_online(session: Session, companies: Sequence[Company]) -> pl.DataFrame:
    """(company code, business, applications, done) of the applications customers filed
    online, by company and business type."""
    codes = {company.id: company.code for company in companies}
    finished = case((Application.status.in_(DONE), 1), else_=0)
    rows = session.execute(
        select(Application.company_id, Application.business, func.count(), func.sum(finished))
        .where(Application.company_id.in_(sorted(codes)), Application.customer_id.is_not(None))
        .group_by(Application.company_id, Application.business)
    ).all()
    found = [
        (codes[company_id], business, int(n), int(done or 0))
        for company_id, business, n, done in rows
    ]
    return pl.DataFrame(found, schema=BUSINESS_SCHEMA, orient="row").sort("company", "business")


def online_totals(payments: pl.DataFrame, business: pl.DataFrame) -> dict[str, int]:
    """The online payments (count, fen) and the applications filed online, added up."""
    online = payments.filter(pl.col("online"))
    return {
        "online_payments": int(online["payments"].sum()),
        "online_paid_fen": int(online["paid_fen"].sum()),
        "online_applications": int(business["applications"].sum()),
    }
