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
from sanbuting.engine.frames import TABLES, RunFrames, RunTables
from sanbuting.engine.parallel import default_workers, run_parallel
from sanbuting.engine.spark import run_spark
from sanbuting.errors import SanbutingError
from sanbuting.policy import Policy
from sanbuting.rules.schema import Ruleset


@dataclass(frozen=True)
class Options:
    """How to run: worker processes or threads (None: one per core), buckets (None: by the
    account count), a folder for an engine's working files (None: a temporary one), and
    progress callbacks (days decided; accounts, when known)."""

    workers: int | None = None
    buckets: int | None = None
    work: Path | None = None
    on_progress: Callable[[int], None] | None = None
    on_accounts: Callable[[int], None] | None = None


class Engine(Protocol):
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


class FastEngine:
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


class ReferenceEngine:
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


class SparkEngine:
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
