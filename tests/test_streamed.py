"""Reading an input bucket by bucket gives exactly what reading it whole gives: the same
loaded rows, the same rejects (original files and lines), the same output folder; and an input
that cannot be checked bucket by bucket (an id used by two accounts) is read whole instead."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sanbuting.generate import GenerateRequest, generate
from sanbuting.io import outputs
from sanbuting.io.partition import partition_inputs
from sanbuting.io.readers import read_inputs
from sanbuting.io.rejects import sorted_rejects
from sanbuting.runner import RejectedInputs, RunRequest, run

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "data" / "inputs" / "broken"
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
KEYS = {
    "accounts": ["account_id"],
    "bills": ["bill_id"],
    "payments": ["payment_id"],
    "usage": ["account_id", "date"],
}


def _assert_buckets_equal_whole(folder: Path, work: Path, buckets: int) -> None:
    whole = read_inputs(folder)
    partitioned = partition_inputs(folder, work, buckets)
    assert partitioned is not None
    checked = [partitioned.check(k) for k in range(buckets)]
    assert sorted_rejects([r for b in checked for r in b.rejects]) == whole.rejects
    assert partitioned.files == whole.files
    assert sum(b.duplicate_payments_ignored for b in checked) == whole.duplicate_payments_ignored
    for name, key in KEYS.items():
        got = pl.concat([getattr(b, name) for b in checked])
        assert_frame_equal(got.sort(key), getattr(whole, name).sort(key))


def test_broken_inputs_give_the_same_rejects_bucket_by_bucket(tmp_path: Path) -> None:
    assert len(read_inputs(BROKEN).rejects) == 35
    _assert_buckets_equal_whole(BROKEN, tmp_path / "work", 3)


def test_generated_parquet_and_csv_bucket_by_bucket(tmp_path: Path) -> None:
    for form in ("csv", "parquet"):
        data = tmp_path / form
        generate(GenerateRequest(accounts=700, out=data, seed=9, format=form))  # type: ignore[arg-type]
        _assert_buckets_equal_whole(data, tmp_path / f"work-{form}", 4)


def test_an_id_used_by_two_accounts_is_checked_on_the_whole_input(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "examples" / "scenarios" / "p2-telecom-exempt-then-defer", data)
    bills = (data / "bills.csv").read_text(encoding="utf-8")
    (data / "bills.csv").write_text(bills.replace("YB2,Y2", "YB1,Y2"), encoding="utf-8")
    buckets = next(
        n for n in range(2, 50) if partition_inputs(data, tmp_path / "probe", n) is None
    )  # a count that puts Y1 and Y2 apart
    assert buckets < 50
    out = tmp_path / "out"
    request = RunRequest(
        data=data,
        policy_files=[POLICIES],
        start=date(2020, 1, 1),
        end=date(2020, 3, 31),
        out=out,
        buckets=buckets,
    )
    with pytest.raises(RejectedInputs, match="1 input rows rejected"):
        run(request)  # the duplicate is rejected as a whole read rejects it
    rejects = (out / "rejects.csv").read_text(encoding="utf-8")
    assert "bills.csv,3,bill_id,YB1,duplicate bill_id: first used at line 2" in rejects


def test_streamed_run_equals_whole_run_with_rejects_allowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(GenerateRequest(accounts=900, out=data, seed=4))
    with (data / "bills.csv").open("a", encoding="utf-8") as bills:
        bills.write("BAD1,NOPE,2020-01,2020-01-05,2020-01-20,100\n")  # an unknown account
    outputs = {}
    for buckets in (1, 4):
        out = tmp_path / f"out{buckets}"
        run(
            RunRequest(
                data=data,
                policy_files=[POLICIES],
                start=date(2020, 1, 1),
                end=date(2020, 3, 31),
                out=out,
                buckets=buckets,
                allow_rejects=True,
            )
        )
        outputs[buckets] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert "rejects.csv" in outputs[1] and b"NOPE" in outputs[1]["rejects.csv"]
    assert outputs[4] == outputs[1]


def test_stored_rows_written_in_small_chunks_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    generate(GenerateRequest(accounts=1500, out=data, seed=6))
    whole = tmp_path / "whole"
    run(
        RunRequest(
            data=data,
            policy_files=[POLICIES],
            start=date(2020, 1, 1),
            end=date(2020, 3, 31),
            out=whole,
            buckets=1,
        )
    )
    monkeypatch.setattr(outputs, "CHUNK_ROWS", 250)  # dozens of chunks per file
    chunked = tmp_path / "chunked"
    run(
        RunRequest(
            data=data,
            policy_files=[POLICIES],
            start=date(2020, 1, 1),
            end=date(2020, 3, 31),
            out=chunked,
            buckets=3,
        )
    )
    names = ["actions.csv", "protections.csv", "late_fees.csv", "states.csv", "summary.json"]
    assert (whole / "late_fees.csv").read_bytes().count(b"\n") > 2000
    for name in names:
        assert (chunked / name).read_bytes() == (whole / name).read_bytes(), name
