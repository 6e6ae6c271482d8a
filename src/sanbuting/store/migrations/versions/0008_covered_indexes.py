"""Drop the one-column indexes on an account that a two-column index now covers
(`ix_bills_account`, `ix_payments_account`, `ix_postings_account`, covered by 0007's indexes
of an account's rows by day): every insert paid for both, and the planner, given the choice,
read all of an account's payments and postings through the narrow one and filtered them by
day, so a payment's reads grew with the account's history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COVERED = (("ix_bills_account", "bills"), ("ix_payments_account", "payments"),
           ("ix_postings_account", "postings"))  # fmt: skip


def upgrade() -> None:
    for name, table in COVERED:
        op.drop_index(name, table)


def downgrade() -> None:
    for name, table in COVERED:
        op.create_index(name, table, ["account"])
