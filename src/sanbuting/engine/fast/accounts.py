"""The fast kernel's outer loop: each account of a range, its replay before `--start` (for
postpaid), its days from `start` through `end`, and its results (`PostpaidRun.run`,
`PrepaidRun.run`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from sanbuting.engine.fast.kernel import (
    F_CREDIT,
    F_DEFER,
    F_EXEMPT,
    L_ACCOUNT,
    L_ANY,
    L_AP_HI,
    L_AP_LO,
    L_ARREARS,
    L_CUTOFF,
    L_DAYS,
    L_FLAGS,
    L_HOLD_HI,
    L_HOLD_LO,
    L_LOW_ARMED,
    L_MONEY,
    L_NOTICE,
    L_PAY,
    L_RECORDING,
    L_RELIEF,
    L_RUN_START,
    L_SIZE,
    L_STATE,
    L_USE,
    L_WAIT,
)
from sanbuting.engine.fast.layout import (
    B_CHARGED,
    B_DAYS,
    B_PRINCIPAL,
    B_WAIVED_DAYS,
    B_WAIVED_UNITS,
    DISCONNECTED,
    E_DEFER,
    E_EXEMPT,
    NONE,
    P_EFFECT,
    R_LOW,
    R_MINIMUM,
    S_ANY_EVENT,
    S_ARREARS,
    S_BALANCE,
    S_PROTECTED_ARREARS,
    S_PROTECTED_DAYS,
    S_STATE,
    SUSPENDED,
)
from sanbuting.engine.fast.postpaid import fee_fen, postpaid_days
from sanbuting.engine.fast.prepaid import prepaid_days

Ints = npt.NDArray[np.int64]
HALF, UNITS = 500_000, 1_000_000

# Account columns of `acc`.
C_UTILITY, C_CLASS, C_PREPAID, C_STATE, C_BALANCE, C_CREDIT_LIMIT, C_GUARANTEES = range(7)
ACCOUNT_COLUMNS = 7


@njit(cache=True, nogil=True)
def run_range(
    lo: int,
    hi: int,
    start: int,
    end: int,
    acc: Ints,
    b_off: Ints,
    bills: Ints,
    windows: Ints,
    p_off: Ints,
    pays: Ints,
    u_off: Ints,
    usage: Ints,
    ap_off: Ints,
    ap: Ints,
    pol: Ints,
    h_off: Ints,
    hd: Ints,
    rules: Ints,
    bs: Ints,
    fees: Ints,
    states: Ints,
    mems: Ints,
    resume: bool,
    out: Ints,
    prots: Ints,
    counts: Ints,
) -> None:
    """Run accounts `lo` to `hi - 1` from `start` through `end`; rows go to `out` and
    `prots` from `counts`. Each account's ladder memory is kept in `mems` (and its bills'
    money in `bs`), so that a later call with `resume` continues from the day after `end`
    exactly as one longer run would."""
    mem = np.empty(L_SIZE, dtype=np.int64)
    for i in range(lo, hi):
        rule = rules[acc[i, C_UTILITY]]
        b_lo, b_hi, p_lo, p_hi = b_off[i], b_off[i + 1], p_off[i], p_off[i + 1]
        prepaid = acc[i, C_PREPAID] == 1
        if resume:
            mem[:] = mems[i]
        else:
            mem[:] = 0
            mem[L_ACCOUNT], mem[L_CUTOFF], mem[L_NOTICE], mem[L_WAIT] = i, NONE, NONE, NONE
            mem[L_AP_LO], mem[L_AP_HI] = ap_off[i], ap_off[i + 1]
            mem[L_HOLD_LO], mem[L_HOLD_HI] = h_off[i], h_off[i + 1]
            for k in range(ap_off[i], ap_off[i + 1]):
                effect = pol[ap[k, 0], P_EFFECT]
                mem[L_FLAGS] |= (
                    F_EXEMPT if effect == E_EXEMPT else (F_DEFER if effect == E_DEFER else F_CREDIT)
                )
            mem[L_STATE] = acc[i, C_STATE]
            mem[L_PAY], mem[L_USE] = p_lo, u_off[i]
            for j in range(b_lo, b_hi):
                bs[j, :] = 0
                bs[j, B_PRINCIPAL], bs[j, B_CHARGED] = bills[j, 2], NONE
            cut_off_input = acc[i, C_STATE] == SUSPENDED or acc[i, C_STATE] == DISCONNECTED
            if prepaid:
                mem[L_CUTOFF] = start if cut_off_input else NONE
                mem[L_MONEY] = acc[i, C_BALANCE]
                mem[L_LOW_ARMED] = 1 if acc[i, C_BALANCE] >= rule[R_LOW] else 0
            else:
                first = start
                for j in range(b_lo, b_hi):
                    first = min(first, bills[j, 0])
                for k in range(p_lo, p_hi):
                    first = min(first, pays[k, 0])
                postpaid_days(
                    mem,
                    first,
                    start,
                    b_lo,
                    b_hi,
                    bills,
                    bs,
                    windows,
                    pays,
                    p_hi,
                    rule,
                    acc[i, C_CLASS],
                    end,
                    ap,
                    pol,
                    hd,
                    out,
                    prots,
                    counts,
                )
                replay_cut_off = mem[L_STATE] == SUSPENDED or mem[L_STATE] == DISCONNECTED
                known = mem[L_CUTOFF] if replay_cut_off else NONE
                mem[L_CUTOFF] = (known if known != NONE else start) if cut_off_input else NONE
                mem[L_STATE], mem[L_MONEY] = acc[i, C_STATE], acc[i, C_BALANCE]
            mem[L_RECORDING], mem[L_RELIEF], mem[L_RUN_START] = 1, 1, start
        if prepaid:
            prepaid_days(
                mem,
                start,
                pays,
                p_lo,
                p_hi,
                usage,
                u_off[i],
                u_off[i + 1],
                rule,
                acc[i, C_CREDIT_LIMIT],
                acc[i, C_GUARANTEES] == 1,
                end,
                ap,
                pol,
                hd,
                out,
                prots,
                counts,
            )
            balance = mem[L_MONEY]
            states[i, S_BALANCE], states[i, S_ARREARS] = balance, max(0, -balance)
        else:
            arrears = postpaid_days(
                mem,
                start,
                end + 1,
                b_lo,
                b_hi,
                bills,
                bs,
                windows,
                pays,
                p_hi,
                rule,
                acc[i, C_CLASS],
                end,
                ap,
                pol,
                hd,
                out,
                prots,
                counts,
            )
            states[i, S_BALANCE], states[i, S_ARREARS] = mem[L_MONEY], arrears
            for j in range(b_lo, b_hi):
                accrued = fee_fen(bs, j, rule[R_MINIMUM], False)
                fees[j, 0] = accrued
                fees[j, 1] = (bs[j, B_WAIVED_UNITS] + HALF) // UNITS
                fees[j, 2] = accrued if bs[j, B_CHARGED] != NONE else 0
                fees[j, 3], fees[j, 4] = bs[j, B_DAYS], bs[j, B_WAIVED_DAYS]
        states[i, S_STATE] = mem[L_STATE]
        states[i, S_PROTECTED_DAYS] = mem[L_DAYS]
        states[i, S_PROTECTED_ARREARS] = mem[L_ARREARS]
        states[i, S_ANY_EVENT] = mem[L_ANY]
        mems[i, :] = mem
