"""Typed money events a run emits for the ledger to book (`ledger.entries`): what happened to
the customer's money, as data, not the narration of `engine.story`.

A prepaid account's day: its top-ups (in the order they were paid), then its usage while the
meter is on. (A postpaid account's money is the bill book's: `engine.billbook`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class TopUp:
    """A prepaid payment credited to the balance."""

    day: date
    amount_fen: int


@dataclass(frozen=True, slots=True)
class UsageCharged:
    """A day's usage taken from the balance (only while the meter is on)."""

    day: date
    amount_fen: int


MoneyEvent = TopUp | UsageCharged
