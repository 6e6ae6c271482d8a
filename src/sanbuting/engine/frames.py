"""A run's results as frames: the one shape every engine hands over, from which the output
folder is written and the summary counted, so that engines can only differ in what they
decided, never in how it is written.

Columns are the contract's, plus `rank` columns that order the rows of one day (the order
in which a day decides actions; a policy's file order) and are not written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

from sanbuting.domain import ACTION_ORDER, Action
from sanbuting.engine.simulate import RunResult

ACTION_RANK = pl.Enum([a.value for a in sorted(Action, key=ACTION_ORDER.__getitem__)])
"""Actions as an enum in the order one day decides them: sorting by it sorts by that order."""

ACTIONS_SCHEMA = {
    "date": pl.Date(),
    "account_id": pl.String(),
    "action": ACTION_RANK,
    "step": pl.String(),
    "bill_id": pl.String(),
    "policy_id": pl.String(),
    "policy_rank": pl.Int32(),
}
PROTECTIONS_SCHEMA = {
    "date": pl.Date(),
    "account_id": pl.String(),
    "policy_id": pl.String(),
    "kind": pl.String(),
    "prevented_action": ACTION_RANK,
    "deferred_to": pl.Date(),
}
FEES_SCHEMA = {
    "bill_id": pl.String(),
    "account_id": pl.String(),
    "accrued_fen": pl.Int64(),
    "waived_fen": pl.Int64(),
    "charged_fen": pl.Int64(),
    "days": pl.Int64(),
    "waived_days": pl.Int64(),
}
STATES_SCHEMA = {
    "account_id": pl.String(),
    "state": pl.String(),
    "balance_fen": pl.Int64(),
    "arrears_fen": pl.Int64(),
}
PROTECTED_SCHEMA = {"account_id": pl.String(), "days": pl.Int64(), "arrears_fen": pl.Int64()}
ACCOUNTS_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "utility": pl.String(),
    "province": pl.String(),
}
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "actions": ACTIONS_SCHEMA,
    "protections": PROTECTIONS_SCHEMA,
    "fees": FEES_SCHEMA,
    "states": STATES_SCHEMA,
    "protected": PROTECTED_SCHEMA,
    "accounts": ACCOUNTS_SCHEMA,
}


@dataclass(frozen=True)
class RunFrames:
    """What a run decided, sorted as the contract says."""

    actions: pl.DataFrame
    protections: pl.DataFrame
    fees: pl.DataFrame
    states: pl.DataFrame
    protected: pl.DataFrame
    """Per protected account: protected account-days and arrears on its first event's day."""
    accounts: pl.DataFrame
    """Per account: utility and province, for the summary's breakdowns."""

    def lazy(self, name: str) -> pl.LazyFrame:
        frame: pl.DataFrame = getattr(self, name)
        return frame.lazy()

    def sorted(self) -> RunFrames:
        return RunFrames(*(sort_table(name, getattr(self, name)) for name in TABLES))


SORT_KEYS: dict[str, list[str]] = {
    "actions": ["date", "account_id", "action", "bill_id", "policy_rank"],
    "protections": ["date", "account_id", "prevented_action"],
    "fees": ["bill_id"],
    "states": ["account_id"],
    "protected": ["account_id"],
    "accounts": ["account_id"],
}
"""How each table is sorted in the output (actions by the order a day decides them)."""
TABLES = tuple(SORT_KEYS)
ENUM_COLUMNS = {"actions": "action", "protections": "prevented_action"}
"""Columns held as `ACTION_RANK`; stored as text in Parquet parts."""


def sort_table(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(SORT_KEYS[name], maintain_order=True)


class RunTables(Protocol):
    """What the summary and the writer read: a run's six tables, sorted."""

    @property
    def actions(self) -> pl.DataFrame: ...
    @property
    def protections(self) -> pl.DataFrame: ...
    @property
    def fees(self) -> pl.DataFrame: ...
    @property
    def states(self) -> pl.DataFrame: ...
    @property
    def protected(self) -> pl.DataFrame: ...
    @property
    def accounts(self) -> pl.DataFrame: ...

    def lazy(self, name: str) -> pl.LazyFrame: ...


def write_part(frames: RunFrames, folder: Path, number: int) -> None:
    """Write one bucket's frames as Parquet parts: `folder/TABLE/part-NUMBER.parquet`."""
    for name in TABLES:
        frame: pl.DataFrame = getattr(frames, name)
        if name in ENUM_COLUMNS:
            frame = frame.with_columns(pl.col(ENUM_COLUMNS[name]).cast(pl.String))
        (folder / name).mkdir(parents=True, exist_ok=True)
        frame.write_parquet(folder / name / f"part-{number:05d}.parquet")


def scan_table(folder: Path, name: str) -> pl.LazyFrame:
    """One table of every part under `folder`, unsorted, lazily (empty when there is none)."""
    parts = sorted((folder / name).glob("part-*.parquet"))
    lazy = pl.scan_parquet(parts) if parts else pl.LazyFrame(schema=SCHEMAS[name])
    if name in ENUM_COLUMNS:
        lazy = lazy.with_columns(pl.col(ENUM_COLUMNS[name]).cast(ACTION_RANK))
    return lazy


def read_table(folder: Path, name: str) -> pl.DataFrame:
    """One table of every part under `folder`, sorted."""
    return sort_table(name, scan_table(folder, name).collect())


class StoredRunFrames:
    """A run's tables kept on disk as Parquet parts (one per bucket): each table is read and
    sorted only when asked for and not kept, so a large run holds one table at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, part: RunFrames, number: int) -> None:
        write_part(part, self.folder, number)

    def lazy(self, name: str) -> pl.LazyFrame:
        return scan_table(self.folder, name)

    def height(self, name: str) -> int:
        parts = sorted((self.folder / name).glob("part-*.parquet"))
        return int(pl.scan_parquet(parts).select(pl.len()).collect().item()) if parts else 0

    @property
    def actions(self) -> pl.DataFrame:
        return read_table(self.folder, "actions")

    @property
    def protections(self) -> pl.DataFrame:
        return read_table(self.folder, "protections")

    @property
    def fees(self) -> pl.DataFrame:
        return read_table(self.folder, "fees")

    @property
    def states(self) -> pl.DataFrame:
        return read_table(self.folder, "states")

    @property
    def protected(self) -> pl.DataFrame:
        return read_table(self.folder, "protected")

    @property
    def accounts(self) -> pl.DataFrame:
        return read_table(self.folder, "accounts")


def concat(parts: list[RunFrames]) -> RunFrames:
    """The frames of several disjoint sets of accounts, sorted."""

    def stack(name: str) -> pl.DataFrame:
        frames: list[pl.DataFrame] = [getattr(part, name) for part in parts]
        return pl.concat(frames, how="vertical")

    return RunFrames(*(stack(name) for name in TABLES)).sorted()


def from_result(result: RunResult) -> RunFrames:
    """The reference engine's rows as frames."""
    actions = pl.DataFrame(
        [
            (r.date, r.account_id, r.action.value, r.step, r.bill_id, r.policy_id, r.policy_rank)
            for r in result.actions
        ],
        schema=ACTIONS_SCHEMA,
        orient="row",
    )
    protections = pl.DataFrame(
        [
            (r.date, r.account_id, r.policy_id, r.kind, r.prevented_action.value, r.deferred_to)
            for r in result.protections
        ],
        schema=PROTECTIONS_SCHEMA,
        orient="row",
    )
    fees = pl.DataFrame(
        [
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
        ],
        schema=FEES_SCHEMA,
        orient="row",
    )
    states = pl.DataFrame(
        [(r.account_id, r.state.value, r.balance_fen, r.arrears_fen) for r in result.states],
        schema=STATES_SCHEMA,
        orient="row",
    )
    protected = pl.DataFrame(
        [(a, days, result.protected_arrears_fen[a]) for a, days in result.protected_days.items()],
        schema=PROTECTED_SCHEMA,
        orient="row",
    )
    accounts = pl.DataFrame(
        [(a, u.value, result.provinces[a]) for a, u in result.utilities.items()],
        schema=ACCOUNTS_SCHEMA,
        orient="row",
    )
    return RunFrames(actions, protections, fees, states, protected, accounts).sorted()
