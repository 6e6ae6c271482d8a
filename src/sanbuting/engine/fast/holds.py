"""Account relief for the fast kernel (docs/account-relief.md): each account's holds, as
compiled on the accounts frame (`engine.relief_column`) for every engine, as a CSR array the
kernel reads (`hd[h_off[i]:h_off[i + 1]]`), and the fees each bill does not accrue as three
columns: a kept instalment plan's pause [start, stop), and the first day after a late-fee
waiver (the bill accrues nothing before it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from numba import njit

from sanbuting.engine.fast import layout as lay
from sanbuting.engine.holds import KINDS
from sanbuting.engine.relief_column import COLUMN, reliefs_in

Ints = npt.NDArray[np.int64]

# Per hold, one row of `hd`, the account's holds in file order.
H_START, H_STOP, H_NOTICE_ONLY, H_BROKEN, H_KIND = range(5)
HOLD_COLUMNS = 5
PAUSE_COLUMNS = 3
"""Appended to each bill's row: a plan's pause start and stop, a waiver's stop."""


@dataclass(frozen=True)
class HoldArrays:
    h_off: Ints
    hd: Ints
    hold_ids: list[str]
    pause: Ints
    """Per bill (in the kernel's bill order): a plan's fee pause [start, stop), or (0, 0), and
    the day a waiver's days without fees stop (0: none)."""


def hold_arrays(accounts: pl.DataFrame, b_off: Ints, bills: Ints) -> HoldArrays:
    """The relief of `accounts` (sorted by id, as the kernel numbers them) and the fee pause
    of each bill (`bills[b_off[i]:b_off[i + 1]]`)."""
    n = accounts.height
    pause = np.zeros((bills.shape[0], PAUSE_COLUMNS), dtype=np.int64)
    if COLUMN not in accounts.columns:
        empty = np.zeros((0, HOLD_COLUMNS), dtype=np.int64)
        return HoldArrays(np.zeros(n + 1, dtype=np.int64), empty, [], pause)
    counts = np.zeros(n, dtype=np.int64)
    rows: list[list[int]] = []
    hold_ids: list[str] = []
    for i, cell in enumerate(accounts.get_column(COLUMN).to_list()):
        for item in reliefs_in(cell):
            broken = lay.day_number(item.broken_on) if item.broken_on else lay.NONE
            start, stop = lay.day_number(item.start), lay.day_number(item.stop)
            rows.append([start, stop, int(item.notice_only), broken, KINDS.index(item.kind)])
            hold_ids.append(item.hold_id)
            counts[i] += 1
            if item.fee_pause is None:
                continue
            end = lay.day_number(item.fee_pause.end)
            for j in range(int(b_off[i]), int(b_off[i + 1])):
                if bills[j, 0] >= start:
                    continue
                if item.kind == "waive_fee":
                    pause[j, 2] = max(pause[j, 2], end)
                else:
                    pause[j, :2] = (lay.day_number(item.fee_pause.start), end)
    h_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=h_off[1:])
    hd = np.array(rows, dtype=np.int64).reshape(len(rows), HOLD_COLUMNS)
    return HoldArrays(h_off, hd, hold_ids, pause)


@njit(cache=True, nogil=True)
def held_by(lo: int, hi: int, day: int, action: int, hd: Ints) -> int:
    """The first hold of rows lo..hi-1 keeping enforcement step `action` from being carried
    out on `day` (`Relief.locks`), or NONE."""
    for k in range(lo, hi):
        locks = action == lay.A_NOTICE or hd[k, H_NOTICE_ONLY] == 0
        if locks and hd[k, H_START] <= day < hd[k, H_STOP]:
            return k
    return lay.NONE


@njit(cache=True, nogil=True)
def broken_today(lo: int, hi: int, day: int, hd: Ints) -> bool:
    """Whether a promise or plan of rows lo..hi-1 is broken on `day` (a fresh notice)."""
    for k in range(lo, hi):  # noqa: SIM110 (Numba compiles loops, not generators)
        if hd[k, H_BROKEN] == day:
            return True
    return False
