"""The Spark engine in Spark local mode (Java 17, the driver on 127.0.0.1): each bucket is a
Spark task running the fast step, and the output folder equals a local run's, byte for byte.

`make test` installs the `spark` extra and sets SANBUTING_REQUIRE_SPARK=1, so there this test
can only pass or fail; elsewhere it is skipped when PySpark is not installed.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from sanbuting.engine.fast.checkpoint import MEM
from sanbuting.engine.fast.kernel import L_ACCOUNT, L_AP_HI, L_AP_LO, L_PAY, L_USE
from sanbuting.generate import GenerateRequest, generate
from sanbuting.jobs import daily as daily_module
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.runner import RunRequest, run
from sanbuting.store import checkpoints
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import CheckpointDirty, Company
from test_store_checkpoints import recorded_after

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
NOW = datetime(2020, 6, 1, tzinfo=UTC)
MOVING = [MEM[k] for k in (L_ACCOUNT, L_AP_LO, L_AP_HI, L_PAY, L_USE)]
"""A checkpoint's cursors into its run's arrays: re-based when it is resumed."""
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


def _split_payments(data: Path, first: Path, late: Path) -> int:
    """`data` as two imports: `first` without the payments of accounts ending in 7 dated
    2020-02-01..15 (back-dated when they arrive after 2020-02-15 is recorded), `late` with
    them only."""
    for folder in (first, late):
        shutil.copytree(data, folder)
    payments = pl.read_csv(data / "payments.csv", infer_schema=False)
    held = (
        pl.col("account_id").str.ends_with("7")
        & (pl.col("paid_at") >= "2020-02-01")
        & (pl.col("paid_at") < "2020-02-16")
    )
    payments.filter(~held).write_csv(first / "payments.csv")
    payments.filter(held).write_csv(late / "payments.csv")
    return payments.filter(held).height


def test_the_daily_run_through_the_spark_engine_goes_on_from_checkpoints(tmp_path: Path) -> None:
    """`sanbuting daily --engine spark`: the first run goes from the origin and leaves a
    checkpoint made by the Spark tasks (three buckets, merged); after a back-dated import the
    next run reads only the rows after it, derives the dirty accounts again and goes on as
    Spark tasks. Every recorded day equals what the fast engine records."""
    data = tmp_path / "data"
    generate(GenerateRequest(accounts=300, out=data, seed=6))
    held = _split_payments(data, tmp_path / "first", tmp_path / "late")
    assert held > 3
    reads: dict[str, list[date | None]] = {}
    kept: dict[str, pl.DataFrame] = {}
    for name in ("fast", "spark"):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        with sessions(make_engine(url)).begin() as session:
            activate(session=session, path=POLICIES, by="t", at=NOW, company=None)
        engine = make_engine(url)
        for part, through in (("first", date(2020, 2, 15)), ("late", date(2020, 2, 29))):
            outcome = import_and_book(
                data=tmp_path / part,
                start=date(2020, 1, 1),
                company=None,
                by="t",
                allow_rejects=True,
                rejects_file=tmp_path / "rejects.csv",
                url=url,
                book=False,
            )
            assert not outcome.refused
            spied = reads.setdefault(f"{name}-{part}", [])
            original = daily_module.load_run_frames

            def spy(*args, spied=spied, original=original, **kwargs):  # type: ignore[no-untyped-def]
                spied.append(kwargs.get("after"))
                return original(*args, **kwargs)

            daily_module.load_run_frames = spy  # type: ignore[assignment]
            try:
                run_daily(
                    engine=engine,
                    through=through,
                    single=False,
                    now=lambda: NOW,
                    engine_name=name,
                    buckets=3,
                    work=tmp_path / f"work-{name}",
                )
            finally:
                daily_module.load_run_frames = original  # type: ignore[assignment]
        with sessions(engine).begin() as session:
            marks = session.execute(select(CheckpointDirty.cleared)).scalars().all()
            assert marks and all(marks)  # the back-dated payments marked accounts, all served
            power = session.scalar(select(Company.id).where(Company.code == "power"))
            assert power is not None
            saved = checkpoints.load(session, power, date(2020, 2, 29))
            assert saved is not None
            kept[name] = saved.accounts.drop(MOVING)
        engine.dispose()
    assert reads["spark-first"] == [None, None, None]  # from the origin, each company
    assert reads["spark-late"] == [date(2020, 2, 15)] * 3  # the checkpoint and the days after
    assert reads["fast-late"] == reads["spark-late"]
    assert kept["spark"].equals(kept["fast"])
    fast = recorded_after(f"sqlite:///{tmp_path / 'fast'}.db", date(2019, 12, 31))
    spark = recorded_after(f"sqlite:///{tmp_path / 'spark'}.db", date(2019, 12, 31))
    assert fast.filter(pl.col("date") > date(2020, 2, 15)).height > 20
    assert spark.equals(fast)
    assert not list((tmp_path / "work-spark").glob("advance-*"))  # its working files removed
