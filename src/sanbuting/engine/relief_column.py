"""Account relief on the engines' frames: each account's holds, compiled against all its
payments (`engine.holds`), ride on the accounts frame as a `holds` column of structs, so that
every engine (reference, fast, Spark), every bucket and every advance from a checkpoint reads
the same items without seeing the account's whole history. `outcomes` reads them back as the
rows of `account_relief.csv`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from sanbuting.domain import Utility
from sanbuting.engine.holds import Hold, Relief, outcome, relief_of
from sanbuting.rules.schema import Ruleset

COLUMN = "holds"
"""The accounts frame's column holding each account's relief (only when there is any)."""
RELIEF_STRUCT = pl.Struct(
    {
        "hold_id": pl.String(),
        "kind": pl.String(),
        "start": pl.Date(),
        "stop": pl.Date(),
        "notice_only": pl.Boolean(),
        "kept_on": pl.Date(),
        "broken_on": pl.Date(),
        "pause_start": pl.Date(),
        "pause_end": pl.Date(),
    }
)
OUTCOME_SCHEMA = {
    "hold_id": pl.String(),
    "account_id": pl.String(),
    "kind": pl.String(),
    "outcome": pl.String(),
    "outcome_on": pl.Date(),
}


def attach(
    accounts: pl.DataFrame,
    holds: pl.DataFrame,
    payments: pl.DataFrame,
    rulesets: Mapping[Utility, Ruleset],
) -> pl.DataFrame:
    """`accounts` with a `holds` column: each account's rows of `holds` (the input's columns,
    in file order) compiled against its `payments` (every one it has: a promise counts them
    from its `from`), null for an account with none. Unchanged when `holds` is empty, so that
    a run without holds reads exactly the frames it always did."""
    if holds.is_empty():
        return accounts
    held = holds.get_column("account_id").unique().implode()
    paid: dict[str, list[tuple[date, int]]] = {}
    for account_id, day, amount in (
        payments.filter(pl.col("account_id").is_in(held))
        .select("account_id", "paid_on", "amount_fen")
        .iter_rows()
    ):
        paid.setdefault(account_id, []).append((day, amount))
    utility = dict(
        accounts.filter(pl.col("account_id").is_in(held))
        .select("account_id", "utility")
        .iter_rows()
    )
    rows: dict[str, list[Hold]] = {}
    for row in holds.iter_rows(named=True):
        if row["account_id"] in utility:
            rows.setdefault(row["account_id"], []).append(Hold.of_row(row))
    cells = {
        account_id: [
            item.row()
            for item in relief_of(
                own, paid.get(account_id, ()), rulesets[Utility(utility[account_id])].account_relief
            )
        ]
        for account_id, own in rows.items()
    }
    column = pl.DataFrame(
        {"account_id": list(cells), COLUMN: list(cells.values())},
        schema={"account_id": pl.String(), COLUMN: pl.List(RELIEF_STRUCT)},
    )
    return accounts.join(column, on="account_id", how="left", maintain_order="left")


def reliefs_in(cell: Sequence[dict[str, Any]] | None) -> tuple[Relief, ...]:
    """An account's compiled relief from its `holds` cell."""
    return tuple(Relief.of_row(row) for row in cell or ())


def outcomes(accounts: pl.DataFrame, end: date) -> pl.DataFrame:
    """`account_relief.csv`'s rows: each hold's outcome at the end of `end`, by hold id."""
    if COLUMN not in accounts.columns:
        return pl.DataFrame(schema=OUTCOME_SCHEMA)
    rows = []
    for account_id, cell in accounts.select("account_id", COLUMN).iter_rows():
        for item in reliefs_in(cell):
            result, day = outcome(item, end)
            rows.append((item.hold_id, account_id, item.kind, result, day))
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA, orient="row").sort("hold_id")
