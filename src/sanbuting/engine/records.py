"""The engine's records: one account's inputs, and the rows it writes.

Inputs are frozen dataclasses built from the contract's frames; outputs are the rows of the
contract's output files. Money is integer fen; dates are Asia/Shanghai calendar dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date

from sanbuting.domain import AccountState, Action, BillingMode, CustomerClass, Utility
from sanbuting.engine.holds import Relief
from sanbuting.policy.model import AccountFacts


@dataclass(frozen=True, slots=True)
class Bill:
    bill_id: str
    period: str
    issued_on: date
    due_on: date
    amount_fen: int

    @property
    def order(self) -> tuple[date, date, str]:
        """Bills are paid and chased oldest first: by due date, issue date, then id."""
        return (self.due_on, self.issued_on, self.bill_id)


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: str
    paid_on: date
    """The Asia/Shanghai date of `paid_at`: the day whose run first sees the payment."""
    sequence: str
    """Orders payments of one day: the ISO `paid_at` instant in UTC, then the payment id."""
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    utility: Utility
    customer_class: CustomerClass
    region: str
    billing_mode: BillingMode
    tags: frozenset[str]
    state: AccountState
    balance_fen: int
    credit_limit_fen: int
    bills: tuple[Bill, ...] = ()
    payments: tuple[Payment, ...] = ()
    usage: tuple[tuple[date, int], ...] = ()
    holds: tuple[Relief, ...] = ()
    """The account's own relief (docs/account-relief.md), compiled, in file order."""

    @property
    def facts(self) -> AccountFacts:
        return AccountFacts(
            utility=self.utility,
            region=self.region,
            customer_class=self.customer_class,
            billing_mode=self.billing_mode,
            tags=self.tags,
        )


@dataclass(frozen=True, slots=True)
class ActionRow:
    date: dt.date
    account_id: str
    action: Action
    step: str
    bill_id: str = ""
    policy_id: str = ""
    policy_rank: int = -1
    """File order of `policy_id` (ties between rows of one day); not written."""


@dataclass(frozen=True, slots=True)
class ProtectionRow:
    date: dt.date
    account_id: str
    policy_id: str
    kind: str
    prevented_action: Action
    deferred_to: dt.date | None = None


@dataclass(frozen=True, slots=True)
class FeeRow:
    bill_id: str
    account_id: str
    accrued_fen: int
    waived_fen: int
    charged_fen: int
    days: int
    waived_days: int


@dataclass(frozen=True, slots=True)
class StateRow:
    account_id: str
    state: AccountState
    balance_fen: int
    arrears_fen: int


@dataclass(slots=True)
class AccountResult:
    """Everything one account's run produced, plus the figures the summary needs."""

    actions: list[ActionRow] = field(default_factory=list)
    protections: list[ProtectionRow] = field(default_factory=list)
    fees: list[FeeRow] = field(default_factory=list)
    state: StateRow | None = None
    protected_days: int = 0
    protected_arrears_fen: int = 0
