"""The store: companies, accounts, bills, payments, the append-only ledger, the outbox.

On PostgreSQL a deferred constraint trigger refuses a posting whose lines do not sum to zero
at commit; on both backends triggers refuse any UPDATE or DELETE of ledger rows.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 04:29:17.975915
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("utility", sa.String(length=16), nullable=False),
        sa.Column("ruleset", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("utility", sa.String(length=16), nullable=False),
        sa.Column("customer_class", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("billing_mode", sa.String(length=16), nullable=False),
        sa.Column("tags", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("credit_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.CheckConstraint("credit_limit_fen >= 0", name="credit_limit_not_negative"),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "account_id"),
    )
    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.String(length=64), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="bill_amount_positive"),
        sa.CheckConstraint("due_on >= issued_on", name="due_not_before_issue"),
        sa.ForeignKeyConstraint(
            ["account"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "bill_id"),
    )
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bills_account"), ["account"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("account", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.ForeignKeyConstraint(
            ["account"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_status"), ["status"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("content", sa.String(length=64), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.CheckConstraint("amount_fen > 0", name="payment_amount_positive"),
        sa.ForeignKeyConstraint(
            ["account"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "key"),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_account"), ["account"], unique=False)

    op.create_table(
        "postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reverses", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reverses"],
            ["postings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "key"),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postings_account"), ["account"], unique=False)

    op.create_table(
        "ledger_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("posting", sa.Integer(), nullable=False),
        sa.Column("book", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("bill", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_fen <> 0", name="line_amount_not_zero"),
        sa.ForeignKeyConstraint(
            ["bill"],
            ["bills.id"],
        ),
        sa.ForeignKeyConstraint(
            ["posting"],
            ["postings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ledger_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_lines_posting"), ["posting"], unique=False)
    _ledger_guards()


APPEND_ONLY = ("postings", "ledger_lines")

PG_BALANCED = """
CREATE FUNCTION sanbuting_posting_balanced() RETURNS trigger AS $$
DECLARE total bigint;
BEGIN
  SELECT COALESCE(SUM(amount_fen), 0) INTO total FROM ledger_lines WHERE posting = NEW.posting;
  IF total <> 0 THEN
    RAISE EXCEPTION 'posting % is not balanced: its lines sum to % fen', NEW.posting, total;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER ledger_lines_balanced AFTER INSERT ON ledger_lines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sanbuting_posting_balanced();
CREATE FUNCTION sanbuting_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: correct it with a reversing posting', TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
"""


def _ledger_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_BALANCED)
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION sanbuting_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for change in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{change.lower()} BEFORE {change} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: correct it with a "
                "reversing posting'); END"
            )


def _drop_ledger_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS ledger_lines_balanced ON ledger_lines")
        op.execute("DROP FUNCTION IF EXISTS sanbuting_posting_balanced()")
        op.execute("DROP FUNCTION IF EXISTS sanbuting_append_only()")
        return
    for table in APPEND_ONLY:
        for change in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{change}")


def downgrade() -> None:
    _drop_ledger_guards()
    with op.batch_alter_table("ledger_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_lines_posting"))

    op.drop_table("ledger_lines")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_account"))

    op.drop_table("postings")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_account"))

    op.drop_table("payments")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_account"))

    op.drop_table("outbox")
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bills_account"))

    op.drop_table("bills")
    op.drop_table("accounts")
    op.drop_table("companies")
