"""`summary.json`: the run's regulator counts (人次 events, 戶 accounts, account-days,
protected arrears, waived fees), its inputs and policies by hash, and its version.

Events are counted per policy and kind; `protected_arrears_fen` sums, over protected accounts,
their arrears on the day of their first protection event (an account counts once however many
events it has). Keys are sorted and no wall-clock time is written, so identical inputs give
identical bytes. Everything is counted from the run's frames, whatever engine made them.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from sanbuting import __version__
from sanbuting.domain import Action
from sanbuting.engine.frames import RunTables
from sanbuting.engine.holds import KINDS, OUTCOMES, POLICY_KINDS


def _events_by(frame: pl.DataFrame, key: str) -> dict[str, dict[str, int]]:
    """{key value: {kind: events}} from protections joined with their key."""
    counts = frame.group_by(key, "kind").len().sort(key, "kind")
    result: dict[str, dict[str, int]] = {}
    for value, kind, n in counts.iter_rows():
        result.setdefault(value, {})[kind] = n
    return result


def summarize(
    frames: RunTables,
    *,
    start: str,
    end: str,
    inputs: dict[str, str],
    policies: dict[str, str],
    rejects: int,
    relief: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The summary object of a run (see the module docstring), counted with lazy queries so
    that a stored run's tables are never held whole."""
    accounts = frames.lazy("accounts")
    every_event = frames.lazy("protections").join(accounts, on="account_id", how="left").collect()
    events = every_event.filter(pl.col("kind").is_in(sorted(POLICY_KINDS)))
    accounts_of = dict(accounts.group_by("utility").len().collect().iter_rows())
    protected_of = dict(events.group_by("utility").agg(pl.col("account_id").n_unique()).iter_rows())
    fees = frames.lazy("fees").select("account_id", "waived_fen")
    waived_fen = int(fees.select(pl.col("waived_fen").sum()).collect().item() or 0)
    waived_of = dict(
        fees.join(accounts.select("account_id", "utility"), on="account_id", how="left")
        .group_by("utility")
        .agg(pl.col("waived_fen").sum())
        .collect(engine="streaming")
        .iter_rows()
    )
    utility_events = _events_by(events, "utility")
    by_utility = {
        utility: {
            "accounts": accounts_of[utility],
            "protection_events": utility_events.get(utility, {}),
            "protected_accounts": protected_of.get(utility, 0),
            "waived_fen": waived_of.get(utility, 0),
        }
        for utility in sorted(accounts_of)
    }
    province_events = _events_by(events, "province")
    province_accounts = dict(
        events.group_by("province").agg(pl.col("account_id").n_unique()).iter_rows()
    )
    by_province = {
        province: {"protection_events": kinds, "protected_accounts": province_accounts[province]}
        for province, kinds in sorted(province_events.items())
    }
    actions = dict(
        frames.lazy("actions")
        .group_by(pl.col("action").cast(pl.String))
        .len()
        .collect()
        .iter_rows()
    )
    protected = frames.lazy("protected").collect()
    held = {} if relief is None else {"account_relief": _account_relief(every_event, relief)}
    return held | {
        "version": __version__,
        "period": {"start": start, "end": end},
        "inputs": dict(sorted(inputs.items())),
        "policies": dict(sorted(policies.items())),
        "accounts": sum(accounts_of.values()),
        "actions": {a.value: actions.get(a.value, 0) for a in sorted(Action, key=str)},
        "protection_events": _events_by(events, "policy_id"),
        "protected_accounts": protected.height,
        "protected_account_days": int(protected["days"].sum()),
        "protected_arrears_fen": int(protected["arrears_fen"].sum()),
        "waived_fen": waived_fen,
        "rejects": rejects,
        "by_utility": by_utility,
        "by_province": by_province,
    }


def _account_relief(events: pl.DataFrame, relief: pl.DataFrame) -> dict[str, Any]:
    """Per kind of account relief: its protection events, the distinct accounts with one,
    and its holds by outcome (docs/account-relief.md)."""
    result: dict[str, Any] = {}
    for kind in KINDS:
        mine = events.filter(pl.col("kind") == kind)
        outcomes = dict(relief.filter(pl.col("kind") == kind).group_by("outcome").len().iter_rows())
        result[kind] = {
            "events": mine.height,
            "accounts": mine.get_column("account_id").n_unique(),
            "holds": {name: outcomes.get(name, 0) for name in OUTCOMES},
        }
    return result


def summary_json(summary: dict[str, object]) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
