"""A postpaid account's money, day by day: bills opening, late fees accruing, payments
allocated oldest first, fees finalized, credit carried, arrears derived.

Contract ("Exact semantics"): open bills are ordered by `due_on`, `issued_on`, `bill_id`; a
bill is open from its `issued_on`. A payment pays the oldest bill's principal, then its late
fee, then the next bill; what is left is credit, applied to each new bill on its issue day. A
bill's fee is finalized on the day its principal reaches 0. A day accrues on the principal open
at the start of that day. Arrears = open principal of bills past their due date + finalized
unpaid late fees.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sanbuting.engine.money import BillEvent, Charged, FeeFinalized, Paid
from sanbuting.engine.records import Bill, FeeRow
from sanbuting.fees.latefee import Rates, minimum_applies, round_half_up
from sanbuting.policy.model import Window

ONE_DAY = timedelta(days=1)


@dataclass(slots=True)
class BillAccount:
    """One bill's running account: open principal, fee units, the finalized fee."""

    bill: Bill
    rates: Rates
    waivers: tuple[Window, ...]
    principal: int
    accrued_units: int = 0
    waived_units: int = 0
    days: int = 0
    waived_days: int = 0
    charged: int | None = None
    """The finalized fee, set the day the principal reaches 0."""
    fee_paid: int = 0

    @property
    def fee_owed(self) -> int:
        return 0 if self.charged is None else self.charged - self.fee_paid

    def accrue(self, day: date) -> None:
        """Add day `day` to the fee if the bill is overdue and its principal open."""
        if day <= self.bill.due_on or self.principal == 0:
            return
        rate = self.rates.for_day(day, self.bill.due_on)
        if any(window.covers(day) for window in self.waivers):
            self.waived_units += self.principal * rate
            self.waived_days += 1
        else:
            self.accrued_units += self.principal * rate
            self.days += 1

    def accrued_fen(self, *, finalizing: bool = False) -> int:
        """The fee through today, rounded half-up once; the minimum only once finalized
        (or being finalized now)."""
        rounded = round_half_up(self.accrued_units)
        finalized = finalizing or self.charged is not None
        if minimum_applies(rounded, self.days, self.rates.minimum_fen, finalized):
            return self.rates.minimum_fen
        return rounded

    def pay(self, amount: int) -> int:
        """Pay principal then (once finalized) fee; returns what is left of `amount`."""
        to_principal = min(amount, self.principal)
        self.principal -= to_principal
        amount -= to_principal
        if self.principal == 0 and self.charged is None:
            self.charged = self.accrued_fen(finalizing=True)
        to_fee = min(amount, self.fee_owed)
        self.fee_paid += to_fee
        return amount - to_fee

    def fee_row(self, account_id: str) -> FeeRow:
        accrued = self.accrued_fen()
        return FeeRow(
            bill_id=self.bill.bill_id,
            account_id=account_id,
            accrued_fen=accrued,
            waived_fen=round_half_up(self.waived_units),
            charged_fen=accrued if self.charged is not None else 0,
            days=self.days,
            waived_days=self.waived_days,
        )


class BillBook:
    """All bills of one postpaid account, with its credit on hand."""

    def __init__(self, bills: list[BillAccount], credit: int = 0) -> None:
        self.bills = sorted(bills, key=lambda b: b.bill.order)
        self.credit = credit
        self._to_open = sorted(self.bills, key=lambda b: (b.bill.issued_on, b.bill.order))
        self._open: list[BillAccount] = []
        """Bills issued so far, oldest first (by due date, issue date, id)."""

    @classmethod
    def resumed(
        cls, opened: list[BillAccount], to_issue: list[BillAccount], credit: int
    ) -> BillBook:
        """A book as it stood at the end of a day: `opened` already issued (not paid from
        credit again), `to_issue` issued later."""
        book = cls(to_issue, credit)
        book._open = sorted(opened, key=lambda b: b.bill.order)
        book.bills = sorted([*opened, *to_issue], key=lambda b: b.bill.order)
        return book

    def opened(self, day: date) -> list[BillAccount]:
        """Bills open on `day` (issued on or before it), oldest first. Days are visited in
        order, so this is the list `issue` has built up to `day`."""
        return self._open

    def issue(self, day: date) -> list[BillAccount]:
        """Open the bills issued on `day`, paying them from credit on hand."""
        issued = []
        while self._to_open and self._to_open[0].bill.issued_on <= day:
            bill = self._to_open.pop(0)
            insort(self._open, bill, key=lambda b: b.bill.order)
            self.credit = bill.pay(self.credit)
            issued.append(bill)
        return issued

    def accrue(self, day: date) -> None:
        for bill in self.opened(day):
            bill.accrue(day)

    def pay(self, day: date, amount: int) -> list[tuple[BillAccount, int, int]]:
        """Allocate a payment oldest bill first; returns (bill, to principal, to fee) parts."""
        parts = []
        for bill in self.opened(day):
            if amount == 0:
                break
            principal_before, fee_paid_before = bill.principal, bill.fee_paid
            amount = bill.pay(amount)
            to_principal = principal_before - bill.principal
            to_fee = bill.fee_paid - fee_paid_before
            if to_principal or to_fee:
                parts.append((bill, to_principal, to_fee))
        self.credit += amount
        return parts

    def next_busy(self, day: date) -> date | None:
        """The first day from `day` on whose `money_day` can move the book without a payment:
        a bill is issued, or an open principal is past its due date (a day accrues); None when
        no such day will come. `money_day` of the days before it, without payments, yields
        nothing and changes nothing."""
        found = self._to_open[0].bill.issued_on if self._to_open else None
        for bill in self._open:
            if bill.principal > 0:
                if bill.bill.due_on < day:
                    return day
                accrues = bill.bill.due_on + ONE_DAY
                found = accrues if found is None else min(found, accrues)
        return None if found is None else max(found, day)

    def money_day(self, day: date, payments: Iterable[tuple[str, int]]) -> Iterator[BillEvent]:
        """The money of `day`, as typed events (`engine.money`): the bills issued, the fees
        accrued, then `payments` ((id, amount) in the order they were made). The book moves
        as the events are taken: a caller sees it as it stands after each."""
        for bill in self.issue(day):
            yield Charged(day, bill.bill, bill.bill.amount_fen - bill.principal)
            if bill.charged is not None:
                yield _finalized(bill, day)
        self.accrue(day)
        for payment_id, amount in payments:
            parts = self.pay(day, amount)
            for bill, to_principal, _ in parts:
                if to_principal and bill.principal == 0:  # this payment closed it: finalized
                    yield _finalized(bill, day)
            rest = amount - sum(p + f for _, p, f in parts)
            yield Paid(
                day,
                payment_id,
                amount,
                tuple((b.bill.bill_id, p, f) for b, p, f in parts),
                rest,
            )

    def arrears(self, day: date) -> int:
        """Open principal of bills past their due date plus finalized unpaid fees."""
        return sum(
            (b.principal if b.bill.due_on < day else 0) + b.fee_owed for b in self.opened(day)
        )

    def oldest_open_overdue(self, day: date) -> BillAccount | None:
        """The bill that drives the ladder: the oldest with open principal past its due date."""
        return next((b for b in self.opened(day) if b.principal > 0 and b.bill.due_on < day), None)

    def to_remind(self, day: date, after_due_days: int) -> list[BillAccount]:
        """Bills whose reminder day is `day` and that are still open."""
        return [
            b
            for b in self.opened(day)
            if b.principal > 0 and b.bill.due_on + timedelta(days=after_due_days) == day
        ]


def _finalized(bill: BillAccount, day: date) -> FeeFinalized:
    return FeeFinalized(day, bill.bill.bill_id, bill.charged or 0, round_half_up(bill.waived_units))
