"""The fast engine's kernel: the reference engine's day, compiled with Numba over arrays.

It is a line-by-line transcription of `engine.reference`, `engine.billbook` and
`engine.ladder`, one account at a time, so that the two give the same rows; the property test
holds them equal. Per account, `mem` holds the ladder's memory (the columns below); per bill,
`bs` the running money (`layout.B_*`). Rows are written to `actions` and `protections` from
`counts`; a full buffer is reported by counts beyond its length, and the caller runs again
with more room.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from sanbuting.engine.fast.layout import (
    A_GUARANTEE_OFF,
    A_GUARANTEE_ON,
    A_LOW_BALANCE,
    A_NOTICE,
    A_RECONNECT,
    A_REMIND,
    A_SUSPEND,
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
    E_EXEMPT,
    KIND_DEFER,
    KIND_EXEMPT,
    NONE,
    P_EFFECT,
    P_END,
    P_START,
    R_AT_OR_BELOW,
    R_CUTOFF,
    R_ENFORCE_AFTER,
    R_GRACE,
    R_HAS_NOTICE,
    R_LEAD,
    R_LOW,
    R_MINIMUM,
    R_NON_LATER,
    R_NON_SAME,
    R_PRE_CUTOFF,
    R_PRE_HAS_NOTICE,
    R_PRE_TERMINATE,
    R_REMIND,
    R_RES_LATER,
    R_RES_SAME,
    R_SELF_ENFORCING,
    R_TERMINATE,
    R_VALID,
    SUSPENDED,
    TERMINATED,
)
from sanbuting.engine.fast.relief import (
    credit_on,
    defer_move,
    exempt_on,
    reconnecting_exempt,
    reminders_paused,
    waived,
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
) = range(21)
L_SIZE = 21
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
    out: Ints,
    prots: Ints,
    counts: Ints,
) -> None:
    """The relief gate (`ladder.Gate.enforce`), then the step."""
    if not unstoppable and mem[L_RELIEF]:
        lo, hi = mem[L_AP_LO], mem[L_AP_HI]
        exempt = exempt_on(lo, hi, day, ap, pol) if mem[L_FLAGS] & F_EXEMPT else NONE
        if exempt != NONE:
            protect(mem, day, exempt, KIND_EXEMPT, action, NONE, arrears, prots, counts)
            return
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
            if waived(bills[j, 3], day, windows):
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
        step = postpaid_step(mem, day, arrears, b_lo, b_hi, bills, bs, rule)
        if step != NONE:
            enforce(mem, day, step, arrears, False, ap, pol, out, prots, counts)
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


@njit(cache=True, nogil=True)
def terminate_due(mem: Ints, day: int, after: int) -> bool:
    cut_off = mem[L_STATE] == SUSPENDED or mem[L_STATE] == DISCONNECTED
    return cut_off and after != NONE and mem[L_CUTOFF] != NONE and day >= mem[L_CUTOFF] + after


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
            enforce(mem, day, step, max(0, -balance), unstoppable, ap, pol, out, prots, counts)
