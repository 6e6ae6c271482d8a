"""`sanbuting run`: simulate every day of a period and write the contract's output folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app, fail
from sanbuting.cli.inputs import EncodingOption, echo_warnings, summary_lines
from sanbuting.cli.progress import progress_bar
from sanbuting.domain import Utility, parse_date
from sanbuting.errors import SanbutingError
from sanbuting.io.encodings import encoding_named
from sanbuting.runner import RejectedInputs, RunOutcome, RunRequest, run

PROGRESS_FROM_ACCOUNTS = 20_000
"""Show a progress bar for runs over at least this many accounts."""

DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Input folder: accounts, bills, payments, usage (CSV or Parquet).",
        file_okay=False,
    ),
]
PoliciesOption = Annotated[
    list[Path],
    typer.Option("--policies", help="Relief policy YAML file; repeat for several.", dir_okay=False),
]
StartOption = Annotated[str, typer.Option("--start", help="First day simulated, YYYY-MM-DD.")]
EndOption = Annotated[str, typer.Option("--end", help="Last day simulated (inclusive).")]
RulesetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ruleset",
        help="UTILITY=RULESET to replace a utility's default ruleset (a name or a "
        ".yaml path), e.g. power=my-power.yaml; repeat for several.",
    ),
]


def ruleset_overrides(items: list[str] | None) -> dict[Utility, str]:
    chosen: dict[Utility, str] = {}
    for item in items or []:
        utility, sep, name = item.partition("=")
        if not sep or utility not in {u.value for u in Utility}:
            raise SanbutingError(
                f"--ruleset {item!r}: write UTILITY=RULESET, e.g. power=cn-power-1996"
            )
        chosen[Utility(utility)] = name
    return chosen


def run_with_progress(request: RunRequest) -> RunOutcome:
    """Run, showing a progress bar on stderr once the run is large enough to wait for."""
    progress = progress_bar()
    task = progress.add_task("accounts", total=None)

    def sized(count: int) -> None:
        if count >= PROGRESS_FROM_ACCOUNTS:
            progress.update(task, total=count)
            progress.start()

    try:
        return run(request, on_progress=lambda n: progress.advance(task, n), on_accounts=sized)
    finally:
        if progress.live.is_started:
            progress.stop()


@app.command("run")
def run_command(
    data: DataOption,
    policies: PoliciesOption,
    start: StartOption,
    end: EndOption,
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (created if needed).", file_okay=False)
    ],
    engine: Annotated[
        str,
        typer.Option(
            help="Engine: fast (compiled, the default) or reference (plain Python, the standard "
            "the fast engine is held to)."
        ),
    ] = "fast",
    allow_rejects: Annotated[
        bool,
        typer.Option(
            "--allow-rejects", help="Run on the good rows even when some rows were rejected."
        ),
    ] = False,
    ruleset: RulesetOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Threads (fast engine) or worker processes (reference engine) for "
            "large runs (default: one per core).",
            min=1,
        ),
    ] = None,
    buckets: Annotated[
        int | None,
        typer.Option(
            help="Buckets of accounts run one after another, bounding the engine's "
            "memory (default: one per 500,000 accounts); the output is the same for "
            "any count.",
            min=1,
        ),
    ] = None,
    encoding: EncodingOption = "utf-8",
) -> None:
    """Simulate every day from --start through --end and write actions.csv, protections.csv,
    late_fees.csv, states.csv and summary.json (plus rejects.csv when rows were refused)."""
    request = RunRequest(
        data=data,
        policy_files=policies,
        start=parse_date(start),
        end=parse_date(end),
        out=out,
        engine=engine,
        allow_rejects=allow_rejects,
        rulesets=ruleset_overrides(ruleset),
        workers=workers,
        buckets=buckets,
        encoding=encoding_named(encoding),
    )
    try:
        outcome = run_with_progress(request)
    except RejectedInputs as rejected:
        echo_warnings(rejected.inputs.warnings)
        for line in summary_lines(rejected.inputs):
            typer.echo(line, err=True)
        raise fail(str(rejected)) from None
    echo_warnings(outcome.inputs.warnings)
    summary = outcome.summary
    actions = sum(summary["actions"].values())
    events = sum(sum(kinds.values()) for kinds in summary["protection_events"].values())
    held = summary.get("account_relief")
    own = (
        f"{sum(kind['events'] for kind in held.values())} held by locks, promises or plans, "
        if held
        else ""
    )
    typer.echo(
        f"{summary['accounts']} accounts, {request.start} to {request.end}: "
        f"{actions} actions, {events} protection events, {own}"
        f"{len(outcome.inputs.rejects)} rejects -> {out}"
    )
