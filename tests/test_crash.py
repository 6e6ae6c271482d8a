"""The short version of the crash trials (`scripts/crash_trials.py`) that `make test` runs: on
SQLite and PostgreSQL, two trials each of daily runs through checkpoints before and after a
small batch of payments, releases of held orders and a dispatch, each phase's worker process
SIGKILLed once at a random moment and restarted; every
payment must be posted once, the ledger must balance and match the crash-free reference, and
no order may be lost or sent twice. `make crash` runs the full version (100 trials a database,
thousands of payments).

The checker itself is tested too, on doctored snapshots, so that a trial cannot pass by
checking nothing."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeAlias

import pytest

from store_databases import BACKENDS

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
SEED = 4
PAYMENTS = 60
ACCOUNTS = 24
TRIALS = (1, 2)


def load_harness() -> ModuleType:
    """scripts/crash_trials.py as the module `crash_trials` (scripts/ is not a package; the
    directory goes on sys.path so that the fork server's workers import it by name)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module("crash_trials")


crash = load_harness()
Setup: TypeAlias = Any
"""crash_trials.Setup (the module is loaded at run time, so mypy cannot name its classes)."""


def base_url(backend: str) -> str | None:
    if backend == "sqlite":
        return None
    url = os.environ.get("SANBUTING_TEST_DATABASE_URL")
    if not url:
        pytest.skip("SANBUTING_TEST_DATABASE_URL is not set (make test sets it)")
    return url


@pytest.fixture(params=BACKENDS)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    """The dataset, the batch and the crash-free reference on one backend."""
    backend = request.param
    yield crash.make_setup(
        backend,
        SEED,
        PAYMENTS,
        ACCOUNTS,
        tmp_path,
        base_url(backend),
        kills=crash.FEWER_KILLS,
        start="fork",
    )


def test_killed_workers_lose_and_duplicate_nothing(shared: Setup) -> None:
    reference = shared.reference
    # The reference posted the batch, queued orders and settled every one of them.
    assert {row[0] for row in reference.payments} >= set(shared.batch_keys)
    assert {row[5] for row in reference.outbox} == {"done", "cancelled"}
    assert reference.cash_fen == reference.paid_fen > 0
    results = list(crash.run_trials(shared, TRIALS, jobs=1))
    report = "\n".join(result.line() for result in results)
    assert all(result.passed for result in results), report
    # The trials really killed workers (a phase may finish before its kill; not all three).
    assert sum(len(result.kills) for result in results) >= len(TRIALS), report
    assert any(kill.phase == "pay" for result in results for kill in result.kills), report


# -- the checker ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """A crash-free SQLite reference of a tiny batch (for doctoring)."""
    folder = tmp_path_factory.mktemp("checker")
    return crash.make_setup("sqlite", SEED, 40, 20, folder, None)


def doctored(setup: Setup, **changes: object) -> list[str]:
    snapshot = setup.reference
    altered = dataclasses.replace(snapshot, **changes)
    return crash.violations(altered, snapshot, setup.batch_keys)


def test_the_checker_passes_the_reference_itself(reference: Setup) -> None:
    assert doctored(reference) == []


def test_the_checker_catches_a_lost_or_doubled_payment(reference: Setup) -> None:
    payments = reference.reference.payments
    posted = [i for i, row in enumerate(payments) if row[0].startswith("trial-")]
    lost = payments[: posted[0]] + payments[posted[0] + 1 :]
    assert any("not posted" in p for p in doctored(reference, payments=lost))
    doubled = (*payments, payments[posted[0]])
    assert any("more than once" in p for p in doctored(reference, payments=doubled))


def test_the_checker_catches_an_unbalanced_or_missing_posting(reference: Setup) -> None:
    snapshot = reference.reference
    problems = doctored(reference, unbalanced=("pay:x",), cash_fen=snapshot.cash_fen + 1)
    assert any("do not sum to 0" in p for p in problems)
    assert any("cash lines sum to" in p for p in problems)
    assert any("postings" in p for p in doctored(reference, postings=snapshot.postings[1:]))


def test_the_checker_catches_a_lost_or_resent_order(reference: Setup) -> None:
    snapshot = reference.reference
    first = json.loads(snapshot.sent[0])["key"]
    resent = doctored(reference, sent=(*snapshot.sent, snapshot.sent[0]))
    assert any(f"more than once: ['{first}']" in p for p in resent)
    lost = doctored(reference, sent=snapshot.sent[1:])
    assert any("done but not sent" in p for p in lost)
    pending = tuple(
        (*row[:5], "pending", *row[6:]) if row[0] == first else row for row in snapshot.outbox
    )
    problems = doctored(reference, outbox=pending)
    assert any("neither done nor cancelled" in p for p in problems)
    assert any("sent but not done" in p for p in problems)
