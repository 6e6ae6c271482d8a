"""The relief policies as one account sees them: which exempt covers a day, which defers may
move a step, how much emergency credit lowers the floor, which waivers a bill gets, and the
保電 and reconnection orders an exempt writes at its edges.

Policies keep their file order (`rank`): among several exempts the first is named; among
defers giving the same day, the first wins.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Generic, TypeVar

from sanbuting.domain import BillingMode, Utility
from sanbuting.engine.records import Account, Bill
from sanbuting.policy.model import (
    CreditPolicy,
    DeferPolicy,
    ExemptPolicy,
    Policy,
    WaiverPolicy,
    Window,
)

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Ranked(Generic[P]):
    policy: P
    rank: int


@dataclass(frozen=True, slots=True)
class ExemptForAccount:
    policy: ExemptPolicy
    rank: int
    until: date
    """The end of the exempt for this account: `end` plus its `resume.spread_days` offset."""

    def covers(self, day: date) -> bool:
        return self.policy.window.start <= day < self.until


def spread_offset(account_id: str, spread_days: int) -> int:
    """Days after `end` at which this account resumes: crc32(account_id as UTF-8) mod N."""
    if spread_days <= 0:
        return 0
    return zlib.crc32(account_id.encode("utf-8")) % spread_days


@dataclass(frozen=True, slots=True)
class AccountRelief:
    """The policies in scope of one account, in file order."""

    exempts: tuple[ExemptForAccount, ...]
    defers: tuple[Ranked[DeferPolicy], ...]
    credits: tuple[Ranked[CreditPolicy], ...]
    waivers: tuple[WaiverPolicy, ...]
    guarantees: bool
    """True for prepaid power: its exempts switch the meter's 保電 on and off."""
    fee_pauses: tuple[tuple[date, Window], ...] = ()
    """A kept instalment plan's (start, days without fees) of the account's own relief
    (`engine.holds`): the bills issued before its start accrue nothing on those days."""

    def for_replay(self) -> AccountRelief:
        """What the replay before `--start` sees: no exempt, defer or credit; waivers still
        apply (late fees accrue from D+1 whatever the start, waived days included)."""
        return replace(self, exempts=(), defers=(), credits=(), guarantees=False)

    def exempt_on(self, day: date) -> ExemptForAccount | None:
        """The exempt that alone acts on `day` (the first in file order), if any."""
        return next((e for e in self.exempts if e.covers(day)), None)

    def reminders_paused(self, day: date) -> bool:
        return any(e.covers(day) and e.policy.pause_reminders for e in self.exempts)

    def defers_on(self, day: date) -> list[Ranked[DeferPolicy]]:
        return [d for d in self.defers if d.policy.window.covers(day)]

    def credit_on(self, day: date) -> Ranked[CreditPolicy] | None:
        """The largest emergency credit covering `day` (credits do not add up)."""
        covering = [c for c in self.credits if c.policy.window.covers(day)]
        return max(covering, key=lambda c: (c.policy.credit_fen, -c.rank), default=None)

    def waiver_windows(self, bill: Bill) -> tuple[Window, ...]:
        """The days a bill accrues no fee: its waivers', then a kept plan's pause."""
        return tuple(
            w.window
            for w in self.waivers
            if w.matches_bill(issued_on=bill.issued_on, period=bill.period)
        ) + tuple(pause for start, pause in self.fee_pauses if bill.issued_on < start)

    def reconnecting_exempt(self, day: date, run_start: date) -> ExemptForAccount | None:
        """The first exempt with `reconnect: true` that restores service on `day`: its
        window's start, or the run's first day when the run begins inside the window."""
        for exempt in self.exempts:
            window = exempt.policy.window
            starts_today = window.start == day or (day == run_start and window.covers(day))
            if exempt.policy.reconnect and starts_today:
                return exempt
        return None

    def guarantee_edges(self, run_start: date, run_end: date) -> list[tuple[date, bool, int, str]]:
        """(day, on?, rank, policy id) of every 保電 switch inside the run."""
        if not self.guarantees:
            return []
        edges = []
        for exempt in self.exempts:
            window = exempt.policy.window
            on_day = max(window.start, run_start)
            if on_day < window.end and on_day <= run_end:
                edges.append((on_day, True, exempt.rank, exempt.policy.id))
            if run_start <= window.end <= run_end:
                edges.append((window.end, False, exempt.rank, exempt.policy.id))
        return edges


def relief_for(account: Account, policies: Sequence[Policy]) -> AccountRelief:
    """Compile the policies in scope of `account` into its relief view."""
    facts = account.facts
    exempts: list[ExemptForAccount] = []
    defers: list[Ranked[DeferPolicy]] = []
    credits: list[Ranked[CreditPolicy]] = []
    waivers: list[WaiverPolicy] = []
    for rank, policy in enumerate(policies):
        if not policy.scope.matches(facts):
            continue
        if isinstance(policy, ExemptPolicy):
            offset = spread_offset(account.account_id, policy.spread_days)
            until = policy.window.end + timedelta(days=offset)
            exempts.append(ExemptForAccount(policy, rank, until))
        elif isinstance(policy, DeferPolicy):
            defers.append(Ranked(policy, rank))
        elif isinstance(policy, CreditPolicy):
            credits.append(Ranked(policy, rank))
        else:
            waivers.append(policy)
    guarantees = account.utility is Utility.POWER and account.billing_mode is BillingMode.PREPAID
    pauses = tuple((h.start, h.fee_pause) for h in account.holds if h.fee_pause is not None)
    return AccountRelief(
        tuple(exempts), tuple(defers), tuple(credits), tuple(waivers), guarantees, pauses
    )
