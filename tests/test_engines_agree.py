"""The fast engine and the reference engine write byte-identical output folders.

Property tests (`-m property`; `make fuzz` runs them under the `fuzz` profile) generate random
universes (`tests.strategies`) and run each through the reference engine in-process
(`run_frames`) and through the fast engine on one and on two threads, then write every result
with the one writer (`summarize` + `write_outputs`) and compare the files byte for byte. A
deterministic test does the same for a generated population of 2,000 accounts under the 2020
epidemic policies.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings

from sanbuting.domain import Utility
from sanbuting.engine.fast import run_fast
from sanbuting.engine.frames import RunFrames
from sanbuting.engine.parallel import run_frames
from sanbuting.engine.summary import summarize
from sanbuting.generate import GenerateRequest, generate
from sanbuting.io.outputs import write_outputs
from sanbuting.io.readers import read_inputs
from sanbuting.policy import Policy, load_policies
from sanbuting.rules import rulesets_by_utility
from sanbuting.rules.schema import Ruleset
from strategies import Frames, Universe, universes

OUTPUT_FILES = ("actions.csv", "protections.csv", "late_fees.csv", "states.csv", "summary.json")
RULESETS: dict[Utility, Ruleset] = rulesets_by_utility()
EXAMPLES_POLICIES = Path(__file__).parent.parent / "examples" / "policies" / "2020-epidemic.yaml"

LARGE_EXAMPLES = max(25, (settings.default or settings()).max_examples // 4)
"""Larger universes cost more per example: 50 under `ci` (200), 1,250 under `fuzz` (5000)."""


def _written(folder: Path, frames: RunFrames, start: date, end: date) -> dict[str, bytes]:
    """Write `frames` as an output folder in `folder`; the files' bytes by name."""
    summary = summarize(
        frames,
        start=start.isoformat(),
        end=end.isoformat(),
        inputs={"accounts.csv": "0" * 64},
        policies={"policies.yaml": "1" * 64},
        rejects=0,
    )
    write_outputs(folder, frames, summary)
    assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_FILES)
    return {name: (folder / name).read_bytes() for name in OUTPUT_FILES}


def _first_difference(reference: dict[str, bytes], other: dict[str, bytes], label: str) -> str:
    """A readable unified diff of the first file that differs ('' when none does)."""
    for name in OUTPUT_FILES:
        if reference[name] != other[name]:
            diff = difflib.unified_diff(
                reference[name].decode("utf-8").splitlines(),
                other[name].decode("utf-8").splitlines(),
                fromfile=f"reference/{name}",
                tofile=f"{label}/{name}",
                lineterm="",
            )
            return "\n".join(diff)
    return ""


def assert_engines_agree(
    frames: Frames, policies: Sequence[Policy], start: date, end: date
) -> dict[str, bytes]:
    """Reference vs fast on 1 and 2 threads: every output file byte-identical. Returns the
    reference's files."""
    listed = list(policies)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        reference = _written(
            root / "reference", run_frames(frames, listed, RULESETS, start, end), start, end
        )
        for threads in (1, 2):
            label = f"fast-{threads}"
            fast = _written(
                root / label,
                run_fast(frames, listed, RULESETS, start, end, threads=threads),
                start,
                end,
            )
            difference = _first_difference(reference, fast, label)
            assert not difference, f"the engines disagree:\n{difference}"
    return reference


@pytest.mark.property
@settings(deadline=None)
@given(universes())
def test_engines_agree_on_small_universes(universe: Universe) -> None:
    assert_engines_agree(universe.frames, universe.policies, universe.start, universe.end)


@pytest.mark.property
@settings(deadline=None, max_examples=LARGE_EXAMPLES)
@given(universes(min_accounts=20, max_accounts=60))
def test_engines_agree_on_larger_universes(universe: Universe) -> None:
    assert_engines_agree(universe.frames, universe.policies, universe.start, universe.end)


@pytest.mark.property
@settings(deadline=None)
@given(universes(holds=True))
def test_engines_agree_with_account_relief(universe: Universe) -> None:
    """Locks, promises and instalment plans (docs/account-relief.md) among the policies."""
    assert_engines_agree(universe.frames, universe.policies, universe.start, universe.end)


@pytest.mark.property
@settings(deadline=None, max_examples=LARGE_EXAMPLES)
@given(universes(min_accounts=20, max_accounts=60, holds=True))
def test_engines_agree_with_account_relief_on_larger_universes(universe: Universe) -> None:
    assert_engines_agree(universe.frames, universe.policies, universe.start, universe.end)


def test_engines_agree_on_a_generated_quarter(tmp_path: Path) -> None:
    """2,000 generated accounts (seed 7), the 2020 epidemic policies, 2020 Q1."""
    start, end = date(2020, 1, 1), date(2020, 3, 31)
    data = tmp_path / "data"
    generate(GenerateRequest(accounts=2000, out=data, seed=7, start=start, end=end))
    inputs = read_inputs(data)
    assert not inputs.rejects
    assert inputs.accounts.height == 2000
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    written = assert_engines_agree(frames, load_policies([EXAMPLES_POLICIES]), start, end)
    # The comparison means something: the quarter cuts accounts off and protects others.
    actions = written["actions.csv"].decode("utf-8")
    protections = written["protections.csv"].decode("utf-8").splitlines()
    assert ",disconnect," in actions
    assert ",suspend," in actions
    assert any(",exempt," in row for row in protections)
    assert any(",defer," in row for row in protections)
