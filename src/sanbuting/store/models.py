"""The store's tables as typed SQLAlchemy models.

Several utilities (companies) share one deployment; every row belongs to one. Money is integer
fen (BIGINT). The ledger is append-only double entry: a `Posting` (a bill charged, a payment, a
late fee, a waiver, a reversal, a top-up, usage) has `LedgerLine`s whose amounts sum to zero
(checked by a deferred trigger on PostgreSQL, by the posting service on SQLite); nothing is
updated or deleted, a correction is a reversing posting. Payments carry the client's
idempotency key, unique per company. Side effects wait in the `OutboxItem` table, written in
the same transaction as the decision that caused them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Company(Base):
    """A utility running in this deployment, with the ruleset its accounts follow."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    utility: Mapped[str] = mapped_column(String(16))
    ruleset: Mapped[str] = mapped_column(String(200))
    origin: Mapped[date | None] = mapped_column(Date)
    """The day the imported states and balances are as of: the first day the daily run
    decides."""
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    """Enforcement orders of a recorded day wait (`HELD`) until a supervisor releases them."""
    group: Mapped[str | None] = mapped_column("group_name", String(100), default=None)
    """The corporate group (国家电网, 中国电信, 华润燃气, ...) the reports roll up by; None
    until named (`db import --group`)."""
    hotline: Mapped[str | None] = mapped_column(String(20), default=None)
    """The customer hotline its text messages name (95598, 10000, ...); None: the default of
    its group or utility (`sms.templates.hotline_of`)."""


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("company_id", "account_id"),
        CheckConstraint("credit_limit_fen >= 0", name="credit_limit_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    account_id: Mapped[str] = mapped_column(String(64))
    utility: Mapped[str] = mapped_column(String(16))
    customer_class: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(6))
    billing_mode: Mapped[str] = mapped_column(String(16))
    tags: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(16))
    credit_limit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    phone: Mapped[str | None] = mapped_column(String(32))
    opening_balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    """The input's `balance_fen`: the prepaid balance (or postpaid credit) on the origin day."""
    booked_through: Mapped[date | None] = mapped_column(Date)
    """The last day whose money is in the ledger (`ledger.booking`)."""


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("company_id", "bill_id"),
        CheckConstraint("amount_fen > 0", name="bill_amount_positive"),
        Index("ix_bills_issued_on_company", "company_id", "issued_on"),
        Index("ix_bills_account_issued_on", "account", "issued_on"),
        CheckConstraint("due_on >= issued_on", name="due_not_before_issue"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    bill_id: Mapped[str] = mapped_column(String(64))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    period: Mapped[str] = mapped_column(String(7))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    """A payment as received: `key` is the idempotency key, `content` a digest of what was
    asked (a repeat with the same key and other content is refused). An imported payment's key
    is its `payment_id`, unique in its company; a payment posted by the service (`posted`) has
    a key named by who posted it (`payments.service`), unique in the whole deployment, so that
    one key is one payment whichever company's account it names."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("company_id", "key"),
        CheckConstraint("amount_fen > 0", name="payment_amount_positive"),
        Index("ix_payments_paid_at_company", "company_id", "paid_at"),
        Index("ix_payments_account_paid_at", "account", "paid_at"),
        Index(
            "uq_payments_posted_key",
            "key",
            unique=True,
            sqlite_where=text("posted = 1"),
            postgresql_where=text("posted"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    key: Mapped[str] = mapped_column(String(128))
    content: Mapped[str] = mapped_column(String(64))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str | None] = mapped_column(String(32))
    posted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Posted through the service (a channel, a cashier, a provider), not imported."""
    result: Mapped[str | None] = mapped_column(Text)
    """The first result of posting it (JSON), returned again for a repeat of its key."""


class Posting(Base):
    """One ledger event; its lines sum to zero. `reverses` names the posting it corrects."""

    __tablename__ = "postings"
    __table_args__ = (
        UniqueConstraint("company_id", "key"),
        Index("ix_postings_account_effective_on", "account", "effective_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(32))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    effective_on: Mapped[date] = mapped_column(Date)
    reverses: Mapped[int | None] = mapped_column(ForeignKey("postings.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerLine(Base):
    """One leg of a posting: a non-zero signed amount on a book (receivable, cash, fees,
    credit, waived, usage)."""

    __tablename__ = "ledger_lines"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="line_amount_not_zero"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    posting: Mapped[int] = mapped_column(ForeignKey("postings.id"), index=True)
    book: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bill: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))


PENDING, DONE, CANCELLED, DEAD, HELD = "pending", "done", "cancelled", "dead", "held"
"""An outbox row's status: waiting to be sent; sent; found no longer to apply (the account
paid); given up after its attempts; decided but waiting for a supervisor's release (a company
that requires approval of its enforcement orders)."""


class OutboxItem(Base):
    """A side effect (a notice, a cut-off or reconnection order, an SMS) to send; `key` lets a
    receiver deduplicate and keeps the same order from being queued twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    account: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    day: Mapped[date | None] = mapped_column(Date)
    """The day the order was decided for (re-checked against the account when dispatched)."""
    last_error: Mapped[str | None] = mapped_column(Text)


class PolicyVersion(Base):
    """A relief-policy set as activated: the file's text, its hash, who activated it and when.
    Versions are only added. A set belongs to one company (`company_id`) or to the whole
    deployment (None: a government's or regulator's announcement); a company's policies are
    the latest deployment-wide set followed by its own latest set (`store.policy_versions`;
    activated by `jobs.activation`)."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    policies: Mapped[int] = mapped_column(Integer)
    activated_by: Mapped[str] = mapped_column(String(200))
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Run(Base):
    """One daily run of one company: the day decided and the policy version it used."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("company_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    day: Mapped[date] = mapped_column(Date)
    policy_version: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    """The deployment-wide set in force (None: none)."""
    company_policy_version: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    """The company's own set in force (None: none)."""
    engine: Mapped[str] = mapped_column(String(16))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoredAction(Base):
    """A row of a run's `actions.csv`."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(32))
    bill_id: Mapped[str] = mapped_column(String(64), default="")
    policy_id: Mapped[str] = mapped_column(String(64), default="")


class ProtectionEvent(Base):
    """A row of a run's `protections.csv`: one 人次."""

    __tablename__ = "protection_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    policy_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    prevented_action: Mapped[str] = mapped_column(String(16))
    deferred_to: Mapped[date | None] = mapped_column(Date)


class Checkpoint(Base):
    """The engine's state after a recorded day (`engine.fast.checkpoint`), as two Arrow IPC
    tables: the next day resumes from it instead of the origin (`store.checkpoints`)."""

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("company_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    day: Mapped[date] = mapped_column(Date)
    run: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    accounts: Mapped[bytes] = mapped_column(LargeBinary)
    bills: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    marks_through: Mapped[int] = mapped_column(Integer, default=0)
    """The company's last dirty mark when this was saved: later marks of a day on or before
    this checkpoint's make it stale for their accounts."""


class CheckpointDirty(Base):
    """An account whose rows dated on or before a checkpoint's day changed after it was made
    (a back-dated payment, an import): the next run derives it again."""

    __tablename__ = "checkpoint_dirty"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(64))
    since: Mapped[date] = mapped_column(Date)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    """Derived again by a run; kept while an older checkpoint may still need to know."""


class OpenBookRow(Base):
    """A postpaid account's credit on hand at the end of `as_of`, with its open items
    (`ledger.open_items`): where its next payment starts instead of its history."""

    __tablename__ = "open_books"

    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    credit_fen: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(64))


class OpenItemRow(Base):
    """One open bill of an open book: its principal, fee units and days, finalized fee."""

    __tablename__ = "open_items"

    account: Mapped[int] = mapped_column(ForeignKey("open_books.account"), primary_key=True)
    bill: Mapped[int] = mapped_column(ForeignKey("bills.id"), primary_key=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    accrued_units: Mapped[int] = mapped_column(BigInteger)
    waived_units: Mapped[int] = mapped_column(BigInteger)
    days: Mapped[int] = mapped_column(Integer)
    waived_days: Mapped[int] = mapped_column(Integer)
    charged_fen: Mapped[int | None] = mapped_column(BigInteger)
    fee_paid_fen: Mapped[int] = mapped_column(BigInteger)


class Usage(Base):
    """A prepaid account's consumption on one day."""

    __tablename__ = "usage"
    __table_args__ = (
        UniqueConstraint("account", "day"),
        CheckConstraint("amount_fen >= 0", name="usage_amount_not_negative"),
        Index("ix_usage_day_company", "company_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    day: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class ImportedFile(Base):
    """An input file `db import` read: its name and hash (the export's `inputs`), rows read,
    rows added (0 when imported before) and rows rejected."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    rejects: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountHold(Base):
    """A lock, promise to pay or instalment plan the collections desk set on one account
    (docs/account-relief.md): the `holds` input's row, who set it and when, and, for a lock
    lifted early, the day from which it acts no more."""

    __tablename__ = "account_holds"
    __table_args__ = (
        UniqueConstraint("company_id", "hold_id"),
        Index("ix_account_holds_account", "account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    hold_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    start_on: Mapped[date] = mapped_column(Date)
    until_on: Mapped[date | None] = mapped_column(Date)
    steps: Mapped[str] = mapped_column(String(8), default="all")
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    instalments: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
