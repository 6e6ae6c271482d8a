"""Open items (issue 12): each postpaid account's open bills and credit at the end of a day
(`open_books`, `open_items`), so that a payment starts from them instead of the account's
history; the indexes that read one account's rows dated after a day; and what lets a dirty
account be derived again from an older checkpoint instead of the origin: the marks a run has
derived are kept as `cleared` (not deleted) while a checkpoint may still need them, and each
checkpoint remembers the last mark made before it (`marks_through`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_books",
        sa.Column("account", sa.Integer(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("credit_fen", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )
    op.create_table(
        "open_items",
        sa.Column("account", sa.Integer(), sa.ForeignKey("open_books.account"), primary_key=True),
        sa.Column("bill", sa.Integer(), sa.ForeignKey("bills.id"), primary_key=True),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("accrued_units", sa.BigInteger(), nullable=False),
        sa.Column("waived_units", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("waived_days", sa.Integer(), nullable=False),
        sa.Column("charged_fen", sa.BigInteger(), nullable=True),
        sa.Column("fee_paid_fen", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("checkpoint_dirty") as batch:
        batch.add_column(
            sa.Column("cleared", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("checkpoints") as batch:
        batch.add_column(
            sa.Column("marks_through", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index("ix_bills_account_issued_on", "bills", ["account", "issued_on"])
    op.create_index("ix_payments_account_paid_at", "payments", ["account", "paid_at"])
    op.create_index("ix_postings_account_effective_on", "postings", ["account", "effective_on"])


def downgrade() -> None:
    op.drop_index("ix_postings_account_effective_on", "postings")
    op.drop_index("ix_payments_account_paid_at", "payments")
    op.drop_index("ix_bills_account_issued_on", "bills")
    op.drop_table("open_items")
    op.drop_table("open_books")
    with op.batch_alter_table("checkpoints") as batch:
        batch.drop_column("marks_through")
    op.execute("DELETE FROM checkpoint_dirty WHERE cleared")
    with op.batch_alter_table("checkpoint_dirty") as batch:
        batch.drop_column("cleared")
