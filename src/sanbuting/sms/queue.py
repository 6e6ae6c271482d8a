"""The SMS queue: the one interface through which the rest of sanbuting sends a text message.

Contract (other domains code against exactly this):

- `SmsMessage` (table `sms_messages`, migration 0016; defined in `store.sms_models`): id,
  company_id, key (unique: the idempotency key), phone, text, category (one of `CATEGORIES`),
  status (`queued` → `sending` → `sent` → `delivered` | `failed` | `unknown`, see `STATUSES`),
  segments, smsc_message_id, attempts, created_at, not_before (quiet hours), sent_at,
  delivered_at, receipt_status, error.
- `enqueue(session, *, company_id, key, phone, text, category, now, not_before=None)` adds a
  `queued` row in the caller's transaction (the caller commits) and returns it, or returns
  None when a row with `key` exists already (whatever its content: queueing is idempotent, so
  a retried decision never sends twice). `not_before` (default `now`) holds it back, for quiet
  hours. Raises ValueError for an unknown category, an empty phone or text, a naive `now`, or
  a text longer than 255 segments. Times are stored in UTC (SQLite compares them as text).
- `messages_to(session, company_id, phone, limit)`: the latest `limit` messages to a phone,
  newest first (the portal's "messages sent to you").

The sender (`sms.sender`, `sanbuting sms send`) is the only writer of the later statuses; it
sends each key at most once: a message it was submitting when it died ends `unknown`, never
sent twice (docs/sms.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.sms.encoding import segment_count
from sanbuting.store.sms_models import (
    CATEGORIES,
    DELIVERED,
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    STATUSES,
    UNKNOWN,
    SmsMessage,
)

__all__ = [
    "CATEGORIES",
    "DELIVERED",
    "FAILED",
    "QUEUED",
    "SENDING",
    "SENT",
    "STATUSES",
    "UNKNOWN",
    "SmsMessage",
    "enqueue",
    "messages_to",
]

MAX_PHONE = 32
MAX_KEY = 200


def enqueue(
    session: Session,
    *,
    company_id: int,
    key: str,
    phone: str,
    text: str,
    category: str,
    now: datetime,
    not_before: datetime | None = None,
) -> SmsMessage | None:
    """Queue `text` to `phone` under `key` (see the module); None when `key` is queued
    already."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown SMS category {category!r}: one of {', '.join(CATEGORIES)}")
    if not phone or len(phone) > MAX_PHONE:
        raise ValueError(f"a phone number of 1 to {MAX_PHONE} characters, not {phone!r}")
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"an SMS key of 1 to {MAX_KEY} characters")
    if now.tzinfo is None or (not_before is not None and not_before.tzinfo is None):
        raise ValueError("SMS times must be timezone-aware")
    values = {
        "company_id": company_id,
        "key": key,
        "phone": phone,
        "text": text,
        "category": category,
        "status": QUEUED,
        "segments": segment_count(text),
        "attempts": 0,
        "created_at": as_utc(now),
        "not_before": as_utc(not_before if not_before is not None else now),
    }
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the store runs on these
        raise ValueError(f"the SMS queue needs SQLite or PostgreSQL, not {dialect}")
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(SmsMessage)
        .values(values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SmsMessage.id)
    )
    new_id = session.scalar(statement)
    if new_id is None:
        return None
    return session.get(SmsMessage, new_id)


def messages_to(session: Session, company_id: int, phone: str, limit: int) -> list[SmsMessage]:
    """The latest `limit` messages of `company_id` to `phone`, newest first."""
    rows = session.scalars(
        select(SmsMessage)
        .where(SmsMessage.company_id == company_id, SmsMessage.phone == phone)
        .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
        .limit(limit)
    )
    return list(rows)
