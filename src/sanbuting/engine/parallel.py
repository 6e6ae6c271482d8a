"""Running the reference engine over many accounts on every core.

Accounts are independent, so the input frames are cut into chunks by a hash of `account_id`;
each chunk runs in a worker process (started with `spawn`: Polars' threads do not survive a
`fork`), and the rows come back to be merged and sorted. The output does not depend on the
number of chunks or workers. Small runs stay in this process.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import date
from multiprocessing import get_context

from sanbuting.domain import Utility
from sanbuting.engine.buckets import Frames, split
from sanbuting.engine.frames import RunFrames, concat, from_result
from sanbuting.engine.simulate import accounts_from_frames, simulate
from sanbuting.policy.model import Policy
from sanbuting.rules.schema import Ruleset

IN_PROCESS_BELOW = 20_000
"""Runs over fewer accounts than this are not worth starting workers for."""
CHUNKS_PER_WORKER = 4


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small records are built: they
    hold no cycles worth collecting, and the collector's passes would double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def default_workers() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def run_frames(
    frames: Frames,
    policies: Sequence[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
) -> RunFrames:
    """Group one set of frames into accounts and run them (in this process)."""
    with gc_paused():
        accounts = accounts_from_frames(*frames)
        return from_result(simulate(accounts, policies, rulesets, start, end))


def run_parallel(
    frames: Frames,
    policies: Sequence[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
    *,
    workers: int | None = None,
    on_accounts: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> RunFrames:
    """Run every account of `frames`, on `workers` processes when the run is large."""
    total = frames[0].height
    if on_accounts is not None:
        on_accounts(total)
    workers = workers or default_workers()
    if workers <= 1 or total < IN_PROCESS_BELOW:
        result = run_frames(frames, policies, rulesets, start, end)
        if on_progress is not None:
            on_progress(total)
        return result
    parts: list[RunFrames] = []
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(run_frames, chunk, policies, rulesets, start, end): chunk[0].height
            for chunk in split(frames, workers * CHUNKS_PER_WORKER)
        }
        for future in as_completed(futures):
            parts.append(future.result())
            if on_progress is not None:
                on_progress(futures[future])
    return concat(parts)
