"""From the fast kernel's arrays back to the run's frames (`engine.frames.RunFrames`), with
the same values, types and sort keys the reference engine's rows give.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from sanbuting.domain import Action, Utility
from sanbuting.engine.fast import layout as lay
from sanbuting.engine.fast.prepare import Arrays
from sanbuting.engine.frames import (
    ACCOUNTS_SCHEMA,
    ACTION_RANK,
    FEES_SCHEMA,
    PROTECTED_SCHEMA,
    STATES_SCHEMA,
    RunFrames,
)
from sanbuting.rules.schema import Ruleset

Ints = npt.NDArray[np.int64]


def _text(values: list[str], codes: Ints) -> pl.Series:
    """`values[code]` for each code, "" where the code is NONE."""
    table = pl.Series([*values, ""], dtype=pl.String)
    return table.gather(np.where(codes == lay.NONE, len(values), codes))


def _gathered(values: pl.Series, codes: Ints) -> pl.Series:
    """`values[code]` for each code, "" where the code is NONE (for long value lists)."""
    if len(values) == 0:
        return pl.Series([""] * len(codes), dtype=pl.String)
    picked = values.gather(np.where(codes == lay.NONE, 0, codes))
    return picked.set(pl.Series(codes == lay.NONE), "")


def _dates(days: Ints) -> pl.Series:
    return pl.Series(days, dtype=pl.Int32).cast(pl.Date)


def step_names(rulesets: dict[Utility, Ruleset]) -> list[str]:
    """The step name of each (utility, prepaid, action) key, flattened: the action's name
    except where a ruleset names its cut-off otherwise (IC-card gas: meter_closed)."""
    names = []
    for utility in lay.UTILITIES:
        for mode in (rulesets[utility].postpaid, rulesets[utility].prepaid):
            for action in lay.ACTIONS:
                names.append(mode.cutoff.step if action is mode.cutoff.action else action.value)
    return names


def collect(
    arrays: Arrays,
    rulesets: dict[Utility, Ruleset],
    actions: Ints,
    prots: Ints,
    fees: Ints,
    states: Ints,
    *,
    snapshot: bool = True,
) -> RunFrames:
    """The rows decided, and (with `snapshot`) the fees, states and protection figures as of
    the last day; without it those tables are left empty, for a day whose decisions alone are
    wanted."""
    ids, policy_ids = arrays.account_ids, arrays.policy_ids
    n_actions = len(lay.ACTIONS)
    acct = actions[:, 0]
    key = (arrays.acc[acct, 0] * 2 + arrays.acc[acct, 2]) * n_actions + actions[:, 2]
    action_frame = pl.DataFrame(
        {
            "date": _dates(actions[:, 1]),
            "account_id": ids.gather(acct),
            "action": _text([a.value for a in Action], actions[:, 2]).cast(ACTION_RANK),
            "step": _text(step_names(rulesets), key),
            "bill_id": _gathered(arrays.bill_ids, actions[:, 3]),
            "policy_id": _text(policy_ids, actions[:, 4]),
            "policy_rank": pl.Series(actions[:, 4], dtype=pl.Int32),
        }
    )
    deferred = prots[:, 5]
    named = np.where(prots[:, 3] >= lay.KIND_HOLD, len(policy_ids) + prots[:, 2], prots[:, 2])
    protections = pl.DataFrame(
        {
            "date": _dates(prots[:, 1]),
            "account_id": ids.gather(prots[:, 0]),
            "policy_id": _text([*policy_ids, *arrays.hold_ids], named),
            "kind": _text(list(lay.PROTECTION_KINDS), prots[:, 3]),
            "prevented_action": _text([a.value for a in Action], prots[:, 4]).cast(ACTION_RANK),
            "deferred_to": _dates(np.where(deferred == lay.NONE, 0, deferred)).set(
                pl.Series(deferred == lay.NONE), None
            ),
        }
    )
    if not snapshot:
        empty = [
            pl.DataFrame(schema=schema)
            for schema in (FEES_SCHEMA, STATES_SCHEMA, PROTECTED_SCHEMA, ACCOUNTS_SCHEMA)
        ]
        return RunFrames(action_frame, protections, *empty).sorted()
    postpaid_bills = arrays.acc[arrays.bill_accounts, 2] == 0
    fee_frame = pl.DataFrame(
        {
            "bill_id": arrays.bill_ids,
            "account_id": ids.gather(arrays.bill_accounts),
            "accrued_fen": fees[:, 0],
            "waived_fen": fees[:, 1],
            "charged_fen": fees[:, 2],
            "days": fees[:, 3],
            "waived_days": fees[:, 4],
        },
        schema=FEES_SCHEMA,
    ).filter(pl.Series(postpaid_bills))
    state_frame = pl.DataFrame(
        {
            "account_id": ids,
            "state": _text([s.value for s in lay.STATES], states[:, lay.S_STATE]),
            "balance_fen": states[:, lay.S_BALANCE],
            "arrears_fen": states[:, lay.S_ARREARS],
        },
        schema=STATES_SCHEMA,
    )
    protected = np.nonzero(states[:, lay.S_ANY_EVENT])[0]
    protected_frame = pl.DataFrame(
        {
            "account_id": ids.gather(protected),
            "days": states[protected, lay.S_PROTECTED_DAYS],
            "arrears_fen": states[protected, lay.S_PROTECTED_ARREARS],
        },
        schema=PROTECTED_SCHEMA,
    )
    account_frame = arrays.accounts.select(ACCOUNTS_SCHEMA.keys())
    return RunFrames(
        action_frame, protections, fee_frame, state_frame, protected_frame, account_frame
    ).sorted()
