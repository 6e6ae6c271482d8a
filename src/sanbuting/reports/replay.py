"""The run again, for the accounts the roll-up must split by day: the protected accounts and
those with waived late fees.

A run's output folder gives each protection event and each reconnection a date, but its
account-days, its protected arrears and its waived late fees only as totals (`summary.json`)
or as of the last day (`late_fees.csv`). Accounts are independent and a day's decisions never
depend on later days, so running the same engine over only these accounts, with the same
inputs and policies, through each cut-off day gives each account's account-days and waived
fees *through* that day; the differences between cut-offs are the figures of each stretch
(a week, a `--from`/`--to` range), and they add up to the run's totals exactly. The replay
through the run's last day must give the summary's totals, or the inputs, policies or
rulesets are not the run's: that is an error, never a silently different report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from sanbuting.domain import Utility
from sanbuting.engine.registry import Options, engine_named
from sanbuting.engine.relief_column import attach
from sanbuting.errors import SanbutingError
from sanbuting.io.readers import Inputs
from sanbuting.policy import Policy
from sanbuting.rules.schema import Ruleset

THROUGH_SCHEMA = {
    "account_id": pl.String,
    "through": pl.Date,
    "days": pl.Int64,
    "waived_fen": pl.Int64,
}
ARREARS_SCHEMA = {"account_id": pl.String, "arrears_fen": pl.Int64}


@dataclass(frozen=True)
class Replayed:
    """Per account and cut-off: account-days and waived fees through that day (cumulative);
    per protected account: its arrears on the day of its first protection event."""

    through: pl.DataFrame
    arrears: pl.DataFrame


def replay(
    inputs: Inputs,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    *,
    start: date,
    cutoffs: Sequence[date],
    accounts: Sequence[str],
) -> Replayed:
    """Run the fast engine over `accounts` from `start` through each of `cutoffs` (the last
    is the run's last day)."""
    if not accounts or not cutoffs:
        return Replayed(pl.DataFrame(schema=THROUGH_SCHEMA), pl.DataFrame(schema=ARREARS_SCHEMA))
    wanted = pl.Series("account_id", sorted(set(accounts)), dtype=pl.String).implode()

    def mine(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("account_id").is_in(wanted))

    payments = mine(inputs.payments)
    held = attach(mine(inputs.accounts), mine(inputs.holds), payments, rulesets)
    frames = (held, mine(inputs.bills), payments, mine(inputs.usage))
    engine = engine_named("fast")
    parts: list[pl.DataFrame] = []
    arrears = pl.DataFrame(schema=ARREARS_SCHEMA)
    for through in sorted(set(cutoffs)):
        tables = engine.run(frames, policies, rulesets, start, through, Options())
        days = tables.protected.select("account_id", "days")
        waived = tables.fees.group_by("account_id").agg(pl.col("waived_fen").sum())
        parts.append(
            days.join(waived, on="account_id", how="full", coalesce=True)
            .with_columns(pl.lit(through).alias("through"))
            .select(
                pl.col("account_id"),
                pl.col("through"),
                pl.col("days").fill_null(0).cast(pl.Int64),
                pl.col("waived_fen").fill_null(0).cast(pl.Int64),
            )
        )
        arrears = tables.protected.select("account_id", pl.col("arrears_fen").cast(pl.Int64))
    return Replayed(pl.concat(parts, how="vertical"), arrears)


def check_replay(replayed: Replayed, last: date, summary: dict[str, Any]) -> None:
    """The replay through the run's last day gives the summary's totals, or an error."""
    final = replayed.through.filter(pl.col("through") == last)
    got = {
        "protected_account_days": int(final.get_column("days").sum()),
        "waived_fen": int(final.get_column("waived_fen").sum()),
        "protected_arrears_fen": int(replayed.arrears.get_column("arrears_fen").sum()),
    }
    wrong = [key for key, value in got.items() if value != int(summary.get(key, 0))]
    if wrong:
        raise SanbutingError(
            f"the protected accounts run again do not give the run's {wrong[0]} "
            f"({got[wrong[0]]}, not {summary.get(wrong[0])}): give the run's own --policies "
            "and --ruleset"
        )


def stretches(through: pl.DataFrame) -> pl.DataFrame:
    """Cumulative figures per account and cut-off turned into each stretch's own:
    `account_id, day` (the stretch's last day), `account_days`, `waived_fen`."""
    if through.is_empty():
        return pl.DataFrame(
            schema={
                "account_id": pl.String,
                "day": pl.Date,
                "account_days": pl.Int64,
                "waived_fen": pl.Int64,
            }
        )
    cutoffs = through.select(pl.col("through").unique().sort())
    grid = through.select("account_id").unique().join(cutoffs, how="cross")
    full = (
        grid.join(through, on=["account_id", "through"], how="left")
        .with_columns(pl.col("days", "waived_fen").fill_null(0))
        .sort("account_id", "through")
    )
    return full.select(
        pl.col("account_id"),
        pl.col("through").alias("day"),
        (pl.col("days") - pl.col("days").shift(1, fill_value=0).over("account_id")).alias(
            "account_days"
        ),
        (
            pl.col("waived_fen") - pl.col("waived_fen").shift(1, fill_value=0).over("account_id")
        ).alias("waived_fen"),
    ).filter((pl.col("account_days") != 0) | (pl.col("waived_fen") != 0))
