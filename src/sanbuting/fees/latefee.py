"""The late-fee calculator of domain-rules.md §2, in closed form over day ranges.

Accrual runs from the day after the due date through the day of payment, inclusive. A day
accrues on the principal open at the start of that day (a payment lowers the base from the next
day on); never on fees (no compounding). The daily rate may depend on whether the day falls in
a later calendar year than the due date (供電營業規則 Art. 98: 跨年度). Days inside a matching
waiver window accrue nothing and are counted apart. Amounts accumulate exactly in
"fen x parts-per-million" units; each bill's total is rounded half-up to the fen once; the
ruleset's minimum applies to a finalized fee with at least one accruing day.

The range [due+1, through] is cut at every day where something changes (a payment, 1 January,
a waiver window's edge), so the cost is the number of changes, not the number of days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from sanbuting.domain import CustomerClass
from sanbuting.errors import SanbutingError
from sanbuting.policy.model import Window
from sanbuting.rules.schema import Ruleset

UNITS_PER_FEN = 1_000_000
"""Accumulated units are fen x (rate in parts per million)."""

ONE_DAY = timedelta(days=1)


def round_half_up(units: int) -> int:
    """Round non-negative fen x ppm units to whole fen, half up."""
    return (units + UNITS_PER_FEN // 2) // UNITS_PER_FEN


def minimum_applies(rounded_fen: int, days: int, minimum_fen: int, finalized: bool) -> bool:
    """The ruleset's minimum applies to a finalized fee with at least one accruing day."""
    return finalized and days > 0 and rounded_fen < minimum_fen


@dataclass(frozen=True, slots=True)
class Rates:
    """Daily rates of one bill in parts per million, and the ruleset's minimum fee."""

    same_year_ppm: int
    later_year_ppm: int
    minimum_fen: int = 0

    def for_day(self, day: date, due_on: date) -> int:
        return self.later_year_ppm if day.year > due_on.year else self.same_year_ppm


def rates_for(ruleset: Ruleset, customer_class: CustomerClass) -> Rates:
    """The daily rates and minimum a ruleset gives a customer class."""
    rate = ruleset.late_fee.daily_rate_permille[customer_class]
    return Rates(
        same_year_ppm=rate.ppm(later_year=False),
        later_year_ppm=rate.ppm(later_year=True),
        minimum_fen=ruleset.late_fee.minimum_fen,
    )


@dataclass(frozen=True, slots=True)
class FeeSegment:
    """A run of consecutive days with the same base, rate and waiver."""

    first: date
    last: date
    base_fen: int
    rate_ppm: int
    waived: bool
    later_year: bool

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def units(self) -> int:
        return self.base_fen * self.rate_ppm * self.days


@dataclass(frozen=True, slots=True)
class LateFee:
    """One bill's late fee through a given day, with the ranges it was computed from."""

    segments: tuple[FeeSegment, ...]
    finalized: bool
    """True when the principal was paid in full on or before the last day computed."""
    minimum_fen: int

    @property
    def days(self) -> int:
        return sum(s.days for s in self.segments if not s.waived)

    @property
    def waived_days(self) -> int:
        return sum(s.days for s in self.segments if s.waived)

    @property
    def accrued_units(self) -> int:
        return sum(s.units for s in self.segments if not s.waived)

    @property
    def waived_units(self) -> int:
        return sum(s.units for s in self.segments if s.waived)

    @property
    def rounded_fen(self) -> int:
        """The accrued fee rounded half-up once, before any minimum."""
        return round_half_up(self.accrued_units)

    @property
    def minimum_applied(self) -> bool:
        return minimum_applies(self.rounded_fen, self.days, self.minimum_fen, self.finalized)

    @property
    def accrued_fen(self) -> int:
        """The fee through the last day computed (the minimum only once finalized)."""
        return self.minimum_fen if self.minimum_applied else self.rounded_fen

    @property
    def charged_fen(self) -> int:
        """The finalized fee: 0 while the principal is still open."""
        return self.accrued_fen if self.finalized else 0

    @property
    def waived_fen(self) -> int:
        """What the waived days would have accrued, rounded half-up on its own."""
        return round_half_up(self.waived_units)


def _year_starts(first: date, last: date) -> Iterable[date]:
    return (date(year, 1, 1) for year in range(first.year + 1, last.year + 1))


def compute_late_fee(
    *,
    amount_fen: int,
    due_on: date,
    through: date,
    rates: Rates,
    principal_payments: Sequence[tuple[date, int]] = (),
    waivers: Sequence[Window] = (),
) -> LateFee:
    """The late fee of a bill of `amount_fen` due on `due_on`, computed through `through`.

    `principal_payments` are (day, fen) paid against this bill's principal; the fee is
    finalized on the day they reach the amount. `waivers` are the windows of every waiver
    policy matching this bill (overlaps add nothing: a day is waived if any window covers it).
    """
    if amount_fen <= 0:
        raise SanbutingError(f"a bill amount must be > 0 fen, not {amount_fen}")
    payments = sorted(principal_payments)
    if sum(fen for _, fen in payments) > amount_fen:
        raise SanbutingError("payments against a bill's principal exceed its amount")
    first = due_on + ONE_DAY
    paid_off = _paid_off_day(amount_fen, payments)
    finalized = paid_off is not None and paid_off <= through
    last = through if paid_off is None or paid_off > through else paid_off
    if last < first:
        return LateFee(
            (),
            finalized=finalized,
            minimum_fen=rates.minimum_fen,
        )
    # Every day on which the base, the rate or the waiver may change starts a new segment.
    cuts = {first, last + ONE_DAY}
    cuts.update(day + ONE_DAY for day, _ in payments)
    cuts.update(_year_starts(first, last))
    for window in waivers:
        cuts.update((window.start, window.end))
    edges = sorted(day for day in cuts if first <= day <= last + ONE_DAY)
    segments: list[FeeSegment] = []
    for start, stop in pairwise(edges):
        base = amount_fen - sum(fen for day, fen in payments if day < start)
        segment = FeeSegment(
            first=start,
            last=stop - ONE_DAY,
            base_fen=base,
            rate_ppm=rates.for_day(start, due_on),
            waived=any(window.covers(start) for window in waivers),
            later_year=start.year > due_on.year,
        )
        if segments and _same_terms(segments[-1], segment):
            segment = FeeSegment(
                segments[-1].first,
                segment.last,
                base,
                segment.rate_ppm,
                segment.waived,
                segment.later_year,
            )
            segments[-1] = segment
        else:
            segments.append(segment)
    return LateFee(
        tuple(segments),
        finalized=finalized,
        minimum_fen=rates.minimum_fen,
    )


def _paid_off_day(amount_fen: int, payments: Sequence[tuple[date, int]]) -> date | None:
    paid = 0
    for day, fen in payments:
        paid += fen
        if paid >= amount_fen:
            return day
    return None


def _same_terms(left: FeeSegment, right: FeeSegment) -> bool:
    return (left.base_fen, left.rate_ppm, left.waived, left.later_year) == (
        right.base_fen,
        right.rate_ppm,
        right.waived,
        right.later_year,
    )
