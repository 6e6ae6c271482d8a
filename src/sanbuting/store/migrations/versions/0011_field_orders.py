"""Field work orders (docs/store.md, "Field work orders"): one row per cut-off, reconnection
or meter-closing order the daily run queues, with the address, the arrears, the deadline,
the crew and the field's completion feedback.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("account", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("arrears_fen", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_source", sa.String(300), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=True),
        sa.Column("assigned_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("outbox_id"),
        sa.CheckConstraint("arrears_fen >= 0", name="field_arrears_not_negative"),
        sa.CheckConstraint("paid_fen IS NULL OR paid_fen > 0", name="field_paid_positive"),
        sa.CheckConstraint(
            "status IN ('open', 'assigned', 'done', 'not_done', 'paid_at_door')",
            name="field_status",
        ),
    )
    op.create_index("ix_field_orders_company_status", "field_orders", ["company_id", "status"])
    op.create_index("ix_field_orders_account", "field_orders", ["account"])
    op.create_index("ix_field_orders_team_id", "field_orders", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_field_orders_team_id", "field_orders")
    op.drop_index("ix_field_orders_account", "field_orders")
    op.drop_index("ix_field_orders_company_status", "field_orders")
    op.drop_table("field_orders")
