"""Manual late-fee waivers and write-offs with a second person's approval (docs/store.md,
"Waivers and write-offs"): one row per request, pending until another supervisor approves or
rejects it, and what the approval made (the waiver's hold, the write-off's posting key).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fee_adjustments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("account", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(200), nullable=False),
        sa.Column("made", sa.String(140), nullable=True),
        sa.UniqueConstraint("company_id", "number"),
        sa.CheckConstraint("amount_fen > 0", name="adjustment_amount_positive"),
        sa.CheckConstraint("kind IN ('waive_fee', 'write_off')", name="adjustment_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name="adjustment_status"
        ),
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by <> requested_by", name="adjustment_four_eyes"
        ),
    )
    op.create_index(
        "ix_fee_adjustments_company_status", "fee_adjustments", ["company_id", "status"]
    )
    op.create_index("ix_fee_adjustments_account", "fee_adjustments", ["account"])


def downgrade() -> None:
    op.drop_index("ix_fee_adjustments_account", "fee_adjustments")
    op.drop_index("ix_fee_adjustments_company_status", "fee_adjustments")
    op.drop_table("fee_adjustments")
