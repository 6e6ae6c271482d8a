"""The deployment regulator (docs/web.md, "The deployment regulator"): a staff role that reads,
read-only, the figures of every company of the deployment and nothing of any company's
accounts, queues or actions. Its name is longer than the role column allowed, so the column
widens to 32 characters and the role check names it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_ROLES = ("agent", "supervisor", "policy_admin", "regulator", "cashier", "policy_authority")
NEW_ROLES = (*OLD_ROLES, "deployment_regulator")


def _roles(roles: tuple[str, ...]) -> str:
    return f"role IN ({', '.join(repr(r) for r in roles)})"


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("staff_role", type_="check")
        batch.alter_column(
            "role", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False
        )
        batch.create_check_constraint("staff_role", _roles(NEW_ROLES))


def downgrade() -> None:
    left = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM staff WHERE role = 'deployment_regulator'")
    )
    if left:
        raise RuntimeError(
            f"{left} member(s) of staff are deployment regulators, a role before 0014 does not "
            "know: they are in the audit log, so they cannot be removed; keep revision 0014"
        )
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("staff_role", type_="check")
        batch.alter_column(
            "role", existing_type=sa.String(32), type_=sa.String(16), existing_nullable=False
        )
        batch.create_check_constraint("staff_role", _roles(OLD_ROLES))
