"""Running the fast engine on Spark when one machine is not enough.

The input frames are cut into N buckets by a hash of `account_id` and written as
co-partitioned Parquet (`inputs/bucket=K/{accounts,bills,payments,usage}.parquet`). Each
bucket is one Spark task: it reads its four files, runs the same fast step (`run_fast`) and
writes its result as Parquet parts (`parts/TABLE/part-K.parquet`). The driver reads the parts
one table at a time (`StoredRunFrames`) and writes the contract's CSV files and summary as for
a local run, byte for byte the same. The daily run's advance (`advance_spark`) goes the same
way from a checkpoint cut by bucket, each task writing its bucket's new checkpoint beside its
rows. Spark schedules, retries and places the tasks; sanbuting
never schedules anything itself. `pip install sanbuting[spark]` brings PySpark; see
docs/spark.md for a cluster.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sanbuting.domain import Utility
from sanbuting.engine.buckets import Frames, split
from sanbuting.engine.fast import run_fast
from sanbuting.engine.fast.checkpoint import (
    Advanced,
    Checkpoint,
    accounts_in,
    advance_from,
    fingerprint,
    merged,
    split_advance,
)
from sanbuting.engine.frames import TABLES as RUN_TABLES
from sanbuting.engine.frames import RunFrames, RunTables, StoredRunFrames, write_part
from sanbuting.errors import SanbutingError
from sanbuting.policy.model import Policy
from sanbuting.rules.schema import Ruleset

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TABLES = ("accounts", "bills", "payments", "usage")


def write_buckets(frames: Frames, buckets: int, root: Path) -> list[Path]:
    """Write the co-partitioned Parquet inputs, one folder per non-empty bucket."""
    return [
        write_bucket(root / f"bucket={number}", bucket)
        for number, bucket in enumerate(split(frames, buckets))
    ]


def write_bucket(folder: Path, bucket: Frames) -> Path:
    """One bucket's four tables as `folder/TABLE.parquet`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(TABLES, bucket, strict=True):
        frame.write_parquet(folder / f"{name}.parquet")
    return folder


def read_bucket(folder: Path) -> Frames:
    """The four tables `write_bucket` wrote."""
    accounts, bills, payments, usage = (
        pl.read_parquet(folder / f"{name}.parquet") for name in TABLES
    )
    return accounts, bills, payments, usage


def run_bucket(
    folder: str,
    parts: str,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
) -> int:
    """One Spark task: the fast step over one bucket's inputs, written as Parquet parts."""
    result = run_fast(read_bucket(Path(folder)), policies, rulesets, start, end, threads=1)
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


def advance_spark(
    saved: Checkpoint | None,
    frames: Frames,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    origin: date,
    through: date,
    *,
    buckets: int,
    work: Path,
    session: SparkSession | None = None,
    keep: bool = True,
) -> Advanced:
    """A daily run's advance with every bucket a Spark task: the checkpoint (cut by bucket)
    and the rows after it are written in a folder of their own under `work` (storage every
    executor reads, removed afterwards); each task
    goes on from its bucket's checkpoint and writes its rows and its new checkpoint as Parquet
    parts; the driver reads them back, merged (`engine.fast.checkpoint`)."""
    if accounts_in(saved, frames) == 0:
        return advance_from(saved, frames, policies, rulesets, origin, through, keep=keep)
    cut = split_advance(saved, frames, buckets)
    here = work / f"advance-{through.isoformat()}-{uuid.uuid4().hex[:12]}"
    try:
        return _advance_tasks(cut, policies, rulesets, origin, through, here, session, keep)
    finally:
        shutil.rmtree(here, ignore_errors=True)


def _advance_tasks(
    cut: list[tuple[Checkpoint | None, Frames]],
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    origin: date,
    through: date,
    work: Path,
    session: SparkSession | None,
    keep: bool,
) -> Advanced:
    saved = cut[0][0]
    inputs, parts, kept = work / "inputs", work / "parts", work / "checkpoint"
    folders = []
    for number, (checkpoint, bucket) in enumerate(cut):
        folder = write_bucket(inputs / f"bucket={number}", bucket)
        if checkpoint is not None:
            checkpoint.accounts.write_parquet(folder / "checkpoint_accounts.parquet")
            checkpoint.bills.write_parquet(folder / "checkpoint_bills.parquet")
        folders.append(str(folder))
    spark = session or local_session()
    day, mark = (saved.day, saved.fingerprint) if saved is not None else (None, "")
    tasks = spark.sparkContext.parallelize(folders, len(folders))
    tasks.map(
        lambda folder: advance_bucket(
            folder,
            str(parts),
            str(kept) if keep else None,
            (day, mark),
            policies,
            rulesets,
            origin,
            through,
        )
    ).collect()
    stored = StoredRunFrames(parts)
    tables = RunFrames(*(getattr(stored, name) for name in RUN_TABLES))
    made = [
        Checkpoint(
            through,
            fingerprint(policies, rulesets),
            pl.read_parquet(kept / f"accounts-{number:05d}.parquet"),
            pl.read_parquet(kept / f"bills-{number:05d}.parquet"),
        )
        for number in range(len(folders) if keep else 0)
    ]
    return Advanced(tables, merged(made))


def advance_bucket(
    folder: str,
    parts: str,
    kept: str | None,
    saved: tuple[date | None, str],
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    origin: date,
    through: date,
) -> int:
    """One Spark task of `advance_spark`: its bucket's checkpoint (when `saved` names its day
    and fingerprint) and rows, advanced, written as parts (its new checkpoint under `kept`,
    unless None)."""
    day, mark = saved
    checkpoint = None
    if day is not None:
        checkpoint = Checkpoint(
            day,
            mark,
            pl.read_parquet(Path(folder) / "checkpoint_accounts.parquet"),
            pl.read_parquet(Path(folder) / "checkpoint_bills.parquet"),
        )
    advanced = advance_from(
        checkpoint,
        read_bucket(Path(folder)),
        policies,
        rulesets,
        origin,
        through,
        threads=1,
        keep=kept is not None,
    )
    number = int(Path(folder).name.removeprefix("bucket="))
    write_part(advanced.tables, Path(parts), number)
    if kept is None or advanced.checkpoint is None:
        return number
    Path(kept).mkdir(parents=True, exist_ok=True)
    advanced.checkpoint.accounts.write_parquet(Path(kept) / f"accounts-{number:05d}.parquet")
    advanced.checkpoint.bills.write_parquet(Path(kept) / f"bills-{number:05d}.parquet")
    return number
