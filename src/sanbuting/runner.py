"""One run, end to end, for the command line, the tests and (later) the store: read and check
the inputs, load the policies, simulate, summarise, write the output folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sanbuting.domain import Utility
from sanbuting.engine.buckets import Frames, automatic_buckets, run_in_buckets
from sanbuting.engine.fast import run_fast
from sanbuting.engine.frames import RunFrames
from sanbuting.engine.parallel import default_workers, run_parallel
from sanbuting.engine.spark import run_spark
from sanbuting.engine.summary import summarize
from sanbuting.errors import SanbutingError
from sanbuting.io.outputs import write_outputs
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.rejects import REJECTS_FILE, write_rejects
from sanbuting.policy import Policy, load_policies
from sanbuting.rules import rulesets_by_utility
from sanbuting.rules.schema import Ruleset

ENGINES = ("fast", "reference", "spark")


class RejectedInputs(SanbutingError):
    """Some input rows were refused and the caller did not allow running without them."""

    def __init__(self, inputs: Inputs, rejects_file: Path) -> None:
        self.inputs = inputs
        super().__init__(
            f"{len(inputs.rejects)} input rows rejected (see {rejects_file}); "
            "fix them or run again with --allow-rejects"
        )


@dataclass(frozen=True)
class RunRequest:
    data: Path
    policy_files: Sequence[Path]
    start: date
    end: date
    out: Path
    engine: str = "fast"
    allow_rejects: bool = False
    rulesets: dict[Utility, str] | None = None
    workers: int | None = None
    buckets: int | None = None
    """Buckets of accounts run one after another (default: one per million accounts)."""
    """Worker processes for large runs (default: one per core)."""


@dataclass(frozen=True)
class RunOutcome:
    inputs: Inputs
    policies: list[Policy]
    result: RunFrames
    summary: dict[str, object]


def policy_hashes(files: Sequence[Path]) -> dict[str, str]:
    """{file name: sha256 of its bytes} (the path where two files share a name)."""
    names = [f.name for f in files]
    return {
        (f.name if names.count(f.name) == 1 else str(f)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in files
    }


def run(
    request: RunRequest,
    on_progress: Callable[[int], None] | None = None,
    on_accounts: Callable[[int], None] | None = None,
) -> RunOutcome:
    """Run `request`; a bad policy file raises before anything is written, rejected rows raise
    `RejectedInputs` after writing `rejects.csv` unless `allow_rejects`."""
    if request.engine not in ENGINES:
        raise SanbutingError(f"engine {request.engine!r} is not available: use one of {ENGINES}")
    if request.end < request.start:
        raise SanbutingError(f"--end {request.end} is before --start {request.start}")
    policies = load_policies(list(request.policy_files))
    rulesets = rulesets_by_utility(request.rulesets)
    inputs = read_inputs(request.data)
    if inputs.rejects:
        request.out.mkdir(parents=True, exist_ok=True)
        write_rejects(request.out / REJECTS_FILE, inputs.rejects)
        if not request.allow_rejects:
            raise RejectedInputs(inputs, request.out / REJECTS_FILE)
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    result = decide(request, frames, policies, rulesets, on_progress, on_accounts)
    summary = summarize(
        result,
        start=request.start.isoformat(),
        end=request.end.isoformat(),
        inputs=inputs.files,
        policies=policy_hashes(request.policy_files),
        rejects=len(inputs.rejects),
    )
    write_outputs(request.out, result, summary)
    return RunOutcome(inputs, policies, result, summary)


def decide(
    request: RunRequest,
    frames: Frames,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    on_progress: Callable[[int], None] | None = None,
    on_accounts: Callable[[int], None] | None = None,
) -> RunFrames:
    """Run the requested engine over checked frames: every engine gives the same frames."""
    accounts = frames[0].height
    buckets = request.buckets or automatic_buckets(accounts)
    if request.engine == "spark":
        return run_spark(
            frames,
            policies,
            rulesets,
            request.start,
            request.end,
            buckets=buckets,
            work=request.out / "spark",
        )
    if request.engine == "reference":
        return run_parallel(
            frames,
            policies,
            rulesets,
            request.start,
            request.end,
            workers=request.workers,
            on_accounts=on_accounts,
            on_progress=on_progress,
        )
    if on_accounts is not None:
        on_accounts(accounts if buckets > 1 else 0)
    threads = request.workers or default_workers()
    return run_in_buckets(
        frames,
        buckets,
        lambda bucket: run_fast(
            bucket, policies, rulesets, request.start, request.end, threads=threads
        ),
        on_progress,
    )
