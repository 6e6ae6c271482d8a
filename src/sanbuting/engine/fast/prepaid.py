"""The fast kernel's prepaid day (`PrepaidRun.day`): top-ups and usage through cursors, the
floor lowered by credit limits and emergency credit, low-balance alerts, notice and trip.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from sanbuting.engine.fast.holds import broken_today
from sanbuting.engine.fast.kernel import (
    F_CREDIT,
    F_EXEMPT,
    L_AP_HI,
    L_AP_LO,
    L_FLAGS,
    L_HOLD_HI,
    L_HOLD_LO,
    L_LOW_ARMED,
    L_MONEY,
    L_NOTICE,
    L_PAY,
    L_RELIEF,
    L_STATE,
    L_USE,
    act,
    enforce,
    policy_orders,
    reconnect,
    terminate_due,
    track_episode,
)
from sanbuting.engine.fast.layout import (
    A_LOW_BALANCE,
    A_NOTICE,
    A_TERMINATE,
    ACTIVE,
    DISCONNECTED,
    NONE,
    R_AT_OR_BELOW,
    R_GRACE,
    R_LOW,
    R_PRE_CUTOFF,
    R_PRE_HAS_NOTICE,
    R_PRE_TERMINATE,
    R_SELF_ENFORCING,
    SUSPENDED,
    TERMINATED,
)
from sanbuting.engine.fast.relief import (
    credit_on,
)

Ints = npt.NDArray[np.int64]


@njit(cache=True, nogil=True)
def prepaid_days(  # noqa: PLR0915 (one loop: arrays are handed over once per account)
    mem: Ints,
    start: int,
    pays: Ints,
    p_lo: int,
    p_hi: int,
    usage: Ints,
    u_lo: int,
    u_hi: int,
    rule: Ints,
    climit: int,
    guarantees: bool,
    end: int,
    ap: Ints,
    pol: Ints,
    hd: Ints,
    out: Ints,
    prots: Ints,
    counts: Ints,
) -> None:
    """Days `start` through `end` of a prepaid account (`PrepaidRun.day`), in one loop so
    that the arrays are handed over once per account, not once per day."""
    for day in range(start, end + 1):
        while mem[L_PAY] < p_hi and pays[mem[L_PAY], 0] < day:
            mem[L_PAY] += 1
        while mem[L_PAY] < p_hi and pays[mem[L_PAY], 0] == day:
            mem[L_MONEY] += pays[mem[L_PAY], 1]
            mem[L_PAY] += 1
        while mem[L_USE] < u_hi and usage[mem[L_USE], 0] < day:
            mem[L_USE] += 1
        if mem[L_STATE] == ACTIVE:
            while mem[L_USE] < u_hi and usage[mem[L_USE], 0] == day:
                mem[L_MONEY] -= usage[mem[L_USE], 1]
                mem[L_USE] += 1
        if mem[L_STATE] == TERMINATED:
            continue
        balance = mem[L_MONEY]
        at_or_below = rule[R_AT_OR_BELOW] == 1
        credit, credit_rank = 0, NONE
        if mem[L_RELIEF] and mem[L_FLAGS] & F_CREDIT:
            credit, credit_rank = credit_on(mem[L_AP_LO], mem[L_AP_HI], day, ap, pol)
        base_floor = -climit
        floor = base_floor - credit
        triggered = balance <= floor if at_or_below else balance < floor
        cut_off = mem[L_STATE] == SUSPENDED or mem[L_STATE] == DISCONNECTED
        if cut_off and not triggered:
            below_base = balance <= base_floor if at_or_below else balance < base_floor
            reconnect(
                mem, day, credit_rank if credit_rank != NONE and below_base else NONE, out, counts
            )
        track_episode(mem, triggered)
        self_enforcing = rule[R_SELF_ENFORCING] == 1
        if mem[L_FLAGS] & F_EXEMPT:
            policy_orders(mem, day, self_enforcing, guarantees, end, ap, pol, out, counts)
        if balance < rule[R_LOW]:
            if mem[L_LOW_ARMED]:
                act(mem, day, A_LOW_BALANCE, NONE, NONE, out, counts)
            mem[L_LOW_ARMED] = 0
        else:
            mem[L_LOW_ARMED] = 1
        if broken_today(mem[L_HOLD_LO], mem[L_HOLD_HI], day, hd):
            mem[L_NOTICE] = NONE  # a broken promise: a fresh notice
        if not triggered:
            continue
        step = NONE
        if mem[L_STATE] == ACTIVE:
            if rule[R_PRE_HAS_NOTICE] == 0:
                step = rule[R_PRE_CUTOFF]
            elif mem[L_NOTICE] == NONE:
                step = A_NOTICE
            elif day - mem[L_NOTICE] >= rule[R_GRACE]:
                step = rule[R_PRE_CUTOFF]
        elif terminate_due(mem, day, rule[R_PRE_TERMINATE]):
            step = A_TERMINATE
        if step != NONE:
            unstoppable = step == rule[R_PRE_CUTOFF] and self_enforcing
            arrears = max(0, -balance)
            enforce(mem, day, step, arrears, unstoppable, ap, pol, hd, out, prots, counts)
