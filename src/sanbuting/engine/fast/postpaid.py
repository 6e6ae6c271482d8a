"""The fast kernel's postpaid day (`PostpaidRun.day`, `BillAccount`): bills opening and paid
from credit, late fees accruing day by day, payments allocated oldest bill first, arrears, the
oldest open overdue bill driving the ladder; quiet days jumped over.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from sanbuting.engine.fast.holds import broken_today
from sanbuting.engine.fast.kernel import (
    F_EXEMPT,
    L_AP_HI,
    L_AP_LO,
    L_FLAGS,
    L_HOLD_HI,
    L_HOLD_LO,
    L_IN_EPISODE,
    L_MONEY,
    L_NOTICE,
    L_PAY,
    L_RELIEF,
    L_STATE,
    act,
    enforce,
    policy_orders,
    reconnect,
    terminate_due,
    track_episode,
)
from sanbuting.engine.fast.layout import (
    A_NOTICE,
    A_REMIND,
    A_TERMINATE,
    ACTIVE,
    B_CHARGED,
    B_DAYS,
    B_FEE_PAID,
    B_OPENED,
    B_PRINCIPAL,
    B_UNITS,
    B_WAIVED_DAYS,
    B_WAIVED_UNITS,
    DISCONNECTED,
    NONE,
    R_CUTOFF,
    R_ENFORCE_AFTER,
    R_HAS_NOTICE,
    R_LEAD,
    R_MINIMUM,
    R_NON_LATER,
    R_NON_SAME,
    R_REMIND,
    R_RES_LATER,
    R_RES_SAME,
    R_TERMINATE,
    R_VALID,
    SUSPENDED,
    TERMINATED,
)
from sanbuting.engine.fast.relief import (
    reminders_paused,
    waived,
)

Ints = npt.NDArray[np.int64]
HALF, UNITS = 500_000, 1_000_000


@njit(cache=True, nogil=True)
def fee_fen(bs: Ints, j: int, minimum: int, finalizing: bool) -> int:
    """A bill's fee: rounded half-up once, the minimum once finalized (`accrued_fen`)."""
    rounded = (bs[j, B_UNITS] + HALF) // UNITS
    finalized = finalizing or bs[j, B_CHARGED] != NONE
    if finalized and bs[j, B_DAYS] > 0 and rounded < minimum:
        return minimum
    return int(rounded)


@njit(cache=True, nogil=True)
def pay_bill(bs: Ints, j: int, amount: int, minimum: int) -> int:
    """Principal, then the finalized fee; returns what is left (`BillAccount.pay`)."""
    to_principal = min(amount, bs[j, B_PRINCIPAL])
    bs[j, B_PRINCIPAL] -= to_principal
    amount -= to_principal
    if bs[j, B_PRINCIPAL] == 0 and bs[j, B_CHARGED] == NONE:
        bs[j, B_CHARGED] = fee_fen(bs, j, minimum, True)
    owed = 0 if bs[j, B_CHARGED] == NONE else bs[j, B_CHARGED] - bs[j, B_FEE_PAID]
    to_fee = min(amount, owed)
    bs[j, B_FEE_PAID] += to_fee
    return int(amount - to_fee)


@njit(cache=True, nogil=True)
def postpaid_days(  # noqa: PLR0915 (one loop: arrays are handed over once per account)
    mem: Ints,
    first: int,
    stop: int,
    b_lo: int,
    b_hi: int,
    bills: Ints,
    bs: Ints,
    windows: Ints,
    pays: Ints,
    p_hi: int,
    rule: Ints,
    cls: int,
    end: int,
    ap: Ints,
    pol: Ints,
    hd: Ints,
    out: Ints,
    prots: Ints,
    counts: Ints,
) -> int:
    """Days `first` to `stop - 1` of a postpaid account (`PostpaidRun.day`), jumping over
    quiet days (active, nothing overdue, no event); returns the last day's arrears (0 when it
    was quiet)."""
    remind, minimum = rule[R_REMIND], rule[R_MINIMUM]
    same = rule[R_NON_SAME] if cls == 1 else rule[R_RES_SAME]
    later = rule[R_NON_LATER] if cls == 1 else rule[R_RES_LATER]
    arrears = 0
    day = first - 1
    while day + 1 < stop:
        day += 1
        if mem[L_STATE] == ACTIVE and mem[L_IN_EPISODE] == 0:
            upcoming = next_event(mem, day, b_lo, b_hi, bills, pays, p_hi, remind)
            if upcoming != day:
                day = min(upcoming, stop) - 1
                arrears = 0
                continue
        for j in range(b_lo, b_hi):  # open today's bills, paid from credit on hand
            if bs[j, B_OPENED] == 0 and bills[j, 0] <= day:
                bs[j, B_OPENED] = 1
                mem[L_MONEY] = pay_bill(bs, j, mem[L_MONEY], minimum)
        for j in range(b_lo, b_hi):  # a day accrues on the principal open at its start
            if bs[j, B_OPENED] == 0 or day <= bills[j, 1] or bs[j, B_PRINCIPAL] == 0:
                continue
            rate = later if day >= bills[j, 4] else same  # 跨年度: from 1 January after due
            # a kept instalment plan's pause, then a late-fee waiver's days
            paused = bills[j, 5] <= day < bills[j, 6] or day < bills[j, 7]
            if paused or waived(bills[j, 3], day, windows):
                bs[j, B_WAIVED_UNITS] += bs[j, B_PRINCIPAL] * rate
                bs[j, B_WAIVED_DAYS] += 1
            else:
                bs[j, B_UNITS] += bs[j, B_PRINCIPAL] * rate
                bs[j, B_DAYS] += 1
        while mem[L_PAY] < p_hi and pays[mem[L_PAY], 0] < day:
            mem[L_PAY] += 1
        while mem[L_PAY] < p_hi and pays[mem[L_PAY], 0] == day:
            amount = pays[mem[L_PAY], 1]
            mem[L_PAY] += 1
            for j in range(b_lo, b_hi):
                if amount == 0:
                    break
                if bs[j, B_OPENED] == 1:
                    amount = pay_bill(bs, j, amount, minimum)
            mem[L_MONEY] += amount
        arrears = 0
        for j in range(b_lo, b_hi):
            if bs[j, B_OPENED] == 1:
                if bills[j, 1] < day:
                    arrears += bs[j, B_PRINCIPAL]
                if bs[j, B_CHARGED] != NONE:
                    arrears += bs[j, B_CHARGED] - bs[j, B_FEE_PAID]
        if mem[L_STATE] == TERMINATED:
            continue
        track_episode(mem, arrears > 0)
        cut_off = mem[L_STATE] == SUSPENDED or mem[L_STATE] == DISCONNECTED
        if cut_off and arrears == 0:
            reconnect(mem, day, NONE, out, counts)
        exempts = mem[L_RELIEF] and mem[L_FLAGS] & F_EXEMPT
        if exempts:
            policy_orders(mem, day, False, False, end, ap, pol, out, counts)
        if not (exempts and reminders_paused(mem[L_AP_LO], mem[L_AP_HI], day, ap, pol)):
            for j in range(b_lo, b_hi):
                if bs[j, B_OPENED] == 1 and bs[j, B_PRINCIPAL] > 0 and bills[j, 1] + remind == day:
                    act(mem, day, A_REMIND, j, NONE, out, counts)
        if broken_today(mem[L_HOLD_LO], mem[L_HOLD_HI], day, hd):
            mem[L_NOTICE] = NONE  # a broken promise or plan: a fresh notice
        step = postpaid_step(mem, day, arrears, b_lo, b_hi, bills, bs, rule)
        if step != NONE:
            enforce(mem, day, step, arrears, False, ap, pol, hd, out, prots, counts)
    return arrears


@njit(cache=True, nogil=True)
def next_event(
    mem: Ints, day: int, b_lo: int, b_hi: int, bills: Ints, pays: Ints, p_hi: int, remind: int
) -> int:
    """The first day from `day` on with an event for a postpaid account: a bill issued or
    falling due (due+1, the reminder day) or a payment. Days before it are quiet
    (`PostpaidRun.quiet`) while the account is active and owes nothing overdue."""
    best = 2**40
    for j in range(b_lo, b_hi):
        for candidate in (bills[j, 0], bills[j, 1] + 1, bills[j, 1] + remind):
            if day <= candidate < best:
                best = candidate
    k = mem[L_PAY]
    while k < p_hi and pays[k, 0] < day:
        k += 1
    if k < p_hi and pays[k, 0] < best:
        best = pays[k, 0]
    return int(best)


@njit(cache=True, nogil=True)
def postpaid_step(
    mem: Ints, day: int, arrears: int, b_lo: int, b_hi: int, bills: Ints, bs: Ints, rule: Ints
) -> int:
    """The enforcement step the ladder calls for (`PostpaidRun.next_step`)."""
    if mem[L_STATE] == ACTIVE:
        oldest = NONE
        for j in range(b_lo, b_hi):
            if bs[j, B_OPENED] == 1 and bs[j, B_PRINCIPAL] > 0 and bills[j, 1] < day:
                oldest = j
                break
        if oldest == NONE or day - bills[oldest, 1] <= rule[R_ENFORCE_AFTER]:
            return NONE
        if rule[R_HAS_NOTICE] == 0:
            return int(rule[R_CUTOFF])
        served = mem[L_NOTICE]
        if served == NONE or day > served + rule[R_VALID]:
            return A_NOTICE
        if day - served >= rule[R_LEAD]:
            return int(rule[R_CUTOFF])
        return NONE
    if arrears > 0 and terminate_due(mem, day, rule[R_TERMINATE]):
        return A_TERMINATE
    return NONE
