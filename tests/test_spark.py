"""The Spark engine in Spark local mode (Java 17, the driver on 127.0.0.1): each bucket is a
Spark task running the fast step, and the output folder equals a local run's, byte for byte.

`make test` installs the `spark` extra and sets SANBUTING_REQUIRE_SPARK=1, so there this test
can only pass or fail; elsewhere it is skipped when PySpark is not installed.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from sanbuting.generate import GenerateRequest, generate
from sanbuting.runner import RunRequest, run

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
OUTPUTS = ("actions.csv", "protections.csv", "late_fees.csv", "states.csv", "summary.json")

if os.environ.get("SANBUTING_REQUIRE_SPARK") != "1":
    pytest.importorskip("pyspark")


def _run(data: Path, out: Path, engine: str) -> dict[str, bytes]:
    run(
        RunRequest(
            data=data,
            policy_files=[POLICIES],
            start=date(2020, 1, 1),
            end=date(2020, 3, 31),
            out=out,
            engine=engine,
            buckets=3,
        )
    )
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def test_spark_local_mode_equals_the_local_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(GenerateRequest(accounts=900, out=data, seed=5))
    local = _run(data, tmp_path / "local", "fast")
    spark = _run(data, tmp_path / "spark", "spark")
    assert local["actions.csv"].count(b"\n") > 50
    assert spark == local
    parts = sorted(p.name for p in (tmp_path / "spark" / "spark" / "parts" / "actions").glob("*"))
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
