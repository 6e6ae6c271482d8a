"""The fast engine's kernel: the ladder's memory and the relief gate, compiled with Numba.

With `postpaid.py` and `prepaid.py` (the days of each billing mode) it is a line-by-line
transcription of `engine.reference`, `engine.billbook` and `engine.ladder`, one account at a
time, so that the engines give the same rows; the property test holds them equal. Per account,
`mem` holds the ladder's memory (the columns below); per bill, `bs` the running money
(`layout.B_*`). Rows are written to `actions` and `protections` from `counts`; a full buffer
is reported by counts beyond its length, and the caller runs again with more room.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from sanbuting.engine.fast.holds import H_KIND, held_by
from sanbuting.engine.fast.layout import (
    A_GUARANTEE_OFF,
    A_GUARANTEE_ON,
    A_NOTICE,
    A_RECONNECT,
    A_SUSPEND,
    A_TERMINATE,
    ACTIVE,
    DISCONNECTED,
    E_EXEMPT,
    KIND_DEFER,
    KIND_EXEMPT,
    KIND_HOLD,
    NONE,
    P_EFFECT,
    P_END,
    P_START,
    SUSPENDED,
    TERMINATED,
)
from sanbuting.engine.fast.relief import (
    defer_move,
    exempt_on,
    reconnecting_exempt,
)

Ints = npt.NDArray[np.int64]
HALF, UNITS = 500_000, 1_000_000

# The ladder's memory, one row of `mem` per account.
(
    L_ACCOUNT,
    L_STATE,
    L_CUTOFF,
    L_IN_EPISODE,
    L_NOTICE,
    L_WAIT,
    L_USED,
    L_EVENTED,
    L_ANY,
    L_DAYS,
    L_ARREARS,
    L_RECORDING,
    L_MONEY,
    L_LOW_ARMED,
    L_RUN_START,
    L_RELIEF,
    L_AP_LO,
    L_AP_HI,
    L_PAY,
    L_USE,
    L_FLAGS,
    L_HOLD_LO,
    L_HOLD_HI,
    L_HELD,
) = range(24)
L_SIZE = 24
"""L_HOLD_LO/L_HOLD_HI: the account's rows of `hd` (its holds, `fast.holds`); L_HELD: the
bit set (by the hold's place among the account's) of holds that wrote this episode's event."""
F_EXEMPT, F_DEFER, F_CREDIT = 1, 2, 4
"""L_FLAGS: which kinds of relief policy are in the account's scope at all, so that days
without any skip the lookups."""
"""L_MONEY is the postpaid credit or the prepaid balance; L_RELIEF is 0 in the replay;
L_PAY and L_USE are cursors into the account's payments and usage (days only go forward)."""


@njit(cache=True, nogil=True)
def act(mem: Ints, day: int, action: int, bill: int, policy: int, out: Ints, counts: Ints) -> None:
    if mem[L_RECORDING]:
        n = counts[0]
        if n < out.shape[0]:
            out[n, 0], out[n, 1], out[n, 2], out[n, 3], out[n, 4] = (
                mem[L_ACCOUNT],
                day,
                action,
                bill,
                policy,
            )
        counts[0] = n + 1


@njit(cache=True, nogil=True)
def track_episode(mem: Ints, in_arrears: bool) -> None:
    if in_arrears != (mem[L_IN_EPISODE] == 1):
        mem[L_IN_EPISODE] = 1 if in_arrears else 0
        mem[L_NOTICE], mem[L_WAIT], mem[L_USED], mem[L_EVENTED] = NONE, NONE, 0, 0
        mem[L_HELD] = 0


@njit(cache=True, nogil=True)
def protect(
    mem: Ints,
    day: int,
    rank: int,
    kind: int,
    action: int,
    moved: int,
    arrears: int,
    prots: Ints,
    counts: Ints,
) -> None:
    if mem[L_RECORDING] and not (mem[L_EVENTED] >> rank) & 1:
        mem[L_EVENTED] |= 1 << rank
        n = counts[1]
        if n < prots.shape[0]:
            prots[n, 0], prots[n, 1], prots[n, 2] = mem[L_ACCOUNT], day, rank
            prots[n, 3], prots[n, 4], prots[n, 5] = kind, action, moved
        counts[1] = n + 1
        if mem[L_ANY] == 0:
            mem[L_ANY], mem[L_ARREARS] = 1, arrears
    if mem[L_RECORDING]:
        mem[L_DAYS] += 1


@njit(cache=True, nogil=True)
def enforce(
    mem: Ints,
    day: int,
    action: int,
    arrears: int,
    unstoppable: bool,
    ap: Ints,
    pol: Ints,
    hd: Ints,
    out: Ints,
    prots: Ints,
    counts: Ints,
) -> None:
    """The relief gate (`ladder.Gate.enforce`): an exempt, the account's own relief, a
    defer's wait or move; then the step."""
    lo, hi = mem[L_AP_LO], mem[L_AP_HI]
    if not unstoppable and mem[L_RELIEF] and mem[L_FLAGS] & F_EXEMPT:
        exempt = exempt_on(lo, hi, day, ap, pol)
        if exempt != NONE:
            protect(mem, day, exempt, KIND_EXEMPT, action, NONE, arrears, prots, counts)
            return
    if not unstoppable and mem[L_HOLD_HI] > mem[L_HOLD_LO]:
        k = held_by(mem[L_HOLD_LO], mem[L_HOLD_HI], day, action, hd)
        if k != NONE:
            held(mem, day, k, action, hd, prots, counts)
            return
    if not unstoppable and mem[L_RELIEF]:
        if mem[L_WAIT] != NONE and day < mem[L_WAIT]:
            if mem[L_RECORDING]:
                mem[L_DAYS] += 1
            return
        moved, rank = NONE, NONE
        if mem[L_FLAGS] & F_DEFER:
            moved, rank, mem[L_USED] = defer_move(lo, hi, day, mem[L_USED], ap, pol)
        if moved != NONE:
            mem[L_WAIT] = moved
            protect(mem, day, rank, KIND_DEFER, action, moved, arrears, prots, counts)
            return
    if action == A_NOTICE:
        mem[L_NOTICE] = day
    elif action == A_TERMINATE:
        mem[L_STATE] = TERMINATED
    else:
        mem[L_STATE] = SUSPENDED if action == A_SUSPEND else DISCONNECTED
        mem[L_CUTOFF] = day
    act(mem, day, action, NONE, NONE, out, counts)


@njit(cache=True, nogil=True)
def held(mem: Ints, day: int, k: int, action: int, hd: Ints, prots: Ints, counts: Ints) -> None:
    """Hold `k` keeps `action` from being carried out: its event once an episode."""
    bit = k - mem[L_HOLD_LO]
    if mem[L_RECORDING] and not (mem[L_HELD] >> bit) & 1:
        mem[L_HELD] |= 1 << bit
        n = counts[1]
        if n < prots.shape[0]:
            prots[n, 0], prots[n, 1], prots[n, 2] = mem[L_ACCOUNT], day, k
            prots[n, 3], prots[n, 4], prots[n, 5] = KIND_HOLD + hd[k, H_KIND], action, NONE
        counts[1] = n + 1


@njit(cache=True, nogil=True)
def reconnect(mem: Ints, day: int, policy: int, out: Ints, counts: Ints) -> None:
    mem[L_STATE], mem[L_CUTOFF] = ACTIVE, NONE
    act(mem, day, A_RECONNECT, NONE, policy, out, counts)


@njit(cache=True, nogil=True)
def policy_orders(
    mem: Ints,
    day: int,
    self_enforcing: bool,
    guarantees: bool,
    end: int,
    ap: Ints,
    pol: Ints,
    out: Ints,
    counts: Ints,
) -> None:
    """An exempt's reconnection at its start, and 保電 on/off at its edges."""
    if not mem[L_RELIEF]:
        return
    lo, hi = mem[L_AP_LO], mem[L_AP_HI]
    cut_off = mem[L_STATE] == SUSPENDED or mem[L_STATE] == DISCONNECTED
    if cut_off and not self_enforcing:
        rank = reconnecting_exempt(lo, hi, day, mem[L_RUN_START], ap, pol)
        if rank != NONE:
            reconnect(mem, day, rank, out, counts)
    if not guarantees:
        return
    run_start = mem[L_RUN_START]
    for k in range(lo, hi):
        rank = ap[k, 0]
        if pol[rank, P_EFFECT] != E_EXEMPT:
            continue
        start, stop = pol[rank, P_START], pol[rank, P_END]
        on_day = max(start, run_start)
        if on_day == day and on_day < stop and on_day <= end:
            act(mem, day, A_GUARANTEE_ON, NONE, rank, out, counts)
        if stop == day and run_start <= stop <= end:
            act(mem, day, A_GUARANTEE_OFF, NONE, rank, out, counts)


@njit(cache=True, nogil=True)
def terminate_due(mem: Ints, day: int, after: int) -> bool:
    cut_off = mem[L_STATE] == SUSPENDED or mem[L_STATE] == DISCONNECTED
    return cut_off and after != NONE and mem[L_CUTOFF] != NONE and day >= mem[L_CUTOFF] + after
