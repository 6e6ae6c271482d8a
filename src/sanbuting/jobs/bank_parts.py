"""A bank file's rows posted in parts at once, one process a part (`sanbuting pay --file
--jobs N`): a payment's work is about half Python and half the database's, so one process
leaves a core idle while it waits; N processes keep both busy.

The parts come from `jobs.bank_file.split` (an account's rows, and a key's rows, all in one
part), so the parts touch disjoint accounts and keys: their transactions never wait for each
other's locks, and every row gets the result it would get in one process. Each part is posted
in batches, a transaction each, as one process posts them: a crash loses at most the batches
being written, and a rerun of the file posts the rest (the keys posted answer `repeated`).

The processes are forked (they inherit the rows, the posting function and the loaded code);
where the system cannot fork, the parts are posted one after the other in this process.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from multiprocessing.context import ForkContext
from multiprocessing.queues import Queue
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from sanbuting.errors import SanbutingError

if TYPE_CHECKING:
    from sanbuting.jobs.bank_file import BankRow, RowResult

Post = Callable[["list[BankRow]", Callable[[int], None]], "list[RowResult]"]


def post_in_parts(
    *,
    engine: Engine,
    parts: list[list[BankRow]],
    post: Post,
    on_batch: Callable[[int], None] | None,
) -> list[RowResult]:
    """Each of `parts` posted by `post(rows, on_batch)` in a forked process of its own; every
    row's result, in the parts' order. The batches each part posted stay posted if another
    part fails."""
    context = _fork()
    if context is None or len(parts) < 2:
        return [r for part in parts for r in post(part, on_batch or (lambda _: None))]
    messages: Queue[tuple[int, str, Any]] = context.Queue()
    workers = [
        context.Process(target=_work, args=(engine, n, part, post, messages), daemon=True)
        for n, part in enumerate(parts)
    ]
    for worker in workers:
        worker.start()
    results: dict[int, list[RowResult]] = {}
    failed: dict[int, str] = {}
    while len(results) + len(failed) < len(workers):
        try:
            n, kind, value = messages.get(timeout=1.0)
        except queue.Empty:
            for n, worker in enumerate(workers):
                if n not in results and n not in failed and worker.exitcode not in (None, 0):
                    failed[n] = f"a process stopped (exit code {worker.exitcode})"
            continue
        if kind == "batch" and on_batch is not None:
            on_batch(int(value))
        elif kind == "done":
            results[n] = value
        elif kind == "failed":
            failed[n] = str(value)
    for worker in workers:
        worker.join()
    if failed:
        raise SanbutingError(
            f"posting stopped: {next(iter(failed.values()))}; the batches posted before stay "
            "posted, so post the same file again once the cause is fixed (their rows answer "
            "repeated)"
        )
    return [r for n in range(len(parts)) for r in results[n]]


def _fork() -> ForkContext | None:
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return None
    assert isinstance(context, ForkContext)
    return context


def _work(
    engine: Engine,
    n: int,
    rows: list[BankRow],
    post: Post,
    messages: Queue[tuple[int, str, Any]],
) -> None:
    """One part's process: the engine's connections are the parent's, so it opens its own."""
    engine.dispose(close=False)
    try:
        results = post(rows, lambda count: messages.put((n, "batch", count)))
    except SanbutingError as exc:
        messages.put((n, "failed", str(exc)))
    except Exception:  # reported to the parent as a sentence, not lost
        messages.put((n, "failed", "the database or the system failed while posting"))
    else:
        messages.put((n, "done", results))
    finally:
        engine.dispose()
