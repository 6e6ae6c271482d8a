"""The service's store: each company's origin (the day its imported states and balances are
as of), accounts' opening balances and ledger watermark, prepaid usage, the record of imported
files, each posted payment's first result, and the outbox's order day and last error.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch_op:
        batch_op.add_column(sa.Column("origin", sa.Date(), nullable=True))
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(
            sa.Column("opening_balance_fen", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("booked_through", sa.Date(), nullable=True))
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    op.create_table(
        "usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name="usage_amount_not_negative"),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["account"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "day"),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("rejects", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("result", sa.Text(), nullable=True))
        batch_op.create_index("ix_payments_paid_at", ["paid_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index("ix_payments_paid_at")
        batch_op.drop_column("result")
    op.drop_table("imports")
    op.drop_table("usage")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("day")
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_column("booked_through")
        batch_op.drop_column("opening_balance_fen")
    with op.batch_alter_table("companies") as batch_op:
        batch_op.drop_column("origin")
