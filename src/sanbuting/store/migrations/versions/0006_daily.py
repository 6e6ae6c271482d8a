"""The day costs the day (issue 12): checkpoints of the engine's state after a recorded day,
with the accounts whose rows changed before it (`checkpoint_dirty`); and the dunning
proposal's approval: a company may require that its enforcement orders (notice, suspension,
cut-off, termination) wait in the outbox as `held` until a supervisor releases them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(
            sa.Column("requires_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("run", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("accounts", sa.LargeBinary(), nullable=False),
        sa.Column("bills", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "day"),
    )
    op.create_table(
        "checkpoint_dirty",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
    )
    op.create_index("ix_checkpoint_dirty_company_id", "checkpoint_dirty", ["company_id"])
    op.create_index("ix_payments_paid_at_company", "payments", ["company_id", "paid_at"])
    op.create_index("ix_bills_issued_on_company", "bills", ["company_id", "issued_on"])
    op.create_index("ix_usage_day_company", "usage", ["company_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_usage_day_company", "usage")
    op.drop_index("ix_bills_issued_on_company", "bills")
    op.drop_index("ix_payments_paid_at_company", "payments")
    op.drop_index("ix_checkpoint_dirty_company_id", "checkpoint_dirty")
    op.drop_table("checkpoint_dirty")
    op.drop_table("checkpoints")
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'held'")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("requires_approval")
