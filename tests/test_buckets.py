"""Buckets and workers never change a run's output: the same bytes for any bucket count,
thread count or worker count, and for both engines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sanbuting.generate import GenerateRequest, generate
from sanbuting.runner import RunRequest, run

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("generated")
    generate(GenerateRequest(accounts=1500, out=data, seed=11))
    return data


def _run(data: Path, out: Path, **options: object) -> dict[str, bytes]:
    run(
        RunRequest(
            data=data,
            policy_files=[POLICIES],
            start=date(2020, 1, 1),
            end=date(2020, 3, 31),
            out=out,
            **options,
        )
    )  # type: ignore[arg-type]
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_bucket_thread_and_worker_counts_do_not_change_the_output(
    generated: Path, tmp_path: Path
) -> None:
    baseline = _run(generated, tmp_path / "one", buckets=1, workers=1)
    assert set(baseline) == {
        "actions.csv",
        "protections.csv",
        "late_fees.csv",
        "states.csv",
        "summary.json",
    }
    assert baseline["actions.csv"].count(b"\n") > 100  # the run did something worth comparing
    for name, options in {
        "three-buckets": {"buckets": 3, "workers": 1},
        "seven-buckets-two-threads": {"buckets": 7, "workers": 2},
        "reference": {"engine": "reference", "workers": 1},
    }.items():
        assert _run(generated, tmp_path / name, **options) == baseline, name


def test_buckets_partition_the_accounts_with_their_rows(generated: Path) -> None:
    from sanbuting.engine.buckets import split
    from sanbuting.io.readers import read_inputs

    inputs = read_inputs(generated)
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    parts = split(frames, 3)
    assert len(parts) == 3
    ids = [set(part[0].get_column("account_id")) for part in parts]
    assert all(ids) and sum(map(len, ids)) == inputs.accounts.height
    assert set().union(*ids) == set(inputs.accounts.get_column("account_id"))
    for part, own in zip(parts, ids, strict=True):
        for rows in part[1:]:
            assert set(rows.get_column("account_id")) <= own  # every row went with its account
    assert sum(part[3].height for part in parts) == inputs.usage.height
