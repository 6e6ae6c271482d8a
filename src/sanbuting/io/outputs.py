"""Writing a run's output folder: `actions.csv`, `protections.csv`, `late_fees.csv`,
`states.csv` and `summary.json`, byte-identical for identical inputs (fixed column order,
sorted rows, `\\n` line ends, UTF-8, a header even when a file has no rows).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from sanbuting.engine.simulate import RunResult
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


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_outputs(out: Path, result: RunResult, summary: dict[str, object]) -> None:
    """Write the contract's output folder `out` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(
        out / "actions.csv",
        ACTIONS_HEADER,
        (
            (r.date.isoformat(), r.account_id, r.action.value, r.step, r.bill_id, r.policy_id)
            for r in result.actions
        ),
    )
    write_csv(
        out / "protections.csv",
        PROTECTIONS_HEADER,
        (
            (
                r.date.isoformat(),
                r.account_id,
                r.policy_id,
                r.kind,
                r.prevented_action.value,
                r.deferred_to.isoformat() if r.deferred_to else "",
            )
            for r in result.protections
        ),
    )
    write_csv(
        out / "late_fees.csv",
        FEES_HEADER,
        (
            (
                r.bill_id,
                r.account_id,
                r.accrued_fen,
                r.waived_fen,
                r.charged_fen,
                r.days,
                r.waived_days,
            )
            for r in result.fees
        ),
    )
    write_csv(
        out / "states.csv",
        STATES_HEADER,
        ((r.account_id, r.state.value, r.balance_fen, r.arrears_fen) for r in result.states),
    )
    (out / "summary.json").write_text(summary_json(summary), encoding="utf-8")
