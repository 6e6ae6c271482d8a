"""Prepaid accounts: one usage row per account and day of the period, and top-ups on a fixed
schedule per account (regular accounts top up a little more than they use, rare ones too
little and too seldom, so their balance crosses the alert threshold and zero).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from numpy.typing import NDArray

from sanbuting.generate import mix
from sanbuting.generate.billing import Payments, day_number, pay_seconds
from sanbuting.generate.population import AccountBlock

DAYS_PER_MONTH = 30.0


def usage(
    rng: np.random.Generator, block: AccountBlock, ids: pl.Series, start: date, end: date
) -> pl.DataFrame:
    """Every prepaid account's consumption for every day from `start` through `end`."""
    prepaid = np.flatnonzero(block.prepaid)
    days = np.arange(day_number(start), day_number(end) + 1, dtype=np.int64)
    account = np.repeat(prepaid, len(days))
    n = len(account)
    daily = block.monthly_fen[account] / DAYS_PER_MONTH
    noise = rng.gamma(mix.USAGE_NOISE_SHAPE, 1.0 / mix.USAGE_NOISE_SHAPE, n)
    used = rng.random(n) >= mix.USAGE_ZERO_SHARE
    amount = np.where(used, np.rint(daily * noise), 0).astype(np.int64)
    return pl.DataFrame(
        {
            "account_id": ids.gather(account),
            "date": pl.Series(np.tile(days, len(prepaid)).astype(np.int32)).cast(pl.Date),
            "amount_fen": amount,
        }
    )


def topups(rng: np.random.Generator, block: AccountBlock, start: date, end: date) -> Payments:
    """Each prepaid account's top-ups from `start` through `end`: every `interval` days from
    a first day, each paying for about the days until the next one (see `mix.TopUp`)."""
    prepaid = np.flatnonzero(block.prepaid)
    kind = block.topup[prepaid]
    m = len(prepaid)
    low = np.array([mix.TOPUP_INTERVAL_DAYS[k][0] for k in mix.TopUp])[kind]
    high = np.array([mix.TOPUP_INTERVAL_DAYS[k][1] for k in mix.TopUp])[kind]
    interval = rng.integers(low, high + 1, m).astype(np.int64)
    daily = np.maximum(block.monthly_fen[prepaid] / DAYS_PER_MONTH, 1.0)
    covered = np.maximum(block.balance_fen[prepaid], 0) / daily
    regular_first = np.floor(covered * rng.uniform(*mix.REGULAR_FIRST_TOPUP, m))
    rare_first = rng.integers(interval // 2, interval)
    offset = np.where(
        kind == mix.TopUp.RARE, rare_first, np.clip(regular_first, 0, interval - 1)
    ).astype(np.int64)
    span = day_number(end) - day_number(start)
    count = np.where(offset <= span, (span - offset) // interval + 1, 0)

    rows = np.repeat(np.arange(m, dtype=np.intp), count)
    total = len(rows)
    nth = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    day = day_number(start) + offset[rows] + nth * interval[rows]

    cover_low = np.array([mix.TOPUP_COVER[k][0] for k in mix.TopUp])[kind]
    cover_high = np.array([mix.TOPUP_COVER[k][1] for k in mix.TopUp])[kind]
    cover = rng.uniform(cover_low[rows], cover_high[rows])
    account = prepaid[rows]
    wanted = block.monthly_fen[account] / DAYS_PER_MONTH * interval[rows] * cover
    step = mix.TOPUP_ROUND_FEN
    amount = np.maximum(step, np.ceil(wanted / step) * step).astype(np.int64)
    shares = mix.PREPAID_CHANNEL_SHARE[block.utility]
    return Payments(
        account=account,
        day=day.astype(np.int64),
        second=pay_seconds(rng, total),
        amount_fen=amount,
        channel=_choice(rng, len(mix.CHANNELS), total, shares),
    )


def _choice(
    rng: np.random.Generator, k: int, n: int, shares: tuple[float, ...]
) -> NDArray[np.intp]:
    return rng.choice(k, size=n, p=shares)
