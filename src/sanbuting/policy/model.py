"""Relief policies as closed, immutable records: one class per effect, all sharing a scope and
a window. The loader (`policy.loader`) builds them from YAML; the engine and the fee calculator
only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sanbuting.domain import BillingMode, CustomerClass, Utility
from sanbuting.regions import matches as region_matches


class Effect(StrEnum):
    EXEMPT = "exempt"
    DEFER = "defer"
    WAIVE_LATE_FEE = "waive_late_fee"
    EMERGENCY_CREDIT = "emergency_credit"


@dataclass(frozen=True, slots=True)
class Window:
    """`[start, end)` in Asia/Shanghai dates: `start` included, `end` excluded."""

    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day < self.end


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What a scope looks at: the account's utility, region, class, tags and billing mode."""

    utility: Utility
    region: str
    customer_class: CustomerClass
    billing_mode: BillingMode
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Scope:
    """Every key given must match (AND); a list matches any of its items (OR); None = any."""

    utility: tuple[Utility, ...] | None = None
    region: tuple[str, ...] | None = None
    customer_class: tuple[CustomerClass, ...] | None = None
    tags: tuple[str, ...] | None = None
    billing_mode: tuple[BillingMode, ...] | None = None

    def matches(self, account: AccountFacts) -> bool:
        return (
            (self.utility is None or account.utility in self.utility)
            and (self.region is None or region_matches(account.region, self.region))
            and (self.customer_class is None or account.customer_class in self.customer_class)
            and (self.tags is None or not account.tags.isdisjoint(self.tags))
            and (self.billing_mode is None or account.billing_mode in self.billing_mode)
        )


@dataclass(frozen=True, slots=True)
class PolicyBase:
    id: str
    title: str
    scope: Scope
    window: Window
    source: str = ""
    """Where it was read: `file:line` of the policy's first key, for messages."""


@dataclass(frozen=True, slots=True)
class ExemptPolicy(PolicyBase):
    """免停: no enforcement step inside the window."""

    pause_reminders: bool = False
    reconnect: bool = False
    spread_days: int = 0

    effect = Effect.EXEMPT


@dataclass(frozen=True, slots=True)
class DeferPolicy(PolicyBase):
    """緩停: the first enforcement step of an episode falling in the window moves by
    `days` or to `until` (exactly one of them is set)."""

    days: int | None = None
    until: date | None = None

    effect = Effect.DEFER

    def moved_day(self, would_be: date) -> date:
        """Where a step that would fall on `would_be` moves (itself if `until` is not later)."""
        if self.days is not None:
            return date.fromordinal(would_be.toordinal() + self.days)
        assert self.until is not None
        return max(would_be, self.until)


@dataclass(frozen=True, slots=True)
class WaiverPolicy(PolicyBase):
    """Waive late fee: days in the window accrue nothing on the bills it matches, chosen by
    issue month (`issued_in`) or billing period (`period_in`), exactly one of them; None
    matches every bill."""

    issued_in: tuple[str, ...] | None = None
    period_in: tuple[str, ...] | None = None

    effect = Effect.WAIVE_LATE_FEE

    def matches_bill(self, *, issued_on: date, period: str) -> bool:
        if self.issued_in is not None:
            return f"{issued_on.year:04d}-{issued_on.month:02d}" in self.issued_in
        if self.period_in is not None:
            return period in self.period_in
        return True


@dataclass(frozen=True, slots=True)
class CreditPolicy(PolicyBase):
    """Emergency credit: prepaid accounts in scope may go `credit_fen` further below zero."""

    credit_fen: int = 0

    effect = Effect.EMERGENCY_CREDIT


Policy = ExemptPolicy | DeferPolicy | WaiverPolicy | CreditPolicy
"""The closed union of relief policies, in file order wherever a list of them is kept."""
