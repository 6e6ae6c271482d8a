"""Writing a run's output folder: `actions.csv`, `protections.csv`, `late_fees.csv`,
`states.csv` and `summary.json`, byte-identical for identical inputs (fixed column order,
sorted rows, `\\n` line ends, UTF-8, ISO dates, empty cells for absent values, a header even
when a file has no rows). Every engine's frames go through this one writer.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sanbuting.engine.frames import RunTables
from sanbuting.engine.summary import summary_json

ACTIONS_HEADER = ("date", "account_id", "action", "step", "bill_id", "policy_id")
PROTECTIONS_HEADER = ("date", "account_id", "policy_id", "kind", "prevented_action", "deferred_to")
FEES_HEADER = (
    "bill_id",
    "account_id",
    "accrued_fen",
    "waived_fen",
    "charged_fen",
    "days",
    "waived_days",
)
STATES_HEADER = ("account_id", "state", "balance_fen", "arrears_fen")


def write_frame(frame: pl.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    """Write `columns` of `frame` as the contract's CSV."""
    text = [pl.col(name).cast(pl.String) for name in columns]
    empty_as_null = [
        pl.when(c != "").then(c).alias(name) for c, name in zip(text, columns, strict=True)
    ]
    frame.select(empty_as_null).write_csv(
        path, line_terminator="\n", quote_style="necessary", null_value=""
    )


def write_outputs(out: Path, frames: RunTables, summary: dict[str, object]) -> None:
    """Write the contract's output folder `out` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    write_frame(frames.actions, ACTIONS_HEADER, out / "actions.csv")
    write_frame(frames.protections, PROTECTIONS_HEADER, out / "protections.csv")
    write_frame(frames.fees, FEES_HEADER, out / "late_fees.csv")
    write_frame(frames.states, STATES_HEADER, out / "states.csv")
    (out / "summary.json").write_text(summary_json(summary), encoding="utf-8")
