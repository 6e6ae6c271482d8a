"""Postpaid accounts: monthly bills and the payments each account's payer kind makes.

Everything is drawn per bill in flat arrays (one row per account and month), so the cost is a
few numpy passes whatever the number of accounts. Days are integers counted from 1970-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from numpy.typing import NDArray

from sanbuting.domain import CustomerClass
from sanbuting.generate import mix
from sanbuting.generate.population import AccountBlock
from sanbuting.rules import rulesets_by_utility

EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Days from 1970-01-01 to `day` (the integer a Polars `Date` holds)."""
    return (day - EPOCH).days


def month_number(day: date) -> int:
    """Months from year 0: ``year * 12 + month - 1``."""
    return day.year * 12 + day.month - 1


def month_start(months: NDArray[np.int64]) -> NDArray[np.int64]:
    """The day number of the first day of each month number."""
    since_1970 = (months - 1970 * 12).astype("datetime64[M]")
    return since_1970.astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class Payments:
    """Payment rows of one block, not yet numbered: `account` indexes the block's accounts,
    `day` is the local date's day number, `second` the local time of day in seconds."""

    account: NDArray[np.intp]
    day: NDArray[np.int64]
    second: NDArray[np.int64]
    amount_fen: NDArray[np.int64]
    channel: NDArray[np.intp]

    @staticmethod
    def concat(parts: list[Payments]) -> Payments:
        return Payments(
            account=np.concatenate([p.account for p in parts]),
            day=np.concatenate([p.day for p in parts]),
            second=np.concatenate([p.second for p in parts]),
            amount_fen=np.concatenate([p.amount_fen for p in parts]),
            channel=np.concatenate([p.channel for p in parts]),
        )

    def where(self, keep: NDArray[np.bool_]) -> Payments:
        return Payments(
            self.account[keep],
            self.day[keep],
            self.second[keep],
            self.amount_fen[keep],
            self.channel[keep],
        )


def pay_seconds(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    """Local times of day for `n` payments."""
    return rng.integers(mix.PAY_SECONDS[0], mix.PAY_SECONDS[1], n, dtype=np.int64)


def _fee_bound(block: AccountBlock, account: NDArray[np.intp]) -> tuple[NDArray[np.int64], int]:
    """Per row, the highest daily late-fee rate (ppm) of the account's ruleset and class, and
    the ruleset's minimum fee: a late payer adds what the fee can be at most."""
    late_fee = rulesets_by_utility()[block.utility].late_fee
    ppm = [
        max(rate.ppm(later_year=False), rate.ppm(later_year=True))
        for rate in (
            late_fee.daily_rate_permille[CustomerClass.RESIDENTIAL],
            late_fee.daily_rate_permille[CustomerClass.NON_RESIDENTIAL],
        )
    ]
    rates = np.array(ppm, dtype=np.int64)[block.non_residential[account].astype(np.intp)]
    return rates, late_fee.minimum_fen


def _with_fee(
    amount: NDArray[np.int64], days: NDArray[np.int64], ppm: NDArray[np.int64], minimum: int
) -> NDArray[np.int64]:
    """`amount` plus the most its late fee can be after `days` accruing days (rounded up)."""
    fee = -((-amount * ppm * days) // 1_000_000)
    fee = np.where(days > 0, np.maximum(fee, minimum), 0)
    return (amount + fee).astype(np.int64)


def bills_and_payments(
    rng: np.random.Generator, block: AccountBlock, ids: pl.Series, start: date, end: date
) -> tuple[pl.DataFrame, Payments]:
    """The block's postpaid bills issued on or before `end`, and their payments made on or
    before `end` (bills from `FIRST_PERIOD_MONTHS_BEFORE_START` months before `start`; an
    account cut off on `start` has no bill for the start month or later)."""
    postpaid = np.flatnonzero(~block.prepaid)
    months = np.arange(
        month_number(start) - mix.FIRST_PERIOD_MONTHS_BEFORE_START,
        month_number(end) + 1,
        dtype=np.int64,
    )
    account = np.repeat(postpaid, len(months))
    period = np.tile(months, len(postpaid))
    issued = month_start(period + 1) + block.issue_day[account] - 1
    # an account already cut off on `start` consumes nothing from then on: no bill for it
    idle = block.cut_off[account] & (period >= month_number(start))
    kept = (issued <= day_number(end)) & ~idle
    account, period, issued = account[kept], period[kept], issued[kept]
    due = issued + block.due_after[account]
    n = len(account)
    factor = rng.uniform(*mix.MONTHLY_VARIATION, n)
    amount = np.maximum(1, np.rint(block.monthly_fen[account] * factor)).astype(np.int64)

    payments = _payments(rng, block, account, issued, due, amount, end)
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]
    slot = (period - months[0]).astype(np.intp)
    period_text = pl.Series(labels, dtype=pl.String).gather(slot)
    account_id = ids.gather(account)
    bills = pl.DataFrame(
        {
            "bill_id": pl.select(
                pl.concat_str(
                    [pl.lit(account_id), pl.lit(period_text).str.replace("-", "", literal=True)],
                    separator="-",
                )
            ).to_series(),
            "account_id": account_id,
            "period": period_text,
            "issued_on": pl.Series(issued.astype(np.int32)).cast(pl.Date),
            "due_on": pl.Series(due.astype(np.int32)).cast(pl.Date),
            "amount_fen": amount,
        }
    )
    return bills, payments


def _payments(
    rng: np.random.Generator,
    block: AccountBlock,
    account: NDArray[np.intp],
    issued: NDArray[np.int64],
    due: NDArray[np.int64],
    amount: NDArray[np.int64],
    end: date,
) -> Payments:
    """One or two payments per bill, by the account's payer kind (see `mix.Payer`)."""
    n = len(account)
    payer = block.payer[account]
    ppm, minimum = _fee_bound(block, account)

    on_time_day = issued + rng.integers(0, due - issued + 1)

    extra = np.floor(rng.exponential(mix.LATE_EXTRA_MEAN_DAYS, block.n)).astype(np.int64)
    late_base = mix.LATE_DAYS[0] + extra
    jitter = rng.integers(-mix.LATE_JITTER_DAYS, mix.LATE_JITTER_DAYS + 1, n)
    delay = np.clip(late_base[account] + jitter, *mix.LATE_DAYS).astype(np.int64)

    share = rng.uniform(*mix.PARTIAL_SHARE, n)
    part = np.clip(np.rint(amount * share).astype(np.int64), 1, np.maximum(amount - 1, 1))
    first_offset = rng.integers(mix.PARTIAL_FIRST_DAYS[0], mix.PARTIAL_FIRST_DAYS[1] + 1, n)
    part_day = np.maximum(issued, due + first_offset)
    rest_days = rng.integers(mix.PARTIAL_REST_DAYS[0], mix.PARTIAL_REST_DAYS[1] + 1, n)
    pays_rest = (rng.random(n) < mix.PARTIAL_REST_PROBABILITY) & (amount > part)

    first_day = np.select(
        [payer == mix.Payer.ON_TIME, payer == mix.Payer.LATE], [on_time_day, due + delay], part_day
    )
    first_amount = np.select(
        [payer == mix.Payer.ON_TIME, payer == mix.Payer.LATE],
        [amount, _with_fee(amount, delay, ppm, minimum)],
        part,
    )
    first = Payments(
        account=account,
        day=first_day.astype(np.int64),
        second=pay_seconds(rng, n),
        amount_fen=first_amount.astype(np.int64),
        channel=_channels(rng, n),
    ).where(payer != mix.Payer.NEVER)
    rest = Payments(
        account=account,
        day=(due + rest_days).astype(np.int64),
        second=pay_seconds(rng, n),
        amount_fen=_with_fee(amount, rest_days, ppm, minimum) - part,
        channel=_channels(rng, n),
    ).where((payer == mix.Payer.PARTIAL) & pays_rest)
    both = Payments.concat([first, rest])
    return both.where(both.day <= day_number(end))


def _channels(rng: np.random.Generator, n: int) -> NDArray[np.intp]:
    return rng.choice(len(mix.CHANNELS), size=n, p=mix.POSTPAID_CHANNEL_SHARE)
