"""Typed money events a run emits for the ledger to book (`ledger.entries`): what happened to
the customer's money, as data, not the narration of `engine.story`.

A prepaid account's day: its top-ups (in the order they were paid), then its usage while the
meter is on. A postpaid account's day (`engine.billbook.BillBook.money_day`): each bill issued
(`Charged`, with the credit on hand applied to it, and `FeeFinalized` when that paid it), then
each payment, oldest bill first (`FeeFinalized` for each bill whose principal it closed, then
`Paid` with its parts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sanbuting.engine.records import Bill


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


@dataclass(frozen=True, slots=True)
class Charged:
    """A bill issued: its principal charged, and `applied_fen` of it paid from credit on hand."""

    day: date
    bill: Bill
    applied_fen: int

    @property
    def open_fen(self) -> int:
        """The principal left open after the credit."""
        return self.bill.amount_fen - self.applied_fen


@dataclass(frozen=True, slots=True)
class FeeFinalized:
    """A bill's principal reached 0: its late fee is charged (`charged_fen`, 0 when none
    accrued) and what relief waived of it is known (`waived_fen`)."""

    day: date
    bill_id: str
    charged_fen: int
    waived_fen: int


@dataclass(frozen=True, slots=True)
class Paid:
    """A payment allocated: (bill id, to principal, to fee) parts, oldest bill first, and the
    rest kept as credit."""

    day: date
    payment_id: str
    amount_fen: int
    parts: tuple[tuple[str, int, int], ...]
    credit_fen: int


BillEvent = Charged | FeeFinalized | Paid
