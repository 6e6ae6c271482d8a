"""Deciding day after day: a fast run advanced in several steps writes exactly the rows of one
run over the whole period, and ends in the same fees, states and protection figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sanbuting.engine.fast import FastRun
from sanbuting.generate import GenerateRequest, generate
from sanbuting.io.readers import read_inputs
from sanbuting.policy import load_policies
from sanbuting.rules import rulesets_by_utility

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"


def test_advancing_in_steps_equals_one_run(tmp_path: Path) -> None:
    generate(GenerateRequest(accounts=1200, out=tmp_path, seed=3))
    inputs = read_inputs(tmp_path)
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    policies, rulesets = load_policies([POLICIES]), rulesets_by_utility()
    start, end = date(2020, 1, 1), date(2020, 3, 31)
    whole = FastRun(frames, policies, rulesets, start, threads=2).advance(end)
    stepped = FastRun(frames, policies, rulesets, start, threads=2)
    steps = [
        stepped.advance(day, snapshot=day == end)  # decisions only, but for the last step
        for day in (date(2020, 1, 20), date(2020, 2, 1), date(2020, 2, 29), date(2020, 3, 1), end)
    ]
    assert whole.actions.height > 100 and whole.protections.height > 10
    assert_frame_equal(pl.concat([s.actions for s in steps]), whole.actions)
    assert_frame_equal(pl.concat([s.protections for s in steps]), whole.protections)
    for name in ("fees", "states", "protected"):
        assert_frame_equal(getattr(steps[-1], name), getattr(whole, name))
    assert steps[0].fees.is_empty() and steps[0].states.is_empty()


def test_growing_row_buffers_retry_from_the_kept_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sanbuting.engine import fast

    generate(GenerateRequest(accounts=600, out=tmp_path, seed=8))
    inputs = read_inputs(tmp_path)
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    policies, rulesets = load_policies([POLICIES]), rulesets_by_utility()
    start, end = date(2020, 1, 1), date(2020, 3, 31)
    whole = FastRun(frames, policies, rulesets, start, threads=1).advance(end)
    monkeypatch.setattr(fast, "EXACT_CAPACITY", 0)  # small buffers that must grow and retry
    monkeypatch.setattr(fast, "first_capacity", lambda accounts, bills: 16)
    calls: list[int] = []
    kernel = fast.run_range

    def counted(*args: object) -> None:
        calls.append(1)
        kernel(*args)

    monkeypatch.setattr(fast, "run_range", counted)
    stepped = FastRun(frames, policies, rulesets, start, threads=1)
    steps = [stepped.advance(day) for day in (date(2020, 2, 10), end)]
    assert len(calls) > 2 * len(stepped.ranges)  # at least one range ran again
    assert_frame_equal(pl.concat([s.actions for s in steps]), whole.actions)
    assert_frame_equal(steps[-1].fees, whole.fees)
    assert_frame_equal(steps[-1].states, whole.states)
