"""Tickets on the clock (issue 13, item 5): teams of staff (`teams`, `team_members` with their
leads), and on each application the team working it, the account's area class, the moment it
is escalated (80 % of the promised time) and when its promised milestone was reached.

Applications stored before this revision get an escalation moment at 80 % of the time from
submission to the promise, around the clock, and the completed ones stop their clock at their
completion (their area class stays unknown).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.UniqueConstraint("company_id", "code"),
    )
    op.create_index("ix_teams_company_id", "teams", ["company_id"])
    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("staff_id"),
    )
    op.create_index("ix_team_members_team_id", "team_members", ["team_id"])
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("area", sa.String(8), nullable=True))
        batch.add_column(sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("clock_stopped_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_applications_team_id", "teams", ["team_id"], ["id"])
        batch.create_index("ix_applications_team_id", ["team_id"])
    _backfill()


def _backfill() -> None:
    applications = sa.table(
        "applications",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("promised_by", sa.DateTime(timezone=True)),
        sa.column("escalate_at", sa.DateTime(timezone=True)),
        sa.column("clock_stopped_at", sa.DateTime(timezone=True)),
    )
    events = sa.table(
        "application_events",
        sa.column("application_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    completed = dict(
        connection.execute(
            sa.select(events.c.application_id, sa.func.max(events.c.at))
            .where(events.c.status == "completed")
            .group_by(events.c.application_id)
        ).all()
    )
    rows = connection.execute(
        sa.select(applications.c.id, applications.c.created_at, applications.c.promised_by)
    ).all()
    for row in rows:
        escalate = row.created_at + (row.promised_by - row.created_at) * 4 // 5
        connection.execute(
            applications.update()
            .where(applications.c.id == row.id)
            .values(escalate_at=escalate, clock_stopped_at=completed.get(row.id))
        )


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_index("ix_applications_team_id")
        batch.drop_constraint("fk_applications_team_id", type_="foreignkey")
        batch.drop_column("clock_stopped_at")
        batch.drop_column("escalate_at")
        batch.drop_column("area")
        batch.drop_column("team_id")
    op.drop_index("ix_team_members_team_id", "team_members")
    op.drop_table("team_members")
    op.drop_index("ix_teams_company_id", "teams")
    op.drop_table("teams")
