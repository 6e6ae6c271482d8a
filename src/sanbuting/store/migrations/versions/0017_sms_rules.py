"""Text messages' rules and broadcasts (docs/sms.md): each company's customer hotline, the
numbers opted out of non-essential messages, the messages the sending rules refused (opted out,
or past the number's daily cap), and public-service broadcasts (公益短信) with their scope,
preview, four-eyes approval and the count they queued.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("hotline", sa.String(20), nullable=True))
    op.create_table(
        "sms_opt_outs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "phone", name="uq_sms_opt_outs_phone"),
        sa.CheckConstraint("source IN ('portal', 'staff')", name="sms_opt_out_source"),
    )
    op.create_table(
        "sms_refusals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_sms_refusals_key"),
        sa.CheckConstraint("reason IN ('opted_out', 'daily_cap')", name="sms_refusal_reason"),
    )
    op.create_index("ix_sms_refusals_phone", "sms_refusals", ["company_id", "phone", "created_at"])
    op.create_table(
        "sms_broadcasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("numbers", sa.Integer(), nullable=False),
        sa.Column("drafted_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(200), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.UniqueConstraint("company_id", "number", name="uq_sms_broadcasts_number"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name="sms_broadcast_status"
        ),
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by <> drafted_by", name="sms_broadcast_four_eyes"
        ),
        sa.CheckConstraint(
            "numbers >= 0 AND queued >= 0 AND refused >= 0", name="sms_broadcast_counts"
        ),
    )
    op.create_index("ix_sms_broadcasts_company_status", "sms_broadcasts", ["company_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_sms_broadcasts_company_status", "sms_broadcasts")
    op.drop_table("sms_broadcasts")
    op.drop_index("ix_sms_refusals_phone", "sms_refusals")
    op.drop_table("sms_refusals")
    op.drop_table("sms_opt_outs")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("hotline")
