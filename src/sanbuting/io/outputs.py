"""Writing a run's output folder: `actions.csv`, `protections.csv`, `late_fees.csv`,
`states.csv` and `summary.json`, byte-identical for identical inputs (fixed column order,
sorted rows, `\\n` line ends, UTF-8, ISO dates, empty cells for absent values, a header even
when a file has no rows). Every engine's frames go through this one writer; a stored run's
tables are written in sorted chunks, with the same bytes.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl

from sanbuting.engine.frames import SORT_KEYS, RunTables, StoredRunFrames, sort_table
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
RELIEF_HEADER = ("hold_id", "account_id", "kind", "outcome", "outcome_on")
RELIEF_FILE = "account_relief.csv"


CHUNK_ROWS = 2_000_000
"""A stored run's files are written in sorted chunks of about this many rows."""
FILES = (
    ("actions", ACTIONS_HEADER, "actions.csv"),
    ("protections", PROTECTIONS_HEADER, "protections.csv"),
    ("fees", FEES_HEADER, "late_fees.csv"),
    ("states", STATES_HEADER, "states.csv"),
)


def _as_text(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    text = [pl.col(name).cast(pl.String) for name in columns]
    return frame.select(
        pl.when(c != "").then(c).alias(name) for c, name in zip(text, columns, strict=True)
    )


def write_frame(frame: pl.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    """Write `columns` of `frame` as the contract's CSV."""
    _as_text(frame, columns).write_csv(
        path, line_terminator="\n", quote_style="necessary", null_value=""
    )


def _bounds(lazy: pl.LazyFrame, key: str, rows: int) -> list[Any]:
    """Values of the leading sort key that cut the table into chunks of about CHUNK_ROWS."""
    chunks = -(-rows // CHUNK_ROWS)
    if chunks <= 1:
        return []
    sample = (
        lazy.select(pl.col(key))
        .gather_every(max(1, rows // (chunks * 16)))
        .collect()
        .get_column(key)
        .unique()
        .sort()
    )
    step = max(1, sample.len() // chunks)
    return sample.gather(list(range(step, sample.len(), step))).to_list()


def write_stored(frames: StoredRunFrames, name: str, columns: tuple[str, ...], path: Path) -> None:
    """Write one table of a stored run in sorted chunks by its leading key, so that only a
    chunk is held; the bytes are those of writing the whole sorted table at once."""
    lazy = frames.lazy(name)
    rows = frames.height(name)
    key = SORT_KEYS[name][0]
    bounds = _bounds(lazy, key, rows)
    edges: list[pl.Expr] = []
    if not bounds:
        edges = [pl.lit(value=True)]
    else:
        edges.append(pl.col(key) < bounds[0])
        edges += [(pl.col(key) >= lo) & (pl.col(key) < hi) for lo, hi in pairwise(bounds)]
        edges.append(pl.col(key) >= bounds[-1])
    with path.open("wb") as handle:
        for number, edge in enumerate(edges):
            chunk = sort_table(name, lazy.filter(edge).collect())
            _as_text(chunk, columns).write_csv(
                handle,
                include_header=number == 0,
                line_terminator="\n",
                quote_style="necessary",
                null_value="",
            )


def write_outputs(
    out: Path,
    frames: RunTables,
    summary: dict[str, object],
    relief: pl.DataFrame | None = None,
) -> None:
    """Write the contract's output folder `out` (created if needed), and
    `account_relief.csv` when the run had a `holds` input (`relief`, docs/account-relief.md)."""
    out.mkdir(parents=True, exist_ok=True)
    if relief is not None:
        write_frame(relief.sort("hold_id"), RELIEF_HEADER, out / RELIEF_FILE)
    for name, columns, file in FILES:
        if isinstance(frames, StoredRunFrames):
            write_stored(frames, name, columns, out / file)
        else:
            write_frame(getattr(frames, name), columns, out / file)
    (out / "summary.json").write_text(summary_json(summary), encoding="utf-8")
