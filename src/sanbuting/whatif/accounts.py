"""The accounts whose actions a what-if changes: day by day inside the window, what the daily run
would do with the policies in force (`before`) and with the uploaded set in place (`after`).

Two runs' actions are compared per account and day: a change is an (account, day) whose list
of actions differs (an empty list: nothing happens that day). The policy that made the
difference is, in this order:

1. the relief policies of the protection events (免停, 缓停) of that account and day that one
   run has and the other has not, with the policy ids carried by the actions that differ (a
   policy's reconnection);
2. else those of the account's latest earlier day inside the window with such a protection
   event (a notice prevented on 01-20 is why no cut-off comes on 01-23);
3. else the policies the file adds, removes or changes whose scope covers the account (a
   late-fee waiver that keeps arrears under a threshold).

Rows come by company, then account, then day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from sanbuting.engine.fast.prepare import scope_expr
from sanbuting.engine.frames import RunTables
from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.policy import Policy

NOTHING = "—"
"""How a day without an action is written."""


@dataclass(frozen=True)
class AccountChange:
    """One account's day whose actions differ between the two runs."""

    company: str
    account_id: str
    day: date
    before: tuple[str, ...]
    """The actions with the policies in force, in the order a day decides them."""
    after: tuple[str, ...]
    """The actions with the uploaded set in place."""
    policies: tuple[str, ...]
    """The policy ids that made the difference (see the module docstring)."""

    @property
    def before_text(self) -> str:
        return "+".join(self.before) or NOTHING

    @property
    def after_text(self) -> str:
        return "+".join(self.after) or NOTHING

    @property
    def policies_text(self) -> str:
        return ",".join(self.policies)


def account_changes(
    *,
    company: str,
    without: RunTables,
    with_new: RunTables,
    accounts: pl.DataFrame,
    changed: Sequence[Policy],
    first: date,
    last: date,
) -> list[AccountChange]:
    """The changed (account, day)s of `company` from `first` through `last` (see the module
    docstring); `accounts` is the run's accounts frame, `changed` the policies the file adds,
    removes or changes (old and new)."""
    before, after = _actions(without, first, last), _actions(with_new, first, last)
    keys = ["account_id", "date"]
    joined = before.join(after, on=keys, how="full", coalesce=True, suffix="_after")
    empty = pl.lit([], dtype=pl.List(pl.String))
    differing = (
        joined.with_columns(
            pl.col("actions").fill_null(empty), pl.col("actions_after").fill_null(empty)
        )
        .filter(pl.col("actions") != pl.col("actions_after"))
        .sort(keys)
    )
    if differing.height == 0:
        return []
    why = _protections(without, with_new, first, last, keys)
    why_by_account: dict[str, list[tuple[date, tuple[str, ...]]]] = defaultdict(list)
    for account_id, day, ids in why.iter_rows():
        why_by_account[account_id].append((day, tuple(ids)))
    covering = _covering(accounts, differing["account_id"].unique(), changed)
    found = []
    for account_id, day, was, now in differing.iter_rows():
        found.append(
            AccountChange(
                company,
                account_id,
                day,
                tuple(was),
                tuple(now),
                _why(why_by_account.get(account_id, []), day) or covering.get(account_id, ()),
            )
        )
    return found


def _actions(result: RunTables, first: date, last: date) -> pl.DataFrame:
    """Each (account, day) inside the window with its actions, in the order a day decides
    them (the action enum's order)."""
    return (
        result.actions.filter(pl.col("date").is_between(first, last))
        .sort("account_id", "date", "action")
        .group_by("account_id", "date", maintain_order=True)
        .agg(pl.col("action").cast(pl.String).alias("actions"))
    )


def _protections(
    without: RunTables, with_new: RunTables, first: date, last: date, keys: list[str]
) -> pl.DataFrame:
    """Per (account, day): the policy ids of the protection events and actions one run has and
    the other has not, each id once, in order."""

    def events(result: RunTables) -> pl.DataFrame:
        return result.protections.filter(
            pl.col("date").is_between(first, last), pl.col("kind").is_in(sorted(POLICY_KINDS))
        ).select(*keys, "policy_id", pl.col("kind"))

    def acted(result: RunTables) -> pl.DataFrame:
        return result.actions.filter(
            pl.col("date").is_between(first, last), pl.col("policy_id").fill_null("") != ""
        ).select(*keys, "policy_id", pl.col("action").cast(pl.String).alias("kind"))

    columns = [*keys, "policy_id", "kind"]
    sides = []
    for mine, theirs in ((events(without), events(with_new)), (acted(without), acted(with_new))):
        sides += [
            mine.join(theirs, on=columns, how="anti"),
            theirs.join(mine, on=columns, how="anti"),
        ]
    return (
        pl.concat(sides)
        .select(*keys, "policy_id")
        .unique(maintain_order=True)
        .sort(keys, maintain_order=True)
        .group_by(keys, maintain_order=True)
        .agg(pl.col("policy_id").unique(maintain_order=True))
    )


def _why(days: list[tuple[date, tuple[str, ...]]], day: date) -> tuple[str, ...]:
    """The policies of `day`'s differing events, else of the latest earlier day's."""
    earlier = [ids for on, ids in days if on <= day]
    return earlier[-1] if earlier else ()


def _covering(
    accounts: pl.DataFrame, ids: pl.Series, changed: Sequence[Policy]
) -> dict[str, tuple[str, ...]]:
    """Per account: the changed policies whose scope covers it, each id once, in order."""
    if not changed:
        return {}
    chosen = accounts.filter(pl.col("account_id").is_in(ids.implode()))
    covered: dict[str, list[str]] = defaultdict(list)
    for policy in changed:
        for account_id in chosen.filter(scope_expr(policy.scope))["account_id"]:
            if policy.id not in covered[account_id]:
                covered[account_id].append(policy.id)
    return {k: tuple(v) for k, v in covered.items()}
