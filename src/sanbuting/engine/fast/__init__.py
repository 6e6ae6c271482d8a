"""The fast engine: the reference engine's rules, compiled (Numba) over per-account arrays.

`run_fast` prepares the arrays (`prepare`), runs the kernel (`accounts.run_range`) over
ranges of accounts on threads (the kernel releases the GIL), and turns the rows back into the
run's frames (`collect`). Accounts whose amounts could overflow 64-bit fee arithmetic (amounts
near the contract's 10^15-fen ceiling) are run by the reference engine instead, so the answer
is always exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import polars as pl

from sanbuting.engine.fast.cache_guard import forget_stale

forget_stale()  # before the kernel's modules load their cached machine code

from sanbuting.domain import Utility  # noqa: E402
from sanbuting.engine.fast import layout as lay  # noqa: E402
from sanbuting.engine.fast.accounts import run_range  # noqa: E402
from sanbuting.engine.fast.collect import collect  # noqa: E402
from sanbuting.engine.fast.kernel import L_SIZE  # noqa: E402
from sanbuting.engine.fast.prepare import day_number, prepare  # noqa: E402
from sanbuting.engine.frames import RunFrames, concat  # noqa: E402
from sanbuting.engine.parallel import run_frames  # noqa: E402
from sanbuting.errors import SanbutingError  # noqa: E402
from sanbuting.policy.model import Policy  # noqa: E402
from sanbuting.rules.schema import Ruleset  # noqa: E402

Ints = npt.NDArray[np.int64]
Frames = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]
SAFE_UNITS = 2**62
"""Fee units (fen x ppm) an account may reach before it is left to the reference engine."""
RANGES_PER_THREAD = 4
EXACT_CAPACITY = 20_000_000
"""Row buffers up to this size are allocated at the most a span can give (never retried)."""


def _max_ppm(rulesets: dict[Utility, Ruleset]) -> int:
    return max(
        rate.ppm(later_year=later)
        for ruleset in rulesets.values()
        for rate in ruleset.late_fee.daily_rate_permille.values()
        for later in (False, True)
    )


def _risky_accounts(frames: Frames, end: date, max_ppm: int) -> pl.Series:
    """Accounts whose fee units or money sums could leave int64 (absurd but legal amounts).
    Two cheap whole-table bounds settle the usual case; only when they fail is each account
    looked at."""
    accounts, bills, payments, usage = frames
    if bills.height:
        first_due = bills.get_column("due_on").min()
        days = (end - first_due).days + 2 if isinstance(first_due, date) else 1
        largest = bills.get_column("amount_fen").cast(pl.Float64).max()
        worst_units = float(largest if isinstance(largest, float) else 0.0) * max_ppm * days
    else:
        worst_units = 0.0
    money = sum(
        float(f.get_column("amount_fen").cast(pl.Float64).sum()) for f in (bills, payments, usage)
    )
    money += float(accounts.get_column("balance_fen").cast(pl.Float64).abs().sum())
    if worst_units <= SAFE_UNITS and money <= 2**60:
        return pl.Series("account_id", [], dtype=pl.String)
    span = (pl.lit(end) - pl.col("due_on")).dt.total_days().clip(lower_bound=0) + 1
    units = bills.select(
        "account_id",
        (pl.col("amount_fen").cast(pl.Float64) * float(max_ppm) * span.cast(pl.Float64)).alias("u"),
    )
    sums = pl.concat(
        [
            f.select("account_id", pl.col("amount_fen").cast(pl.Float64).abs())
            for f in (bills, payments, usage)
        ]
        + [
            accounts.select(
                "account_id", pl.col("balance_fen").cast(pl.Float64).abs().alias("amount_fen")
            )
        ]
    )
    risky = pl.concat(
        [
            units.filter(pl.col("u") > SAFE_UNITS).select("account_id"),
            sums.group_by("account_id")
            .agg(pl.col("amount_fen").sum())
            .filter(pl.col("amount_fen") > 2**60)
            .select("account_id"),
        ]
    )
    return risky.get_column("account_id").unique()


def first_capacity(accounts: int, bills: int) -> int:
    """Rows a long span's buffers start with: about eight per account and two per bill."""
    return 16 + 8 * accounts + 2 * bills


class FastRun:
    """The fast engine over one set of accounts, day after day: `advance(through)` decides
    the days from the last one decided (or `start`) through `through`, keeping every
    account's ladder memory and bill money between calls, so that several advances give the
    rows one longer run gives. `run_fast` is one advance over the whole period."""

    def __init__(
        self,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        start: date,
        threads: int = 2,
    ) -> None:
        self.arrays = prepare(frames, policies, rulesets)
        self.rulesets = rulesets
        self.threads = max(1, threads)
        n, nb = self.arrays.acc.shape[0], self.arrays.bills.shape[0]
        self.bs = np.zeros((nb, lay.BILL_COLUMNS), dtype=np.int64)
        self.fees = np.zeros((nb, 5), dtype=np.int64)
        self.states = np.zeros((n, lay.STATE_COLUMNS), dtype=np.int64)
        self.mems = np.zeros((n, L_SIZE), dtype=np.int64)
        self.next_day = day_number(start)
        self.started = False
        edges = np.linspace(0, n, num=self.threads * RANGES_PER_THREAD + 1, dtype=np.int64)
        self.ranges = [(int(lo), int(hi)) for lo, hi in pairwise(edges) if hi > lo]

    def advance(self, through: date, *, snapshot: bool = True) -> RunFrames:
        """Decide every day up to `through`: the rows of those days, and (with `snapshot`)
        the fees and states as of `through`."""
        first, last = self.next_day, day_number(through)
        if last < first:
            raise SanbutingError(f"{through} is already decided: the next day is {first}")
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            parts = list(pool.map(lambda r: self._range(r[0], r[1], first, last), self.ranges))
        self.started, self.next_day = True, last + 1
        actions = np.concatenate(
            [p[0] for p in parts] or [np.empty((0, lay.ACTION_COLUMNS), dtype=np.int64)]
        )
        prots = np.concatenate(
            [p[1] for p in parts] or [np.empty((0, lay.PROTECTION_COLUMNS), dtype=np.int64)]
        )
        return collect(
            self.arrays, self.rulesets, actions, prots, self.fees, self.states, snapshot=snapshot
        )

    def _range(self, lo: int, hi: int, first: int, last: int) -> tuple[Ints, Ints]:
        """Run accounts lo..hi-1 into row buffers that fit. When the span is short the buffers
        take the most rows it can give (per account and day at most a reconnect, a low-balance
        alert and one enforcement step, plus each bill's reminder and each exempt's two 保電
        switches); otherwise they start smaller and grow, a retry starting again from the
        memory the accounts had before."""
        arrays = self.arrays
        b_lo, b_hi = int(arrays.b_off[lo]), int(arrays.b_off[hi])
        days = last - first + 1
        most = 16 + (hi - lo) * (3 * days + 2 * arrays.pol.shape[0]) + (b_hi - b_lo)
        capacity = most if most <= EXACT_CAPACITY else first_capacity(hi - lo, b_hi - b_lo)
        kept = None
        if self.started and capacity < most:
            kept = (self.mems[lo:hi].copy(), self.bs[b_lo:b_hi].copy())
        while True:
            out = np.empty((capacity, lay.ACTION_COLUMNS), dtype=np.int64)
            prots = np.empty((capacity, lay.PROTECTION_COLUMNS), dtype=np.int64)
            counts = np.zeros(2, dtype=np.int64)
            run_range(
                lo,
                hi,
                first,
                last,
                arrays.acc,
                arrays.b_off,
                arrays.bills,
                arrays.windows,
                arrays.p_off,
                arrays.pays,
                arrays.u_off,
                arrays.usage,
                arrays.ap_off,
                arrays.ap,
                arrays.pol,
                arrays.h_off,
                arrays.hd,
                arrays.rules,
                self.bs,
                self.fees,
                self.states,
                self.mems,
                self.started,
                out,
                prots,
                counts,
            )
            if counts[0] <= capacity and counts[1] <= capacity:
                return out[: counts[0]], prots[: counts[1]]
            capacity = 2 * int(max(counts))
            if kept is not None:
                self.mems[lo:hi], self.bs[b_lo:b_hi] = kept


def run_fast(
    frames: Frames,
    policies: Sequence[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
    threads: int = 2,
) -> RunFrames:
    """Run every account of `frames` from `start` through `end`."""
    listed = list(policies)
    if len(listed) > lay.MAX_POLICIES:
        raise SanbutingError(
            f"the fast engine takes at most {lay.MAX_POLICIES} policies; use --engine reference"
        )
    risky = _risky_accounts(frames, end, _max_ppm(rulesets))
    if risky.len() == 0:
        return FastRun(frames, listed, rulesets, start, threads).advance(end)

    def part(keep: bool) -> Frames:
        picked = [f.filter(pl.col("account_id").is_in(risky.implode()) == keep) for f in frames]
        return (picked[0], picked[1], picked[2], picked[3])

    return concat(
        [
            FastRun(part(False), listed, rulesets, start, threads).advance(end),
            run_frames(part(True), listed, rulesets, start, end),
        ]
    )
