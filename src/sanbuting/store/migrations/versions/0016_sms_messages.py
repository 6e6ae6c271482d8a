"""The SMS queue (docs/sms.md): one row per text to one phone, unique by its idempotency key,
with the SMSC's message id and delivery receipt as the sender records them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("smsc_message_id", sa.String(65)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("receipt_status", sa.String(16)),
        sa.Column("error", sa.Text()),
        sa.UniqueConstraint("key", name="uq_sms_messages_key"),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'unknown')",
            name="sms_status_known",
        ),
        sa.CheckConstraint(
            "category IN ('essential', 'emergency', 'sign_in', 'public_service', 'marketing_free')",
            name="sms_category_known",
        ),
        sa.CheckConstraint("attempts >= 0", name="sms_attempts_not_negative"),
    )
    op.create_index("ix_sms_messages_due", "sms_messages", ["status", "not_before"])
    op.create_index("ix_sms_messages_phone", "sms_messages", ["company_id", "phone", "created_at"])
    op.create_index("ix_sms_messages_smsc_id", "sms_messages", ["smsc_message_id"])


def downgrade() -> None:
    op.drop_index("ix_sms_messages_smsc_id", "sms_messages")
    op.drop_index("ix_sms_messages_phone", "sms_messages")
    op.drop_index("ix_sms_messages_due", "sms_messages")
    op.drop_table("sms_messages")
