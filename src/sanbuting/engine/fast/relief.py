"""Compiled relief lookups for the fast kernel: which exempt covers a day, which defers and
credits apply, which waivers cover a bill's day. The same rules as `engine.relief`, over the
kernel's arrays: `ap` holds, per account, the exempt, defer and credit policies in its scope
(rank, and for an exempt the end of its cover after `spread_days`), in file order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from sanbuting.engine.fast.layout import (
    E_CREDIT,
    E_DEFER,
    E_EXEMPT,
    NONE,
    P_CREDIT,
    P_DEFER_DAYS,
    P_DEFER_UNTIL,
    P_EFFECT,
    P_END,
    P_PAUSE,
    P_RECONNECT,
    P_START,
)

Ints = npt.NDArray[np.int64]


@njit(cache=True, nogil=True)
def exempt_on(lo: int, hi: int, day: int, ap: Ints, pol: Ints) -> int:
    """The rank of the first exempt covering `day` (its start to its spread end), or NONE."""
    for k in range(lo, hi):
        rank = ap[k, 0]
        if pol[rank, P_EFFECT] == E_EXEMPT and pol[rank, P_START] <= day < ap[k, 1]:
            return int(rank)
    return NONE


@njit(cache=True, nogil=True)
def reminders_paused(lo: int, hi: int, day: int, ap: Ints, pol: Ints) -> bool:
    for k in range(lo, hi):
        rank = ap[k, 0]
        if (
            pol[rank, P_EFFECT] == E_EXEMPT
            and pol[rank, P_PAUSE] == 1
            and pol[rank, P_START] <= day < ap[k, 1]
        ):
            return True
    return False


@njit(cache=True, nogil=True)
def reconnecting_exempt(lo: int, hi: int, day: int, run_start: int, ap: Ints, pol: Ints) -> int:
    """The first exempt with `reconnect` restoring service on `day`: its window's start, or
    the run's first day inside its window."""
    for k in range(lo, hi):
        rank = ap[k, 0]
        if pol[rank, P_EFFECT] != E_EXEMPT or pol[rank, P_RECONNECT] != 1:
            continue
        start, end = pol[rank, P_START], pol[rank, P_END]
        if start == day or (day == run_start and start <= day < end):
            return int(rank)
    return NONE


@njit(cache=True, nogil=True)
def credit_on(lo: int, hi: int, day: int, ap: Ints, pol: Ints) -> tuple[int, int]:
    """(credit fen, rank) of the largest emergency credit covering `day` (first on ties)."""
    best_fen, best_rank = 0, NONE
    for k in range(lo, hi):
        rank = ap[k, 0]
        if pol[rank, P_EFFECT] == E_CREDIT and pol[rank, P_START] <= day < pol[rank, P_END]:
            fen = pol[rank, P_CREDIT]
            if best_rank == NONE or fen > best_fen:
                best_fen, best_rank = fen, rank
    return int(best_fen), int(best_rank)


@njit(cache=True, nogil=True)
def defer_move(lo: int, hi: int, day: int, used: int, ap: Ints, pol: Ints) -> tuple[int, int, int]:
    """Apply the defers covering `day` that have not moved a step of this episode:
    (moved-to day or NONE, winning rank, the used set with every applying defer added)."""
    best_day, best_rank = NONE, NONE
    for k in range(lo, hi):
        rank = ap[k, 0]
        if pol[rank, P_EFFECT] != E_DEFER or (used >> rank) & 1:
            continue
        if not pol[rank, P_START] <= day < pol[rank, P_END]:
            continue
        used |= 1 << rank
        days = pol[rank, P_DEFER_DAYS]
        moved = day + days if days != NONE else max(day, pol[rank, P_DEFER_UNTIL])
        if moved > day and (moved > best_day or (moved == best_day and rank < best_rank)):
            best_day, best_rank = moved, rank
    return int(best_day), int(best_rank), used


@njit(cache=True, nogil=True)
def waived(mask: int, day: int, windows: Ints) -> bool:
    """Whether any waiver window in the bill's `mask` covers `day`."""
    k = 0
    while mask:
        if mask & 1 and windows[k, 0] <= day < windows[k, 1]:
            return True
        mask >>= 1
        k += 1
    return False
