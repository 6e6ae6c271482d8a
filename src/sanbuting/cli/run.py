"""`sanbuting run`: simulate every day of a period and write the contract's output folder."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from sanbuting.cli.app import app, fail
from sanbuting.cli.inputs import summary_lines
from sanbuting.domain import Utility, parse_date
from sanbuting.engine.simulate import RunResult, accounts_from_frames, simulate
from sanbuting.engine.summary import summarize
from sanbuting.errors import SanbutingError
from sanbuting.io.outputs import write_outputs
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.rejects import REJECTS_FILE, write_rejects
from sanbuting.policy import Policy, load_policies
from sanbuting.rules import rulesets_by_utility
from sanbuting.rules.schema import Ruleset

PROGRESS_FROM_ACCOUNTS = 20_000
"""Show a progress bar for runs over at least this many accounts."""

DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Input folder: accounts, bills, payments, usage (CSV or Parquet).",
        file_okay=False,
        exists=True,
    ),
]
PoliciesOption = Annotated[
    list[Path],
    typer.Option(
        "--policies",
        help="Relief policy YAML file; repeat for several.",
        dir_okay=False,
        exists=True,
    ),
]
StartOption = Annotated[str, typer.Option("--start", help="First day simulated, YYYY-MM-DD.")]
EndOption = Annotated[str, typer.Option("--end", help="Last day simulated (inclusive).")]
RulesetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ruleset",
        help="UTILITY=RULESET to replace a utility's default ruleset (a name or a "
        ".yaml path), e.g. power=cn-power-2024.yaml; repeat for several.",
    ),
]


def period(start: str, end: str) -> tuple[date, date]:
    first, last = parse_date(start), parse_date(end)
    if last < first:
        raise SanbutingError(f"--end {last} is before --start {first}")
    return first, last


def chosen_rulesets(overrides: list[str] | None) -> dict[Utility, Ruleset]:
    chosen: dict[Utility, str] = {}
    for item in overrides or []:
        utility, sep, name = item.partition("=")
        if not sep or utility not in {u.value for u in Utility}:
            raise SanbutingError(
                f"--ruleset {item!r}: write UTILITY=RULESET, e.g. power=cn-power-1996"
            )
        chosen[Utility(utility)] = name
    return rulesets_by_utility(chosen)


def policy_hashes(files: list[Path]) -> dict[str, str]:
    names = [f.name for f in files]
    return {
        (f.name if names.count(f.name) == 1 else str(f)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in files
    }


def load_checked_inputs(data: Path, out: Path, allow_rejects: bool) -> Inputs:
    """Read the inputs; with rejects, write rejects.csv and stop unless they are allowed."""
    inputs = read_inputs(data)
    if inputs.rejects:
        out.mkdir(parents=True, exist_ok=True)
        write_rejects(out / REJECTS_FILE, inputs.rejects)
        for line in summary_lines(inputs):
            typer.echo(line, err=True)
        if not allow_rejects:
            raise fail(
                f"{len(inputs.rejects)} input rows rejected (see {out / REJECTS_FILE}); "
                "fix them or run again with --allow-rejects"
            )
    return inputs


def run_engine(
    inputs: Inputs, policies: list[Policy], rulesets: dict[Utility, Ruleset], start: date, end: date
) -> RunResult:
    accounts = accounts_from_frames(inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    if len(accounts) < PROGRESS_FROM_ACCOUNTS:
        return simulate(accounts, policies, rulesets, start, end)
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("accounts", total=len(accounts))
        return simulate(
            accounts, policies, rulesets, start, end, on_account=lambda: progress.advance(task)
        )


@app.command("run")
def run_command(
    data: DataOption,
    policies: PoliciesOption,
    start: StartOption,
    end: EndOption,
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (created if needed).", file_okay=False)
    ],
    engine: Annotated[str, typer.Option(help="Engine: reference (the standard).")] = "reference",
    allow_rejects: Annotated[
        bool,
        typer.Option(
            "--allow-rejects", help="Run on the good rows even when some rows were rejected."
        ),
    ] = False,
    ruleset: RulesetOption = None,
) -> None:
    """Simulate every day from --start through --end and write actions.csv, protections.csv,
    late_fees.csv, states.csv and summary.json (plus rejects.csv when rows were refused)."""
    if engine != "reference":
        raise fail(f"--engine {engine!r} is not available in this version: use reference")
    first, last = period(start, end)
    loaded = load_policies(policies)  # a bad policy file stops the run before any output
    rulesets = chosen_rulesets(ruleset)
    inputs = load_checked_inputs(data, out, allow_rejects)
    result = run_engine(inputs, loaded, rulesets, first, last)
    summary = summarize(
        result,
        start=first.isoformat(),
        end=last.isoformat(),
        inputs=inputs.files,
        policies=policy_hashes(policies),
        rejects=len(inputs.rejects),
    )
    write_outputs(out, result, summary)
    if inputs.rejects:
        write_rejects(out / REJECTS_FILE, inputs.rejects)
    typer.echo(
        f"{len(result.states)} accounts, {first} to {last}: {len(result.actions)} actions, "
        f"{len(result.protections)} protection events -> {out}"
    )
