"""One door into the engine: every engine behind one `run` that takes checked frames and gives
the same `RunTables`, named in one registry that `sanbuting run`, `sanbuting daily` and the
what-if all go through.

- `fast`: the vectorised engine (`engine.fast`), bucket by bucket above a few million accounts;
- `reference`: the plain-Python standard (`engine.reference`), one worker process per core;
- `spark`: the fast engine's buckets as Spark tasks over co-partitioned Parquet
  (`engine.spark`), for when one machine is outgrown (PySpark is an optional extra).

The engines are held equal by the property tests (`tests/test_engines_agree.py`) and every
scenario runs on each (`tests/test_run_outputs.py` is parametrized over `ENGINES`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from sanbuting.domain import Utility
from sanbuting.engine.buckets import Frames, automatic_buckets, run_in_buckets
from sanbuting.engine.fast import run_fast
from sanbuting.engine.fast.checkpoint import (
    Advanced,
    Checkpoint,
    accounts_in,
    advance_from,
    merged,
    split_advance,
)
from sanbuting.engine.frames import TABLES, RunFrames, RunTables, concat
from sanbuting.engine.parallel import default_workers, run_parallel
from sanbuting.engine.spark import advance_spark, run_spark
from sanbuting.errors import SanbutingError
from sanbuting.policy import Policy
from sanbuting.rules.schema import Ruleset


@dataclass(frozen=True)
class Options:
    """How to run: worker processes or threads (None: one per core), buckets (None: by the
    account count), a folder for an engine's working files (None: a temporary one), progress
    callbacks (days decided; accounts, when known), and whether an advance keeps the
    checkpoint of its last day (the dunning proposal needs none)."""

    workers: int | None = None
    buckets: int | None = None
    work: Path | None = None
    on_progress: Callable[[int], None] | None = None
    on_accounts: Callable[[int], None] | None = None
    keep_checkpoint: bool = True


class Engine(Protocol):
    resumes: bool
    """Whether `advance` goes on from a checkpoint (else the daily run replays the origin)."""

    def run(
        self,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        start: date,
        end: date,
        options: Options,
    ) -> RunTables:
        """The decisions of the days `start`..`end` over `frames`."""
        ...

    def advance(
        self,
        saved: Checkpoint | None,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        origin: date,
        through: date,
        options: Options,
    ) -> Advanced:
        """The days after `saved` (from `origin` when None) through `through`, and the
        checkpoint of `through` (`engine.fast.checkpoint.advance_from`)."""
        ...


class FastEngine:
    resumes = True

    def run(
        self,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        start: date,
        end: date,
        options: Options,
    ) -> RunTables:
        accounts = frames[0].height
        buckets = options.buckets or automatic_buckets(accounts)
        if options.on_accounts is not None:
            options.on_accounts(accounts if buckets > 1 else 0)
        threads = options.workers or default_workers()
        return run_in_buckets(
            frames,
            buckets,
            lambda bucket: run_fast(bucket, policies, rulesets, start, end, threads=threads),
            options.on_progress,
        )

    def advance(
        self,
        saved: Checkpoint | None,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        origin: date,
        through: date,
        options: Options,
    ) -> Advanced:
        threads = options.workers or default_workers()
        buckets = options.buckets or automatic_buckets(accounts_in(saved, frames))
        parts = [
            advance_from(
                checkpoint,
                bucket,
                policies,
                rulesets,
                origin,
                through,
                threads,
                keep=options.keep_checkpoint,
            )
            for checkpoint, bucket in split_advance(saved, frames, buckets)
        ]
        if len(parts) == 1:
            return parts[0]
        return Advanced(concat([p.tables for p in parts]), merged([p.checkpoint for p in parts]))


class ReferenceEngine:
    resumes = False

    def run(
        self,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        start: date,
        end: date,
        options: Options,
    ) -> RunTables:
        return run_parallel(
            frames,
            policies,
            rulesets,
            start,
            end,
            workers=options.workers,
            on_accounts=options.on_accounts,
            on_progress=options.on_progress,
        )

    def advance(
        self,
        saved: Checkpoint | None,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        origin: date,
        through: date,
        options: Options,
    ) -> Advanced:
        raise SanbutingError(
            "the reference engine replays from the origin: it has no checkpoints to go on from"
        )


class SparkEngine:
    resumes = True

    def run(
        self,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        start: date,
        end: date,
        options: Options,
    ) -> RunTables:
        buckets = options.buckets or automatic_buckets(frames[0].height)
        if options.work is not None:
            return run_spark(
                frames, policies, rulesets, start, end, buckets=buckets, work=options.work
            )
        with tempfile.TemporaryDirectory(prefix="sanbuting-spark-") as work:
            stored = run_spark(
                frames, policies, rulesets, start, end, buckets=buckets, work=Path(work)
            )
            return RunFrames(*(getattr(stored, name) for name in TABLES))  # before it goes

    def advance(
        self,
        saved: Checkpoint | None,
        frames: Frames,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        origin: date,
        through: date,
        options: Options,
    ) -> Advanced:
        buckets = options.buckets or automatic_buckets(accounts_in(saved, frames))
        with tempfile.TemporaryDirectory(prefix="sanbuting-spark-") as temporary:
            work = options.work or Path(temporary)
            return advance_spark(
                saved,
                frames,
                policies,
                rulesets,
                origin,
                through,
                buckets=buckets,
                work=work,
                keep=options.keep_checkpoint,
            )


ENGINES: dict[str, Engine] = {
    "fast": FastEngine(),
    "reference": ReferenceEngine(),
    "spark": SparkEngine(),
}


def engine_named(name: str) -> Engine:
    """The engine called `name`, or a clear error naming the ones there are."""
    found = ENGINES.get(name)
    if found is None:
        raise SanbutingError(f"engine {name!r} is not available: use one of {', '.join(ENGINES)}")
    return found
