"""The tables of who may be sent which text message (docs/sms.md, migration 0017): numbers
opted out of non-essential messages per company, the messages the sending rules refused, and
public-service broadcasts (公益短信) with their four-eyes approval. `sanbuting.sms.rules` and
`sanbuting.sms.broadcasts` are the services over them.

Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
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

OPT_OUT_SOURCES = ("portal", "staff")
REFUSAL_REASONS = ("opted_out", "daily_cap")
"""Why the rules refused a message: the number opted out of non-essential messages, or it had
been sent its daily cap of messages already."""
BROADCAST_STATUSES = ("pending", "approved", "rejected")


class SmsOptOut(Base):
    """A number that asked one company for no non-essential messages (broadcasts, application
    and ticket news): from the portal's toggle, or recorded by staff."""

    __tablename__ = "sms_opt_outs"
    __table_args__ = (
        UniqueConstraint("company_id", "phone", name="uq_sms_opt_outs_phone"),
        CheckConstraint("source IN ('portal', 'staff')", name="sms_opt_out_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    phone: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SmsRefusal(Base):
    """A message the sending rules did not queue, under the key it would have had (so that
    asking again refuses again, once): its number, category and why."""

    __tablename__ = "sms_refusals"
    __table_args__ = (
        UniqueConstraint("key", name="uq_sms_refusals_key"),
        CheckConstraint("reason IN ('opted_out', 'daily_cap')", name="sms_refusal_reason"),
        Index("ix_sms_refusals_phone", "company_id", "phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    key: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SmsBroadcast(Base):
    """A public-service broadcast (公益短信): drafted by one member of staff with its text and
    scope (JSON: utility, region prefixes, classes, tags), approved or rejected by another
    supervisor (four eyes, held by the database too). `numbers` is how many distinct numbers
    the scope reached when drafted; an approval queues one message to each number the scope
    reaches then and records how many were `queued` and how many the rules `refused`."""

    __tablename__ = "sms_broadcasts"
    __table_args__ = (
        UniqueConstraint("company_id", "number", name="uq_sms_broadcasts_number"),
        CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name="sms_broadcast_status"
        ),
        CheckConstraint(
            "decided_by IS NULL OR decided_by <> drafted_by", name="sms_broadcast_four_eyes"
        ),
        CheckConstraint(
            "numbers >= 0 AND queued >= 0 AND refused >= 0", name="sms_broadcast_counts"
        ),
        Index("ix_sms_broadcasts_company_status", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    number: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(Text)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    numbers: Mapped[int] = mapped_column(Integer, default=0)
    drafted_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    drafted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(200), default="")
    queued: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
