"""Posting payments from several client processes at once, one transaction each: what a
deployment's workers (`serve --workers N`, several bank channels) do to one database.

Each process opens its own engine, reads the policies in force once (as a long-running worker
does), waits for the others at a barrier and posts its share; the rate is all the payments over
the time from the barrier until the last process is done."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.policy_versions import deployment_policies


def _post_share(url: str, share: Sequence[PaymentIn], start: Any) -> None:
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        policies = deployment_policies(session)
    start.wait()
    for payment in share:
        with sessions(engine).begin() as session:
            post_payment(
                session=session, payment=payment, policies=policies, now=datetime.now(tz=UTC)
            )
    engine.dispose()


def post_concurrently(url: str, payments: Sequence[PaymentIn], clients: int) -> float:
    """Seconds to post `payments` from `clients` processes (payment i by process i mod
    `clients`), started together."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(clients + 1)
    workers = [
        context.Process(target=_post_share, args=(url, list(payments[k::clients]), start))
        for k in range(clients)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a client process failed (exit code {worker.exitcode})")
    return time.perf_counter() - began
