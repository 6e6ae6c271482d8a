"""A what-if's changed accounts (docs/web.md, "the what-if"): one row per account and day whose
actions the uploaded set changes, kept with the trial so that its export lists them all.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_trial_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trial_id", sa.Integer(), sa.ForeignKey("policy_trials.id"), nullable=False),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("before", sa.String(200), nullable=False),
        sa.Column("after", sa.String(200), nullable=False),
        sa.Column("policies", sa.String(500), nullable=False),
    )
    op.create_index("ix_policy_trial_changes_trial", "policy_trial_changes", ["trial_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_policy_trial_changes_trial", "policy_trial_changes")
    op.drop_table("policy_trial_changes")
