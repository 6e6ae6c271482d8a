"""The online channel's tables: customers who sign in with a one-time code, the accounts they
bound, staff with roles and their teams, sessions, the audit log of staff actions, online
business applications and service tickets with their status history and SLA clock, the
sandbox payment provider's checkout orders, and field work orders.

Times are stored in UTC. Secrets are never stored: codes, passwords and session tokens are
kept as hashes.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sanbuting.store.models import Base

STAFF_ROLES = (
    "agent",
    "supervisor",
    "policy_admin",
    "regulator",
    "cashier",
    "policy_authority",
    "deployment_regulator",
)
"""Every staff role (`staff.service` says what each may do)."""


class Customer(Base):
    """A person who signs in by phone number."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginCode(Base):
    """A one-time sign-in code sent by SMS: its hash, expiry, tries, and when it was used; the
    address that asked for it and the number's prefix (号段), which sending is limited by."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    prefix: Mapped[str | None] = mapped_column(String(8), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Binding(Base):
    """An account a customer proved to be theirs (region, account number, holder's name)."""

    __tablename__ = "bindings"
    __table_args__ = (UniqueConstraint("customer_id", "account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Holder(Base):
    """The account holder's name, checked when a customer binds the account (not part of the
    input contract: a utility loads it, the demo generates it)."""

    __tablename__ = "holders"

    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Staff(Base):
    """A member of staff of one company, with one role. A deployment regulator's company is
    only where it was added (its audit entries are kept there): it reads every company's
    figures and nothing else (`staff.service.readable_companies`)."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint(f"role IN ({', '.join(repr(r) for r in STAFF_ROLES)})", name="staff_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WebSession(Base):
    """A signed-in browser or API client: the hash of its token, whose it is, its CSRF token,
    and when it was last used (sessions expire when idle)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One action on a company's data: who (a member of staff, or `actor` for an operator at
    the command line), what, on what, when (append-only)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100), default="")
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Team(Base):
    """A team of one company's staff (e.g. a repair crew's dispatch desk) that tickets are
    assigned to; its leads see its escalated tickets (`staff.teams`)."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))


class TeamMember(Base):
    """A member of staff in a team (one team each), and whether they lead it."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), unique=True)
    lead: Mapped[bool] = mapped_column(Boolean, default=False)


class Application(Base):
    """An online business application (业务办理) or a service ticket (报修, 投诉), with its SLA
    clock: the promise (`promised_by`) and the escalation moment (`escalate_at`) set at
    submission, and when its promised milestone was reached (`clock_stopped_at`)."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    account: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    business: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text, default="{}")
    documents: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=3)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    """The member of staff working it (who may reveal the contact phone, audited)."""
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    """The team working it (its leads see it when it is escalated)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    promised_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    area: Mapped[str | None] = mapped_column(String(8))
    """The account's area class at submission (city, county, rural; `applications.clock`)."""
    escalate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When 80 % of the promised time has passed: from then, open and not stopped, escalated."""
    clock_stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the promised milestone (arrival on site, or completion) was reached."""


class ApplicationEvent(Base):
    """A step in an application's history: its new status, a note, and who."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CheckoutOrder(Base):
    """A payment started online with the sandbox provider: paid once, whatever order its
    redirect and (repeated) notifications arrive in; `payment_key` is the idempotency key the
    payment is posted under. `card_written_at` confirms an IC-card gas top-up (圈存)."""

    __tablename__ = "checkout_orders"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="checkout_amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    payment_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    card_written_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PolicyTrial(Base):
    """A what-if the server computed for the exact bytes of an uploaded policy set, for one
    company (or the whole deployment, `company_id` None), on the sets then in force
    (`based_on`); activation takes a trial, never a file sent again."""

    __tablename__ = "policy_trials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    file_name: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    based_on: Mapped[str] = mapped_column(String(200))
    figures: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    activated_version: Mapped[int | None] = mapped_column(Integer)


class PolicyTrialChange(Base):
    """One account's day whose actions a what-if changes (`whatif.accounts`): the actions with
    the sets in force (`before`) and with the uploaded set (`after`), `+`-joined (empty:
    none), and the policy ids that made the difference, kept with the trial for its export."""

    __tablename__ = "policy_trial_changes"
    __table_args__ = (Index("ix_policy_trial_changes_trial", "trial_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("policy_trials.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    account_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    before: Mapped[str] = mapped_column(String(200))
    after: Mapped[str] = mapped_column(String(200))
    policies: Mapped[str] = mapped_column(String(500))


class SignInThrottle(Base):
    """Failed sign-ins counted under one key (a username at an address, an address, a
    username from unknown addresses) and the time before which that key may not try again.
    Kept in the database: shared by every worker, kept across restarts."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffAddress(Base):
    """An address a member of staff signed in from: attacks on a username from elsewhere
    never lock its owner out from here."""

    __tablename__ = "staff_addresses"
    __table_args__ = (UniqueConstraint("staff_id", "ip"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChannelCredential(Base):
    """A bank's or collection agent's API key (kept as a hash) for posting payments to one
    company's accounts, with the channel labels it may use and its largest payment."""

    __tablename__ = "channel_credentials"
    __table_args__ = (
        CheckConstraint("kind IN ('bank', 'agent')", name="channel_kind"),
        CheckConstraint("max_amount_fen > 0", name="channel_limit_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channels: Mapped[str] = mapped_column(String(200))
    """The channel labels it may post under, `,`-separated; the first is its default."""
    max_amount_fen: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


FIELD_STATUSES = ("open", "assigned", "done", "not_done", "paid_at_door")
"""A field work order's status: waiting for a crew; handed to a crew; carried out; not carried
out (with a reason code); the customer paid at the door (a claim for a cashier to post)."""


class FieldOrder(Base):
    """A field work order (`field`): a cut-off, reconnection or meter-closing order the
    dispatcher sent to the field, with the service address, the arrears when it was sent, its
    deadline and where that comes from, the crew (a team) working it, and the field's feedback
    (who reported what, when). Paid at the door records the amount claimed, never a payment."""

    __tablename__ = "field_orders"
    __table_args__ = (
        UniqueConstraint("outbox_id"),
        CheckConstraint("arrears_fen >= 0", name="field_arrears_not_negative"),
        CheckConstraint("paid_fen IS NULL OR paid_fen > 0", name="field_paid_positive"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in FIELD_STATUSES)})", name="field_status"
        ),
        Index("ix_field_orders_company_status", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """`cut_off`, `reconnect` or `meter_close`."""
    action: Mapped[str] = mapped_column(String(16))
    """The outbox order's action (disconnect, suspend, reconnect)."""
    day: Mapped[date] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200))
    arrears_fen: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline_source: Mapped[str] = mapped_column(String(300))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    paid_fen: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


ADJUSTMENT_KINDS = ("waive_fee", "write_off")
ADJUSTMENT_STATUSES = ("pending", "approved", "rejected")


class FeeAdjustment(Base):
    """A manual late-fee waiver or write-off (`desk.adjustments`): asked by one staff member,
    approved or rejected by another supervisor (four eyes, held by the database too), with
    the amount seen when asked, the reason and notes, and what the approval made (`made`: the
    waiver's hold id, the write-off's payment key)."""

    __tablename__ = "fee_adjustments"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint("amount_fen > 0", name="adjustment_amount_positive"),
        CheckConstraint(
            f"kind IN ({', '.join(repr(k) for k in ADJUSTMENT_KINDS)})", name="adjustment_kind"
        ),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in ADJUSTMENT_STATUSES)})",
            name="adjustment_status",
        ),
        CheckConstraint(
            "decided_by IS NULL OR decided_by <> requested_by", name="adjustment_four_eyes"
        ),
        Index("ix_fee_adjustments_company_status", "company_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    number: Mapped[str] = mapped_column(String(32))
    account: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    until_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(200), default="")
    made: Mapped[str | None] = mapped_column(String(140))
