"""The API's request and response bodies: Pydantic models whose every field is bounded, so the
OpenAPI document says exactly what goes in and comes out. Money is integer fen; days are
Asia/Shanghai dates; times are UTC; phone numbers and names are masked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from sanbuting.io.ids import ID_MAX_LENGTH, ID_PATTERN
from sanbuting.web.types import Code, Fen, LongText, Phone, Region, ShortText

# Aliases web/types.py does not have (kept here; the lead may move them there).
AccountNumber = Annotated[
    str, Field(pattern=ID_PATTERN, max_length=ID_MAX_LENGTH, description="户号, or a bill's id")
]
Username = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Staff sign-in.")]
Password = Annotated[str, Field(min_length=1, max_length=200)]
Channel = Annotated[
    str, Field(pattern=r"^[a-z0-9_-]{1,32}$", description="Where the money came from.")
]
BusinessCode = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="A business type of the catalogue.")
]
CompanyCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="公司")]
FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
FieldValue = Annotated[str, Field(max_length=2000)]
DocumentCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
SearchText = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z_.:-]+$",
        description="An account number's beginning, or a whole phone number.",
    ),
]
Status = Literal["submitted", "accepted", "in_progress", "completed", "rejected", "cancelled"]
StatusFilter = Annotated[
    Literal["open", "submitted", "accepted", "in_progress", "completed", "rejected", "cancelled"]
    | None,
    Query(description="Only applications in this status (open: not closed yet)."),
]
Signed = Annotated[int, Field(ge=-(10**15), le=10**15, description="Fen, signed.")]
Amount = Annotated[int, Field(ge=0, le=10**15, description="Fen, not negative.")]
Count = Annotated[int, Field(ge=0, le=10**12)]
Name = Annotated[str, Field(max_length=200)]
Key = Annotated[str, Field(max_length=200)]
Token = Annotated[str, Field(min_length=20, max_length=200)]

T = TypeVar("T")


class Strict(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ProblemItem(BaseModel):
    loc: list[Annotated[str, Field(max_length=200)]] = Field(max_length=50)
    msg: LongText


class Problem(BaseModel):
    """RFC 9457 problem details: every error the API returns."""

    type: Annotated[str, Field(max_length=200)] = "about:blank"
    title: Name
    status: Annotated[int, Field(ge=400, le=599)]
    detail: Annotated[str, Field(max_length=100_000)]
    errors: list[ProblemItem] | None = Field(default=None, max_length=1000)


class Paged(BaseModel, Generic[T]):
    """One page of a list, with the total number of rows."""

    items: list[T] = Field(max_length=200)
    page: Annotated[int, Field(ge=1, le=100_000)]
    size: Annotated[int, Field(ge=1, le=200)]
    total: Count


# auth


class CodeRequest(Strict):
    phone: Phone


class CodeSent(BaseModel):
    phone: Annotated[str, Field(max_length=32, description="Masked.")]
    expires_in: Annotated[int, Field(ge=0, le=86_400, description="Seconds.")]


class VerifyRequest(Strict):
    phone: Phone
    code: Code


class StaffSignIn(Strict):
    username: Username
    password: Password


class TokenOut(BaseModel):
    token: Token
    token_type: Literal["bearer"] = "bearer"
    expires_in: Annotated[int, Field(ge=0, le=86_400, description="Idle seconds.")]


class StaffTokenOut(TokenOut):
    role: Literal[
        "agent",
        "supervisor",
        "policy_admin",
        "regulator",
        "cashier",
        "policy_authority",
        "deployment_regulator",
    ]
    company: Name = Field(
        description="The member's company (a deployment regulator's: where it was added)."
    )


# accounts


class AccountOut(BaseModel):
    account_id: AccountNumber
    company: Name
    utility: Annotated[str, Field(max_length=16)]
    region: Annotated[str, Field(max_length=6)]
    customer_class: Annotated[str, Field(max_length=32)]
    billing_mode: Annotated[str, Field(max_length=16)]


class AccountList(BaseModel):
    items: list[AccountOut] = Field(max_length=1000)


class BindRequest(Strict):
    """An account's region, number, holder's name and latest bill amount (a prepaid meter:
    its latest top-up): all must match."""

    region: Region
    account_id: AccountNumber
    holder_name: ShortText
    last_bill_fen: Fen


class PositionOut(AccountOut):
    """Where an account stands on `as_of`: its state, arrears and balance."""

    as_of: date
    state: Annotated[str, Field(max_length=16)]
    cut_off: bool
    arrears_fen: Amount
    balance_fen: Signed = Field(description="Money held for the customer (credit); negative: owed.")
    due_fen: Amount = Field(description="What to pay today to owe nothing.")
    holder: Name = Field(description="The holder's name, masked.")
    phone: Annotated[str, Field(max_length=32)] = Field(description="Masked.")


# bills


class BillOut(BaseModel):
    """A bill on `as_of`: its open principal and its late fee, told day range by day range."""

    bill_id: AccountNumber
    period: Annotated[str, Field(max_length=7)]
    issued_on: date
    due_on: date
    amount_fen: Amount
    open_fen: Amount = Field(description="Principal not paid yet.")
    fee_fen: Amount = Field(description="The late fee: final once paid, else accrued so far.")
    fee_due_fen: Amount = Field(description="The fee to pay if the bill is paid in full today.")
    due_fen: Amount = Field(description="What clears the bill today.")
    waived_fen: Amount = Field(description="What relief waived of the fee.")
    fee_days: Count
    waived_days: Count
    finalized: bool
    overdue: bool
    explain_zh: list[LongText] = Field(max_length=1000)
    explain_en: list[LongText] = Field(max_length=1000)


class BillPage(Paged[BillOut]):
    as_of: date


# ledger


class LineOut(BaseModel):
    book: Annotated[str, Field(max_length=32)]
    amount_fen: Signed
    bill_id: AccountNumber | None


class PostingOut(BaseModel):
    key: Key
    kind: Annotated[str, Field(max_length=32)]
    effective_on: date
    created_at: datetime
    reverses: Key | None
    lines: list[LineOut] = Field(max_length=1000)


# payments


class PaymentRequest(Strict):
    """A payment a channel or a cashier posts. The channel label comes from the credential;
    `channel` may only pick among its labels. `paid_at`, for a bank or agent reporting when
    the customer paid (within the last 90 days): a cashier's payment is dated now."""

    amount_fen: Fen
    channel: Channel | None = None
    paid_at: datetime | None = None


class PartOut(BaseModel):
    bill_id: AccountNumber
    principal_fen: Amount
    fee_fen: Amount


class PaymentOut(BaseModel):
    """What a payment did: its allocation and the arrears before and after."""

    key: Key
    account_id: AccountNumber
    company: Name
    amount_fen: Amount
    paid_on: date
    parts: list[PartOut] = Field(max_length=1000)
    credit_fen: Signed
    arrears_before_fen: Amount
    arrears_after_fen: Amount
    reconnect_queued: bool
    repeated: bool


class BatchItem(Strict):
    """One payment of a batch: its key (the bank's own), account, amount and, optionally,
    when it was paid and the label (among the credential's)."""

    key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{8,128}$")]
    account_id: AccountNumber
    amount_fen: Fen
    paid_at: datetime | None = None
    channel: Channel | None = None


class BatchRequest(Strict):
    payments: list[BatchItem] = Field(min_length=1, max_length=1000)


class BatchResult(BaseModel):
    key: Annotated[str, Field(max_length=128)]
    status: Literal["posted", "repeated", "refused"]
    detail: Annotated[str, Field(max_length=2000)] = ""
    payment: PaymentOut | None = None


class BatchOut(BaseModel):
    results: list[BatchResult] = Field(max_length=1000)


class CheckoutRequest(Strict):
    """A customer's online payment: an order with the payment provider."""

    amount_fen: Fen


class CheckoutOut(BaseModel):
    """An order with the payment provider: where to send the buyer, and its state."""

    order: Annotated[str, Field(max_length=40)]
    account_id: AccountNumber
    amount_fen: Amount
    status: Literal["created", "confirmed", "paid", "cancelled"]
    checkout_url: Annotated[str, Field(max_length=200)]
    payment: PaymentOut | None = None


# relief


class ProtectionOut(BaseModel):
    """A relief policy covering the account, now (`active`) or later."""

    policy_id: Name
    kind: Literal["exempt", "defer", "waive_late_fee", "emergency_credit"]
    title: LongText
    start: date
    end: date = Field(description="The last day covered (inclusive).")
    active: bool
    zh: LongText
    en: LongText


class ReliefOut(BaseModel):
    as_of: date
    protections: list[ProtectionOut] = Field(max_length=10_000)


# policies


class ScopeOut(BaseModel):
    utility: list[Name] | None = Field(default=None, max_length=100)
    region: list[Name] | None = Field(default=None, max_length=10_000)
    customer_class: list[Name] | None = Field(default=None, max_length=100)
    tags: list[Name] | None = Field(default=None, max_length=1000)
    billing_mode: list[Name] | None = Field(default=None, max_length=100)


class PolicyOut(BaseModel):
    id: Name
    title: LongText
    effect: Literal["exempt", "defer", "waive_late_fee", "emergency_credit"]
    start: date
    end: date = Field(description="Excluded: the first day not covered.")
    scope: ScopeOut
    terms: dict[Name, LongText] = Field(max_length=20)


class PolicyVersionOut(BaseModel):
    version: Count
    scope: Literal["deployment", "company"] = Field(
        description="The deployment-wide set (every company) or the company's own."
    )
    file_name: Name
    sha256: Annotated[str, Field(max_length=64)]
    policies: Count
    activated_by: Name
    activated_at: datetime


class PoliciesOut(BaseModel):
    """The policies in force for the caller's company: the deployment-wide set's, then the
    company's own, and the versions of both scopes."""

    active_version: Count | None = Field(description="The company's own set in force.")
    deployment_version: Count | None = Field(description="The deployment-wide set in force.")
    active: list[PolicyOut] = Field(max_length=10_000)
    versions: list[PolicyVersionOut] = Field(max_length=10_000)


# figures


class PolicyFigure(BaseModel):
    policy_id: Name
    kind: Annotated[str, Field(max_length=16)]
    events: Count = Field(description="人次")
    accounts: Count = Field(description="户")


class FiguresOut(BaseModel):
    """The regulator's figures of one company over the days its daily run decided."""

    company: Name
    utility: Annotated[str, Field(max_length=16)]
    first_day: date | None
    last_day: date | None
    days_run: Count
    accounts: Count
    events: Count = Field(description="人次, all policies")
    protected_accounts: Count = Field(description="户, all policies")
    protected_arrears_fen: Amount
    waived_fen: Amount
    by_policy: list[PolicyFigure] = Field(max_length=10_000)
    actions: dict[Annotated[str, Field(max_length=16)], Count] = Field(max_length=50)


# staff


class StaffAccountOut(AccountOut):
    state: Annotated[str, Field(max_length=16)]
    holder: Name
    phone: Annotated[str, Field(max_length=32)]
