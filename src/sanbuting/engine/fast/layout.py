"""The fast engine's array layout: codes for utilities, states and actions, and the columns of
the small integer tables the kernel reads (rules, policies) and writes (actions, protections,
bill and account results). Days are int32 days since 1970-01-01, as Polars stores dates.
"""

from __future__ import annotations

from datetime import date

from sanbuting.domain import AccountState, Action, CustomerClass, Utility
from sanbuting.policy.model import Effect

UTILITIES = (Utility.POWER, Utility.TELECOM, Utility.GAS)
CLASSES = (CustomerClass.RESIDENTIAL, CustomerClass.NON_RESIDENTIAL)
STATES = (
    AccountState.ACTIVE,
    AccountState.SUSPENDED,
    AccountState.DISCONNECTED,
    AccountState.TERMINATED,
)
ACTIVE, SUSPENDED, DISCONNECTED, TERMINATED = range(4)
ACTIONS = tuple(Action)
"""Action codes are positions in `Action`: the order a day decides them."""
(
    A_RECONNECT,
    A_GUARANTEE_ON,
    A_GUARANTEE_OFF,
    A_REMIND,
    A_LOW_BALANCE,
    A_NOTICE,
    A_SUSPEND,
    A_DISCONNECT,
    A_TERMINATE,
) = range(len(ACTIONS))
assert ACTIONS[A_TERMINATE] is Action.TERMINATE and ACTIONS[A_RECONNECT] is Action.RECONNECT

EFFECTS = (Effect.EXEMPT, Effect.DEFER, Effect.WAIVE_LATE_FEE, Effect.EMERGENCY_CREDIT)
E_EXEMPT, E_DEFER, E_WAIVE, E_CREDIT = range(4)
KIND_EXEMPT, KIND_DEFER, KIND_HOLD = 0, 1, 2
"""Protection kinds; account relief is KIND_HOLD plus its place in `engine.holds.KINDS`."""
PROTECTION_KINDS = ("exempt", "defer", "hold", "promise", "instalments")
NONE = -1
EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    return (day - EPOCH).days


"""No day, no bill, no policy."""

# Rules: one row per utility.
(
    R_REMIND,
    R_ENFORCE_AFTER,
    R_HAS_NOTICE,
    R_LEAD,
    R_VALID,
    R_CUTOFF,
    R_TERMINATE,
    R_LOW,
    R_AT_OR_BELOW,
    R_PRE_HAS_NOTICE,
    R_GRACE,
    R_PRE_CUTOFF,
    R_SELF_ENFORCING,
    R_PRE_TERMINATE,
    R_MINIMUM,
    R_RES_SAME,
    R_RES_LATER,
    R_NON_SAME,
    R_NON_LATER,
) = range(19)
RULE_COLUMNS = 19

# Policies: one row per policy, in file order (the row is the policy's rank).
(P_EFFECT, P_START, P_END, P_PAUSE, P_RECONNECT, P_DEFER_DAYS, P_DEFER_UNTIL, P_CREDIT) = range(8)
POLICY_COLUMNS = 8
MAX_POLICIES = 62
"""Defers used and events written per episode are bit sets over policy ranks."""

# Written rows.
ACTION_COLUMNS = 5  # account, day, action, bill, policy
PROTECTION_COLUMNS = 6  # account, day, policy, kind, action, deferred_to

# Per bill, during and after the run.
(B_PRINCIPAL, B_UNITS, B_WAIVED_UNITS, B_DAYS, B_WAIVED_DAYS, B_CHARGED, B_FEE_PAID, B_OPENED) = (
    range(8)
)
BILL_COLUMNS = 8

# Per account, after the run.
S_STATE, S_BALANCE, S_ARREARS, S_PROTECTED_DAYS, S_PROTECTED_ARREARS, S_ANY_EVENT = range(6)
STATE_COLUMNS = 6
