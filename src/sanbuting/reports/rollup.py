"""The roll-up of a run, as the 2020 reports counted it: per group, company, province, utility
and week, the 人次 exempt (免停) and deferred (缓停), the accounts (户) protected, account-days,
protected arrears, waived late fees, reconnections at a policy's start, and payments (online
ones apart); and the payments by channel. docs/reports.md is the reader's account.

It reads the run's output folder (`summary.json`, `protections.csv`, `actions.csv`,
`late_fees.csv`) and its input folder (accounts for utility, province and company; payments
for channels), checked by hash against `summary.json`; account-days, protected arrears and
waived fees per account and stretch of days come from running the protected accounts again
(`reports.replay`). Frames hold integer fen and integer counts, keys by name in the language
asked (`reports.labels`); a `--from`/`--to` range keeps what is dated inside it:

- events and reconnections by their date, payments by their local day;
- 户: the distinct accounts with an event in the range (so a week's 户 do not add up to the
  total's, an account protected in two weeks counting in both);
- account-days and waived fees by the day they accrue (the replay's stretches);
- protected arrears with the account's first protection event of the run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl

from sanbuting.domain import Utility
from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.errors import SanbutingError
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.policy import load_policies
from sanbuting.regions import all_regions
from sanbuting.reports.companies import (
    COMPANIES_FILE,
    assign_companies,
    company_column,
    read_companies,
)
from sanbuting.reports.labels import (
    ONLINE_CHANNELS,
    UTILITIES,
    UTILITY_ORDER,
    WORDS,
    Lang,
    channel_name,
)
from sanbuting.reports.replay import check_replay, replay, stretches
from sanbuting.rules import rulesets_by_utility
from sanbuting.runner import policy_hashes

By = Literal["group", "company", "province", "utility", "week", "channel"]
BY_CHOICES: tuple[By, ...] = ("group", "company", "province", "utility", "week", "channel")
KEYS: dict[By, tuple[str, ...]] = {
    "group": ("group",),
    "company": ("group", "company", "utility"),
    "province": ("province",),
    "utility": ("utility",),
    "week": ("week_start", "week_end"),
    "channel": ("channel", "online"),
}
SUMMED = (
    "exempt_events",
    "defer_events",
    "account_days",
    "protected_arrears_fen",
    "waived_fen",
    "policy_reconnections",
    "payments",
    "paid_fen",
    "online_payments",
    "online_paid_fen",
)
MEASURES = (*SUMMED[:2], "protected_accounts", *SUMMED[2:])
"""The columns of every table but the channels', after its keys (and `accounts`)."""
PAYMENT_MEASURES = ("payments", "paid_fen", "online_payments", "online_paid_fen")
CHANNEL_MEASURES = ("payments", "paid_fen", "paying_accounts")


@dataclass(frozen=True)
class RollupRequest:
    """A run to roll up: its output folder and what it was run with."""

    out: Path
    data: Path
    policy_files: tuple[Path, ...]
    rulesets: dict[Utility, str] | None = None
    encoding: str = "utf-8"
    companies: Path | None = None
    """The companies file (default: `companies.csv` in `data` when there is one)."""


@dataclass(frozen=True)
class Rollup:
    """The tables of one run over one range of days, in one language."""

    run_start: date
    run_end: date
    start: date
    end: date
    lang: Lang
    tables: dict[By, pl.DataFrame]
    totals: dict[str, int]
    events: pl.DataFrame = field(repr=False)
    """The protection events in the range: `day, account_id, kind, utility` (code),
    `province` (name), for the charts."""


def read_summary(out: Path) -> dict[str, Any]:
    path = out / "summary.json"
    try:
        summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SanbutingError(f"cannot read {path}: {exc}") from None
    return summary


def _range(summary: dict[str, Any], first: date | None, last: date | None) -> tuple[date, ...]:
    run_start = date.fromisoformat(summary["period"]["start"])
    run_end = date.fromisoformat(summary["period"]["end"])
    start, end = first or run_start, last or run_end
    if not run_start <= start <= end <= run_end:
        raise SanbutingError(
            f"--from {start} --to {end}: give days from {run_start} to {run_end} (the run's), "
            "--from not after --to"
        )
    return run_start, run_end, start, end


def _same_files(what: str, expected: dict[str, str], got: dict[str, str]) -> None:
    for name in sorted(set(expected) | set(got)):
        if expected.get(name) != got.get(name):
            raise SanbutingError(
                f"{name} is not the {what} the run read (summary.json names "
                f"{', '.join(sorted(expected)) or 'none'} by hash): give the run's own"
            )


def _out_table(out: Path, file: str, dates: Sequence[str]) -> pl.DataFrame:
    try:
        frame = pl.read_csv(out / file, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise SanbutingError(f"cannot read {out / file}: {exc}") from None
    return frame.with_columns(pl.col(name).str.to_date("%Y-%m-%d") for name in dates)


def rollup(
    request: RollupRequest,
    *,
    by: Sequence[By] = BY_CHOICES,
    from_day: date | None = None,
    to_day: date | None = None,
    lang: Lang = "zh",
) -> Rollup:
    """The roll-up tables `by` of the run `request` over `from_day`..`to_day` (default: the
    run's period)."""
    summary = read_summary(request.out)
    run_start, run_end, start, end = _range(summary, from_day, to_day)
    inputs = read_inputs(request.data, encoding=request.encoding)
    _same_files("input", summary.get("inputs", {}), inputs.files)
    _same_files("policy file", summary.get("policies", {}), policy_hashes(request.policy_files))
    policies = load_policies(list(request.policy_files))
    rulesets = rulesets_by_utility(request.rulesets)

    protections = _out_table(request.out, "protections.csv", ("date",)).filter(
        pl.col("kind").is_in(sorted(POLICY_KINDS))
    )
    fees = _out_table(request.out, "late_fees.csv", ()).with_columns(
        pl.col("waived_fen").cast(pl.Int64)
    )
    protected = protections.get_column("account_id").unique()
    waived = fees.filter(pl.col("waived_fen") > 0).get_column("account_id").unique()
    cutoffs = {run_end, end}
    if start > run_start:
        cutoffs.add(start - timedelta(days=1))
    if "week" in by:
        cutoffs.update(d for d in _days(start, end) if d.weekday() == 6)
    replayed = replay(
        inputs,
        policies,
        rulesets,
        start=run_start,
        cutoffs=sorted(cutoffs),
        accounts=sorted(set(protected.to_list()) | set(waived.to_list())),
    )
    check_replay(replayed, run_end, summary)

    dims = _dimensions(request, inputs, lang)
    first = protections.group_by("account_id").agg(pl.col("date").min().alias("day"))
    facts = pl.concat(
        [
            protections.select(
                "account_id",
                pl.col("date").alias("day"),
                (pl.col("kind") == "exempt").cast(pl.Int64).alias("exempt_events"),
                (pl.col("kind") == "defer").cast(pl.Int64).alias("defer_events"),
            ),
            first.join(replayed.arrears, on="account_id", how="left").select(
                "account_id", "day", pl.col("arrears_fen").alias("protected_arrears_fen")
            ),
            stretches(replayed.through),
            _reconnections(request.out),
            _payments(inputs),
        ],
        how="diagonal_relaxed",
    )
    facts = (
        facts.with_columns(pl.col(SUMMED).fill_null(0).cast(pl.Int64))
        .filter(pl.col("day").is_between(start, end))
        .join(dims, on="account_id", how="left")
        .with_columns(_weeks("day", start, end))
    )
    events = (
        protections.filter(pl.col("date").is_between(start, end))
        .join(dims, on="account_id", how="left")
        .with_columns(_weeks("date", start, end))
    )
    tables: dict[By, pl.DataFrame] = {}
    for choice in BY_CHOICES:
        if choice not in by:
            continue
        if choice == "channel":
            tables[choice] = _channels(inputs, start, end, lang)
        else:
            tables[choice] = _table(choice, facts, events, dims, start, end, lang)
    totals = {name: int(facts.get_column(name).sum()) for name in SUMMED}
    totals["protected_accounts"] = events.get_column("account_id").n_unique()
    totals["accounts"] = dims.height
    totals["paying_accounts"] = (
        inputs.payments.filter(pl.col("paid_on").is_between(start, end))
        .get_column("account_id")
        .n_unique()
    )
    chart_events = events.select(
        pl.col("date").alias("day"), "account_id", "kind", "utility_code", "province"
    ).rename({"utility_code": "utility"})
    return Rollup(run_start, run_end, start, end, lang, tables, totals, chart_events)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _weeks(column: str, start: date, end: date) -> list[pl.Expr]:
    """The week (Monday to Sunday, clipped to the range) of the day in `column`."""
    day = pl.col(column)
    monday = day - pl.duration(days=day.dt.weekday() - 1)
    return [
        pl.max_horizontal(monday, pl.lit(start)).alias("week_start"),
        pl.min_horizontal(monday + pl.duration(days=6), pl.lit(end)).alias("week_end"),
    ]


def _dimensions(request: RollupRequest, inputs: Inputs, lang: Lang) -> pl.DataFrame:
    """Per account: `utility_code`, `utility`, `province` (names), `company_code`,
    `company`, `group`."""
    accounts = inputs.accounts.select("account_id", "utility", "region")
    path = request.companies
    if path is None and (request.data / COMPANIES_FILE).is_file():
        path = request.data / COMPANIES_FILE
    rows = read_companies(path) if path is not None else []
    column = company_column(request.data, request.encoding)
    companies = assign_companies(accounts, rows, column, lang)
    provinces = _provinces()
    return (
        accounts.with_columns(pl.col("region").str.slice(0, 2).alias("province_code"))
        .join(provinces, on="province_code", how="left")
        .join(companies, on="account_id", how="left")
        .select(
            "account_id",
            pl.col("utility").alias("utility_code"),
            pl.col("utility").replace_strict(UTILITIES[lang], default=pl.col("utility")),
            "province_code",
            "province",
            "company_code",
            "company",
            "group",
        )
    )


def _provinces() -> pl.DataFrame:
    """The 31 provinces of the GB/T 2260 table: `province_code, province` (name)."""
    found = [(r.code, r.name) for r in all_regions() if len(r.code) == 2]
    return pl.DataFrame(
        found, schema={"province_code": pl.String, "province": pl.String}, orient="row"
    )


def _reconnections(out: Path) -> pl.DataFrame:
    actions = _out_table(out, "actions.csv", ("date",))
    return actions.filter(
        (pl.col("action") == "reconnect") & pl.col("policy_id").is_not_null()
    ).select("account_id", pl.col("date").alias("day"), pl.lit(1).alias("policy_reconnections"))


def _payments(inputs: Inputs) -> pl.DataFrame:
    online = pl.col("channel").is_in(sorted(ONLINE_CHANNELS)).fill_null(value=False)
    return inputs.payments.select(
        "account_id",
        pl.col("paid_on").alias("day"),
        pl.lit(1).alias("payments"),
        pl.col("amount_fen").alias("paid_fen"),
        online.cast(pl.Int64).alias("online_payments"),
        pl.when(online).then(pl.col("amount_fen")).otherwise(0).alias("online_paid_fen"),
    )


def _key_rows(choice: By, dims: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Every row a table shows, whether or not anything happened there."""
    if choice == "province":
        return _provinces()
    if choice == "week":
        mondays = sorted({d - timedelta(days=d.weekday()) for d in _days(start, end)})
        return pl.DataFrame(
            {
                "week_start": [max(m, start) for m in mondays],
                "week_end": [min(m + timedelta(days=6), end) for m in mondays],
            },
            schema={"week_start": pl.Date, "week_end": pl.Date},
        )
    if choice == "utility":
        order = {u: n for n, u in enumerate(UTILITY_ORDER)}
        return (
            dims.select("utility_code", "utility")
            .unique()
            .sort(pl.col("utility_code").replace_strict(order, default=len(order)), "utility")
        )
    if choice == "company":
        return (
            dims.select("company_code", "utility_code", *KEYS[choice])
            .unique()
            .sort("group", "company", "company_code", "utility_code")
        )
    return dims.select(*KEYS[choice]).unique().sort(*KEYS[choice])


def _table(
    choice: By,
    facts: pl.DataFrame,
    events: pl.DataFrame,
    dims: pl.DataFrame,
    start: date,
    end: date,
    lang: Lang,
) -> pl.DataFrame:
    """One table: its key rows, `accounts` (but by week), then `MEASURES`."""
    join = {
        "province": ["province_code"],
        "utility": ["utility_code"],
        "company": ["company_code", "utility_code"],
    }
    on = join.get(choice, list(KEYS[choice]))
    rows = _key_rows(choice, dims, start, end)
    sums = facts.group_by(on).agg(pl.col(SUMMED).sum())
    protected = events.group_by(on).agg(
        pl.col("account_id").n_unique().cast(pl.Int64).alias("protected_accounts")
    )
    frame = rows.join(sums, on=on, how="left").join(protected, on=on, how="left")
    columns: list[str] = list(KEYS[choice])
    if choice != "week":
        counted = dims.group_by(on).agg(pl.len().cast(pl.Int64).alias("accounts"))
        frame = frame.join(counted, on=on, how="left")
        columns.append("accounts")
    columns += MEASURES
    frame = frame.with_columns(pl.col(c).fill_null(0) for c in columns if c not in KEYS[choice])
    if choice == "group":
        ungrouped = pl.col("group") == WORDS[lang]["ungrouped"]
        frame = frame.sort(ungrouped, "group")
    return frame.select(columns)


def _channels(inputs: Inputs, start: date, end: date, lang: Lang) -> pl.DataFrame:
    """Payments in the range by channel: online ones first, then the most used."""
    paid = inputs.payments.filter(pl.col("paid_on").is_between(start, end))
    grouped = paid.group_by("channel").agg(
        pl.len().cast(pl.Int64).alias("payments"),
        pl.col("amount_fen").sum().cast(pl.Int64).alias("paid_fen"),
        pl.col("account_id").n_unique().cast(pl.Int64).alias("paying_accounts"),
    )
    words = WORDS[lang]
    rows = [
        (
            channel_name(label, lang),
            words["yes"] if label in ONLINE_CHANNELS else words["no"],
            label in ONLINE_CHANNELS,
            n,
            fen,
            accounts,
        )
        for label, n, fen, accounts in grouped.iter_rows()
    ]
    rows.sort(key=lambda r: (not r[2], -r[3], r[0]))
    return pl.DataFrame(
        [(a, b, n, fen, accounts) for a, b, _, n, fen, accounts in rows],
        schema={
            "channel": pl.String,
            "online": pl.String,
            "payments": pl.Int64,
            "paid_fen": pl.Int64,
            "paying_accounts": pl.Int64,
        },
        orient="row",
    )
