"""A run resumed from a checkpoint decides exactly what a run from the origin decides.

The store's day costs the day, not the history: a checkpoint keeps every account's state at
the end of a day (its open bills only), and the next day is decided from it and the rows dated
after it (`engine.fast.checkpoint`). The property test draws random universes and a day C
inside the run: the origin run over everything, against a run over the rows the store held on
day C (dated on or before it) checkpointed at C and resumed with the rest. Every row dated
after C, and every account's end state, must be the same; so must the fee of every bill the
checkpoint still carries.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from sanbuting.engine.fast import FastRun
from sanbuting.engine.fast.checkpoint import checkpoint_of, resume
from sanbuting.engine.registry import Options, engine_named
from sanbuting.generate import GenerateRequest, generate
from sanbuting.io.readers import read_inputs
from sanbuting.policy import load_policies
from sanbuting.rules import rulesets_by_utility
from strategies import Frames, universes

RULESETS = rulesets_by_utility()
ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"


def split(frames: Frames, day: date) -> tuple[Frames, Frames]:
    """The rows dated on or before `day` (what the store held then), and those after."""
    accounts, bills, payments, usage = frames
    before = (
        accounts,
        bills.filter(pl.col("issued_on") <= day),
        payments.filter(pl.col("paid_on") <= day),
        usage.filter(pl.col("date") <= day),
    )
    after = (
        accounts.clear(),
        bills.filter(pl.col("issued_on") > day),
        payments.filter(pl.col("paid_on") > day),
        usage.filter(pl.col("date") > day),
    )
    return before, after


def assert_resumed_equals_origin(
    frames: Frames,
    policies: list,
    start: date,
    end: date,
    cut: date,  # type: ignore[type-arg]
) -> None:
    whole = FastRun(frames, policies, RULESETS, start, threads=1).advance(end)
    before, after = split(frames, cut)
    first = FastRun(before, policies, RULESETS, start, threads=1)
    first.advance(cut, snapshot=False)
    saved = checkpoint_of(first, before[0], before[1], policies)
    resumed = resume(saved, after, policies, RULESETS, threads=1).advance(end)
    later = pl.col("date") > cut
    assert_frame_equal(resumed.actions, whole.actions.filter(later))
    assert_frame_equal(resumed.protections, whole.protections.filter(later))
    assert_frame_equal(resumed.states, whole.states)
    assert_frame_equal(resumed.protected, whole.protected)
    carried = whole.fees.filter(pl.col("bill_id").is_in(resumed.fees["bill_id"].implode()))
    assert_frame_equal(resumed.fees, carried)


@pytest.mark.property
@given(universe=universes(max_accounts=6), data=st.data())
def test_a_resumed_run_decides_what_the_origin_run_decides(universe, data) -> None:  # type: ignore[no-untyped-def]
    if universe.end <= universe.start:
        return
    days = (universe.end - universe.start).days
    cut = universe.start + timedelta(days=data.draw(st.integers(0, days - 1)))
    frames = (universe.accounts, universe.bills, universe.payments, universe.usage)
    assert_resumed_equals_origin(frames, list(universe.policies), universe.start, universe.end, cut)


def test_a_generated_quarter_resumed_at_several_days(tmp_path: Path) -> None:
    generate(GenerateRequest(accounts=1500, out=tmp_path, seed=5))
    inputs = read_inputs(tmp_path)
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    policies = load_policies([POLICIES])
    for cut in (date(2020, 1, 1), date(2020, 1, 23), date(2020, 2, 29), date(2020, 3, 30)):
        assert_resumed_equals_origin(frames, policies, date(2020, 1, 1), date(2020, 3, 31), cut)


def test_a_checkpoint_keeps_only_open_bills_and_refuses_other_policies(tmp_path: Path) -> None:
    generate(GenerateRequest(accounts=300, out=tmp_path, seed=6))
    inputs = read_inputs(tmp_path)
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    policies = load_policies([POLICIES])
    run = FastRun(frames, policies, RULESETS, date(2020, 1, 1), threads=1)
    run.advance(date(2020, 3, 31), snapshot=False)
    saved = checkpoint_of(run, inputs.accounts, inputs.bills, policies)
    assert 0 < saved.bills.height < inputs.bills.height  # settled bills are left out
    assert saved.accounts.height == inputs.accounts.height
    with pytest.raises(ValueError, match="other policies"):
        resume(saved, split(frames, date(2020, 3, 31))[1], policies[1:], RULESETS)


def test_the_fast_engine_advances_bucket_by_bucket_as_one_run(tmp_path: Path) -> None:
    """The daily run's door (`engine.registry`): the fast engine's advance over three buckets
    gives the rows of one run, and its merged checkpoint goes on as the whole one does."""
    generate(GenerateRequest(accounts=900, out=tmp_path, seed=7))
    inputs = read_inputs(tmp_path)
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    policies = load_policies([POLICIES])
    start, cut, end = date(2020, 1, 1), date(2020, 2, 10), date(2020, 3, 31)
    before, after = split(frames, cut)
    fast = engine_named("fast")
    results = {}
    for buckets in (1, 3):
        options = Options(workers=1, buckets=buckets)
        first = fast.advance(None, before, policies, RULESETS, start, cut, options)
        then = fast.advance(first.checkpoint, after, policies, RULESETS, start, end, options)
        results[buckets] = (first, then)
    one, three = results[1], results[3]
    assert three[0].checkpoint.accounts.height == 900
    assert_frame_equal(
        three[0].checkpoint.bills.sort("bill_id"), one[0].checkpoint.bills.sort("bill_id")
    )
    for part in (0, 1):
        assert_frame_equal(three[part].tables.actions, one[part].tables.actions.sort(pl.all()))
    unkept = fast.advance(
        three[0].checkpoint, after, policies, RULESETS, start, end,
        Options(workers=1, buckets=3, keep_checkpoint=False),
    )  # fmt: skip
    assert unkept.checkpoint is None  # the dunning proposal's advance: no checkpoint made
    assert_frame_equal(unkept.tables.actions, three[1].tables.actions)
    whole = FastRun(frames, policies, RULESETS, start, threads=1).advance(end)
    assert_frame_equal(three[1].tables.actions, whole.actions.filter(pl.col("date") > cut))
    assert three[1].tables.actions.height > 50
