"""Companies get a group (docs/store.md, "Companies"): the corporate group a company belongs
to (国家电网, 南方电网, 中国电信, 中国移动, 中国联通, 华润燃气, ...), which the reports roll up
by. Null until `db import --group` names it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_name", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("group_name")
