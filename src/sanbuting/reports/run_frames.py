"""The charts' frames from a run's output folder (`protections.csv`, `summary.json`), and the
run's charts (`run_charts`) for a page (`captioned`) or for files (`write_svgs`).

Definitions (the contract's, counted as `summary.json` counts them; only policy protection
events, `exempt` and `defer`, count: account relief's holds and promises do not):

- protected accounts of a day: the distinct accounts with a protection event dated that day
  (an account protected on many days counts on each day it has an event, once per day;
  the days it stays protected after its event are account-days, which the output files do
  not list per day);
- 人次 of a week: the protection events dated in that ISO week, per kind;
- protected accounts of a province: `summary.json`'s `by_province` (distinct accounts with a
  protection event over the run, by the province of the account's region).

`protections.csv` has no utility: each event's utility is read from the run's input folder
(`data`, its `accounts.csv` or `accounts.parquet`) when it is given; without it, from
`summary.json` when a single utility has protected accounts, else `all` (every utility as one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.errors import InputFileError
from sanbuting.regions import is_known, lookup
from sanbuting.reports import charts
from sanbuting.reports.svg import Lang

ALL = "all"
"""The utility of an event when it cannot be told (several utilities, no input folder)."""


@dataclass(frozen=True)
class RunFrames:
    """The frames `reports.charts` draws, with the columns each chart names."""

    protected_by_day: pl.DataFrame
    people_times_by_week: pl.DataFrame
    by_province: pl.DataFrame


def read_summary(out: Path) -> dict[str, Any]:
    path = out / "summary.json"
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from None
    return loaded


def read_events(out: Path) -> pl.DataFrame:
    """`protections.csv`'s policy events: `date` (Date), `account_id`, `kind`."""
    path = out / "protections.csv"
    try:
        frame = pl.read_csv(path, infer_schema=False, columns=["date", "account_id", "kind"])
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from None
    return frame.filter(pl.col("kind").is_in(sorted(POLICY_KINDS))).with_columns(
        pl.col("date").str.to_date("%Y-%m-%d")
    )


def read_utilities(data: Path) -> pl.DataFrame:
    """`account_id, utility` of the run's input folder (CSV or Parquet, as the run read it)."""
    columns = ["account_id", "utility"]
    try:
        if (data / "accounts.parquet").is_file():
            return pl.read_parquet(data / "accounts.parquet", columns=columns).cast(pl.String)
        return pl.read_csv(data / "accounts.csv", infer_schema=False, columns=columns)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputFileError(f"cannot read the accounts of {data}: {exc}") from None


def _sole_utility(summary: dict[str, Any]) -> str:
    protected = [u for u, f in summary.get("by_utility", {}).items() if f["protected_accounts"]]
    return protected[0] if len(protected) == 1 else ALL


def province_frame(summary: dict[str, Any], *, measure: str = "accounts") -> pl.DataFrame:
    """`province` (its name), `count`: protected accounts (or, `measure="events"`, 人次) per
    province, from `summary.json`'s `by_province`."""
    rows = []
    for code, figures in summary.get("by_province", {}).items():
        name = lookup(code).name if is_known(code) else code
        count = (
            sum(figures["protection_events"].values())
            if measure == "events"
            else figures["protected_accounts"]
        )
        rows.append((name, int(count)))
    return pl.DataFrame(rows, schema={"province": pl.String, "count": pl.Int64}, orient="row")


def frames_from_run(out: Path, data: Path | None = None) -> RunFrames:
    """The frames of the run in `out` (see the module docstring; `data`: its input folder)."""
    summary = read_summary(out)
    events = read_events(out)
    if data is not None:
        events = events.join(read_utilities(data), on="account_id", how="left").with_columns(
            pl.col("utility").fill_null(ALL)
        )
    else:
        events = events.with_columns(pl.lit(_sole_utility(summary)).alias("utility"))
    by_day = (
        events.group_by(pl.col("date").alias("day"), "utility")
        .agg(pl.col("account_id").n_unique().alias("accounts"))
        .sort("day", "utility")
    )
    by_week = (
        events.with_columns(pl.col("date").dt.strftime(charts.ISO_WEEK))
        .group_by(pl.col("date").alias("week"), "utility", "kind")
        .len("count")
        .sort("week", "utility", "kind")
    )
    return RunFrames(by_day, by_week, province_frame(summary))


RUN_CHARTS = ("protected_by_day", "people_times_by_week", "by_province")
"""The charts of a run, in the order shown; each is also its file's name (`write_svgs`)."""


def run_charts(out: Path, lang: Lang = "zh", data: Path | None = None) -> dict[str, str]:
    """The run's charts as SVG, by name (`RUN_CHARTS`): protected accounts per day, 人次 per
    week, and protected accounts by province."""
    frames = frames_from_run(out, data)
    return {
        "protected_by_day": charts.protected_by_day(frames.protected_by_day, lang),
        "people_times_by_week": charts.people_times_by_week(frames.people_times_by_week, lang),
        "by_province": charts.by_province(frames.by_province, lang),
    }


def captioned(drawn: Mapping[str, str], lang: Lang = "zh") -> dict[str, str]:
    """`drawn` by each chart's title in `lang`, as `reports.html_page.render_report` takes it."""
    return {charts.title_of(name, lang): svg for name, svg in drawn.items()}


def write_svgs(folder: Path, drawn: Mapping[str, str]) -> list[Path]:
    """Write each chart as `folder/NAME.svg` (UTF-8, a standalone SVG file); the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, svg in drawn.items():
        path = folder / f"{name}.svg"
        path.write_text(svg + "\n", encoding="utf-8")
        written.append(path)
    return written
