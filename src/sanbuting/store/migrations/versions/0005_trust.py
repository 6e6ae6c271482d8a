"""Trustworthy money and one company's data its own (issue 11): payments posted by the
service have a key unique in the deployment; policy sets per company (and what-ifs the server
remembers); channel credentials for banks and agents; the cashier and policy-authority roles;
staff sign-in back-off and known addresses in the database; sign-in codes with the asking
address and number prefix; an application's assignee; audit entries by an operator.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_ROLES = ("agent", "supervisor", "policy_admin", "regulator")
NEW_ROLES = (*OLD_ROLES, "cashier", "policy_authority")


def _roles(roles: tuple[str, ...]) -> str:
    return f"role IN ({', '.join(repr(r) for r in roles)})"


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(
            sa.Column("posted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE payments SET posted = (result IS NOT NULL)")
    op.create_index(
        "uq_payments_posted_key",
        "payments",
        ["key"],
        unique=True,
        sqlite_where=sa.text("posted = 1"),
        postgresql_where=sa.text("posted"),
    )
    with op.batch_alter_table("policy_versions") as batch:
        batch.add_column(
            sa.Column(
                "company_id",
                sa.Integer(),
                sa.ForeignKey("companies.id", name="fk_policy_versions_company"),
                nullable=True,
            )
        )
        batch.create_index("ix_policy_versions_company_id", ["company_id"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column(
                "company_policy_version",
                sa.Integer(),
                sa.ForeignKey("policy_versions.id", name="fk_runs_company_policy_version"),
                nullable=True,
            )
        )
    with op.batch_alter_table("login_codes") as batch:
        batch.add_column(sa.Column("ip", sa.String(64), nullable=True))
        batch.add_column(sa.Column("prefix", sa.String(8), nullable=True))
        batch.create_index("ix_login_codes_ip", ["ip"])
        batch.create_index("ix_login_codes_prefix", ["prefix"])
        batch.create_index("ix_login_codes_created_at", ["created_at"])
    with op.batch_alter_table("applications") as batch:
        batch.add_column(
            sa.Column(
                "assigned_to",
                sa.Integer(),
                sa.ForeignKey("staff.id", name="fk_applications_assigned_to"),
                nullable=True,
            )
        )
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("staff_role", type_="check")
        batch.create_check_constraint("staff_role", _roles(NEW_ROLES))
    _drop_audit_guards()
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("actor", sa.String(100), nullable=False, server_default=""))
        batch.alter_column("staff_id", existing_type=sa.Integer(), nullable=True)
    _audit_guards()
    op.create_table(
        "policy_trials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("based_on", sa.String(200), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_version", sa.Integer(), nullable=True),
    )
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "staff_addresses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("staff_id", "ip"),
    )
    op.create_index("ix_staff_addresses_staff_id", "staff_addresses", ["staff_id"])
    op.create_table(
        "channel_credentials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("channels", sa.String(200), nullable=False),
        sa.Column("max_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('bank', 'agent')", name="channel_kind"),
        sa.CheckConstraint("max_amount_fen > 0", name="channel_limit_positive"),
    )
    op.create_index("ix_channel_credentials_company_id", "channel_credentials", ["company_id"])


def downgrade() -> None:
    op.drop_index("ix_channel_credentials_company_id", "channel_credentials")
    op.drop_table("channel_credentials")
    op.drop_index("ix_staff_addresses_staff_id", "staff_addresses")
    op.drop_table("staff_addresses")
    op.drop_table("sign_in_throttle")
    op.drop_table("policy_trials")
    _drop_audit_guards()
    op.execute("DELETE FROM audit_log WHERE staff_id IS NULL")  # an operator's, no staff row
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("staff_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("actor")
    _audit_guards()
    op.execute(f"DELETE FROM staff WHERE NOT ({_roles(OLD_ROLES)})")
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("staff_role", type_="check")
        batch.create_check_constraint("staff_role", _roles(OLD_ROLES))
    with op.batch_alter_table("applications") as batch:
        batch.drop_constraint("fk_applications_assigned_to", type_="foreignkey")
        batch.drop_column("assigned_to")
    with op.batch_alter_table("login_codes") as batch:
        batch.drop_index("ix_login_codes_created_at")
        batch.drop_index("ix_login_codes_prefix")
        batch.drop_index("ix_login_codes_ip")
        batch.drop_column("prefix")
        batch.drop_column("ip")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("fk_runs_company_policy_version", type_="foreignkey")
        batch.drop_column("company_policy_version")
    with op.batch_alter_table("policy_versions") as batch:
        batch.drop_index("ix_policy_versions_company_id")
        batch.drop_constraint("fk_policy_versions_company", type_="foreignkey")
        batch.drop_column("company_id")
    op.drop_index("uq_payments_posted_key", "payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("posted")


def _audit_guards() -> None:
    """The audit log keeps everything: no UPDATE or DELETE (as migration 0004 made it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION sanbuting_append_only()"
        )
        return
    for change in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{change.lower()} BEFORE {change} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        return
    for change in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{change}")
