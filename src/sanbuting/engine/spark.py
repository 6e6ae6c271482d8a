"""Running the fast engine on Spark when one machine is not enough.

The input frames are cut into N buckets by a hash of `account_id` and written as
co-partitioned Parquet (`inputs/bucket=K/{accounts,bills,payments,usage}.parquet`). Each
bucket is one Spark task: it reads its four files, runs the same fast step (`run_fast`) and
writes its result as Parquet parts (`parts/TABLE/part-K.parquet`). The driver reads the parts
one table at a time (`StoredRunFrames`) and writes the contract's CSV files and summary as for
a local run, byte for byte the same. Spark schedules, retries and places the tasks; sanbuting
never schedules anything itself. `pip install sanbuting[spark]` brings PySpark; see
docs/spark.md for a cluster.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sanbuting.domain import Utility
from sanbuting.engine.buckets import Frames, split
from sanbuting.engine.fast import run_fast
from sanbuting.engine.frames import RunTables, StoredRunFrames, write_part
from sanbuting.errors import SanbutingError
from sanbuting.policy.model import Policy
from sanbuting.rules.schema import Ruleset

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TABLES = ("accounts", "bills", "payments", "usage")


def write_buckets(frames: Frames, buckets: int, root: Path) -> list[Path]:
    """Write the co-partitioned Parquet inputs, one folder per non-empty bucket."""
    folders = []
    for number, bucket in enumerate(split(frames, buckets)):
        folder = root / f"bucket={number}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in zip(TABLES, bucket, strict=True):
            frame.write_parquet(folder / f"{name}.parquet")
        folders.append(folder)
    return folders


def run_bucket(
    folder: str,
    parts: str,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
) -> int:
    """One Spark task: the fast step over one bucket's inputs, written as Parquet parts."""
    inputs = [pl.read_parquet(Path(folder) / f"{name}.parquet") for name in TABLES]
    result = run_fast(
        (inputs[0], inputs[1], inputs[2], inputs[3]), policies, rulesets, start, end, threads=1
    )
    number = int(Path(folder).name.removeprefix("bucket="))
    write_part(result, Path(parts), number)
    return number


def local_session(master: str = "local[2]") -> SparkSession:
    """A Spark session on this machine, bound to the loopback address."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 (an optional extra)
    except ImportError as exc:
        raise SanbutingError(
            "--engine spark needs PySpark: pip install 'sanbuting[spark]'"
        ) from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder: Any = SparkSession.builder
    session: SparkSession = (
        builder.master(master)
        .appName("sanbuting")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    return session


def run_spark(
    frames: Frames,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
    *,
    buckets: int,
    work: Path,
    session: SparkSession | None = None,
) -> RunTables:
    """Run every bucket as a Spark task; the frames of the whole run come back merged."""
    folders = write_buckets(frames, buckets, work / "inputs")
    if not folders:
        return run_fast(frames, policies, rulesets, start, end)
    spark = session or local_session()
    parts = work / "parts"
    tasks = spark.sparkContext.parallelize([str(f) for f in folders], max(1, len(folders)))
    tasks.map(
        lambda folder: run_bucket(folder, str(parts), policies, rulesets, start, end)
    ).collect()
    return StoredRunFrames(parts)
