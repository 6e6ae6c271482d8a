"""Deciding day after day: a fast run advanced in several steps writes exactly the rows of one
run over the whole period, and ends in the same fees, states and protection figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
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
