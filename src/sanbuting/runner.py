"""One run, end to end, for the command line, the tests and (later) the store: read and check
the inputs, load the policies, simulate, summarise, write the output folder.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from sanbuting.domain import Utility
from sanbuting.engine.buckets import Frames, automatic_buckets
from sanbuting.engine.fast import run_fast
from sanbuting.engine.frames import RunTables, StoredRunFrames
from sanbuting.engine.parallel import default_workers
from sanbuting.engine.registry import ENGINES as REGISTRY
from sanbuting.engine.registry import Options, engine_named
from sanbuting.engine.relief_column import attach, outcomes
from sanbuting.engine.summary import summarize
from sanbuting.errors import SanbutingError
from sanbuting.io.holds import has_holds_file
from sanbuting.io.outputs import write_outputs
from sanbuting.io.partition import partition_inputs
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.rejects import REJECTS_FILE, sorted_rejects, write_rejects
from sanbuting.policy import Policy, load_policies
from sanbuting.rules import rulesets_by_utility
from sanbuting.rules.schema import Ruleset

ENGINES = tuple(REGISTRY)


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
    """Buckets of accounts run one after another (default: one per 500,000 accounts)."""
    encoding: str = "utf-8"
    """The CSV inputs' text encoding (`--encoding`: utf-8, gbk or gb18030)."""


@dataclass(frozen=True)
class RunOutcome:
    inputs: Inputs
    policies: list[Policy]
    result: RunTables
    summary: dict[str, Any]


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
    engine_named(request.engine)  # a clear error before anything is read
    if request.end < request.start:
        raise SanbutingError(f"--end {request.end} is before --start {request.start}")
    policies = load_policies(list(request.policy_files))
    rulesets = rulesets_by_utility(request.rulesets)
    if request.engine == "fast":
        streamed = run_streamed(request, policies, rulesets, on_progress, on_accounts)
        if streamed is not None:
            return streamed
    inputs = read_inputs(request.data, encoding=request.encoding)
    if inputs.rejects:
        request.out.mkdir(parents=True, exist_ok=True)
        write_rejects(request.out / REJECTS_FILE, inputs.rejects)
        if not request.allow_rejects:
            raise RejectedInputs(inputs, request.out / REJECTS_FILE)
    accounts = attach(inputs.accounts, inputs.holds, inputs.payments, rulesets)
    frames = (accounts, inputs.bills, inputs.payments, inputs.usage)
    result = decide(request, frames, policies, rulesets, on_progress, on_accounts)
    relief = outcomes(accounts, request.end)
    return _finish(
        request, inputs, policies, result, relief if has_holds_file(inputs.files) else None
    )


def _finish(
    request: RunRequest,
    inputs: Inputs,
    policies: list[Policy],
    result: RunTables,
    relief: pl.DataFrame | None = None,
) -> RunOutcome:
    """Summarise and write the output folder (`relief`: the holds' outcomes, when the input
    had a `holds` file)."""
    summary = summarize(
        result,
        start=request.start.isoformat(),
        end=request.end.isoformat(),
        inputs=inputs.files,
        policies=policy_hashes(request.policy_files),
        rejects=len(inputs.rejects),
        relief=relief,
    )
    write_outputs(request.out, result, summary, relief)
    return RunOutcome(inputs, policies, result, summary)


def decide(
    request: RunRequest,
    frames: Frames,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    on_progress: Callable[[int], None] | None = None,
    on_accounts: Callable[[int], None] | None = None,
) -> RunTables:
    """Run the requested engine over checked frames: every engine gives the same frames."""
    options = Options(
        workers=request.workers,
        buckets=request.buckets,
        work=request.out / "spark",
        on_progress=on_progress,
        on_accounts=on_accounts,
    )
    found = engine_named(request.engine)
    return found.run(frames, policies, rulesets, request.start, request.end, options)


def run_streamed(
    request: RunRequest,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    on_progress: Callable[[int], None] | None = None,
    on_accounts: Callable[[int], None] | None = None,
) -> RunOutcome | None:
    """The fast engine over an input read bucket by bucket (memory for one bucket of input),
    when there is more than one bucket and the input can be partitioned (`io.partition`);
    None otherwise. Each bucket is checked and run in one pass, its rows kept aside; nothing
    is written until every bucket is checked, so rejected rows stop the run exactly as a
    whole read does (the rows run meanwhile are dropped)."""
    accounts = count_accounts(request.data)
    buckets = request.buckets or automatic_buckets(accounts)
    if buckets <= 1:
        return None
    work = request.out / ".buckets"
    partitioned = partition_inputs(request.data, work, buckets, encoding=request.encoding)
    if partitioned is None:
        return None
    try:
        if on_accounts is not None:
            on_accounts(accounts)
        threads = request.workers or default_workers()
        stored = StoredRunFrames(work / "rows")
        checked = []
        reliefs = []
        for k in range(buckets):
            bucket = partitioned.check(k)
            checked.append(_checked_counts(bucket))
            if request.allow_rejects or not any(c.rejects for c in checked):
                held = attach(bucket.accounts, bucket.holds, bucket.payments, rulesets)
                frames = (held, bucket.bills, bucket.payments, bucket.usage)
                reliefs.append(outcomes(held, request.end))
                stored.add(
                    run_fast(
                        frames, policies, rulesets, request.start, request.end, threads=threads
                    ),
                    k,
                )
            if on_progress is not None:
                on_progress(bucket.accounts.height)
            del bucket
        inputs = _merged(partitioned.files, checked)
        if inputs.rejects:
            request.out.mkdir(parents=True, exist_ok=True)
            write_rejects(request.out / REJECTS_FILE, inputs.rejects)
            if not request.allow_rejects:
                raise RejectedInputs(inputs, request.out / REJECTS_FILE)
        relief = pl.concat(reliefs) if reliefs and has_holds_file(inputs.files) else None
        return _finish(request, inputs, policies, stored, relief)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _checked_counts(bucket: Inputs) -> Inputs:
    """A checked bucket without its frames (only what the whole input's report needs)."""
    loaded = {name: bucket.loaded(name) for name in ("accounts", "bills", "payments", "usage")}
    return replace(
        bucket,
        accounts=bucket.accounts.clear(),
        bills=bucket.bills.clear(),
        payments=bucket.payments.clear(),
        usage=bucket.usage.clear(),
        loaded_rows=loaded,
    )


def _merged(files: dict[str, str], buckets: list[Inputs]) -> Inputs:
    rows: dict[str, int] = {}
    loaded: dict[str, int] = {}
    for bucket in buckets:
        for name, count in bucket.rows_read.items():
            rows[name] = rows.get(name, 0) + count
        for name in ("accounts", "bills", "payments", "usage"):
            loaded[name] = loaded.get(name, 0) + bucket.loaded(name)
    first = buckets[0]
    return replace(
        first,
        rejects=sorted_rejects([r for b in buckets for r in b.rejects]),
        files=files,
        rows_read=rows,
        loaded_rows=loaded,
        duplicate_payments_ignored=sum(b.duplicate_payments_ignored for b in buckets),
    )


def count_accounts(folder: Path) -> int:
    """Rows of the accounts file, counted without reading it whole (0 if it cannot be)."""
    try:
        if (folder / "accounts.parquet").is_file():
            return int(
                pl.scan_parquet(folder / "accounts.parquet").select(pl.len()).collect().item()
            )
        if (folder / "accounts.csv").is_file():
            scan = pl.scan_csv(folder / "accounts.csv", infer_schema=False)
            return int(scan.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError):
        return 0
    return 0
