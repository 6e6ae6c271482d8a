"""The SMS queue's table, `sms_messages`: one row per text to one phone, under an idempotency
key. `sanbuting.sms.queue` is the interface to it (enqueue, read); `sanbuting.sms.sender`
sends the rows through an SMSC and records what happened (docs/sms.md).

Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sanbuting.store.models import Base

CATEGORIES = ("essential", "emergency", "sign_in", "public_service", "marketing_free")
"""What a message is for, which decides the rules it is sent under:

- `essential`: collections notices about the customer's own supply (arrears, a cut-off or
  reconnection to come, relief granted);
- `emergency`: warnings in an emergency (a storm, an outage, restoration);
- `sign_in`: one-time sign-in codes (sent at once, any hour);
- `public_service`: public-service broadcasts (公益短信) to many customers;
- `marketing_free`: any other non-essential message (never commercial advertising: the name
  says it carries none); held by quiet hours and by a customer's opt-out.
"""

QUEUED, SENDING, SENT, DELIVERED, FAILED, UNKNOWN = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "failed",
    "unknown",
)
STATUSES = (QUEUED, SENDING, SENT, DELIVERED, FAILED, UNKNOWN)
"""A message's status: `queued` (waiting for its turn, not before `not_before`) → `sending`
(claimed by a sender, which committed this before submitting) → `sent` (the SMSC accepted it
and gave `smsc_message_id`) → `delivered` | `failed` (the SMSC's delivery receipt; `failed`
also when the SMSC refused the submit for good). `unknown`: found `sending` when a sender
started, so it may or may not have reached the SMSC; it is never submitted again (at most
once, never twice)."""


class SmsMessage(Base):
    """A text to one phone: `key` is unique (queueing it again does nothing), `segments` the
    number of SMS it takes, `smsc_message_id` the SMSC's id for it (a long text's first
    segment), `receipt_status` the delivery receipt's `stat` (DELIVRD, UNDELIV, ...)."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("key", name="uq_sms_messages_key"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'unknown')",
            name="sms_status_known",
        ),
        CheckConstraint(
            "category IN ('essential', 'emergency', 'sign_in', 'public_service', 'marketing_free')",
            name="sms_category_known",
        ),
        CheckConstraint("attempts >= 0", name="sms_attempts_not_negative"),
        Index("ix_sms_messages_due", "status", "not_before"),
        Index("ix_sms_messages_phone", "company_id", "phone", "created_at"),
        Index("ix_sms_messages_smsc_id", "smsc_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    key: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    smsc_message_id: Mapped[str | None] = mapped_column(String(65))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """Not sent before this moment (quiet hours); `created_at` when it may go at once."""
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receipt_status: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
