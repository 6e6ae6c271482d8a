"""The Spark engine in Spark local mode (Java 17, the driver on 127.0.0.1): each bucket is a
Spark task running the fast step, and the output folder equals a local run's, byte for byte.

`make test` installs the `spark` extra and sets SANBUTING_REQUIRE_SPARK=1, so there this test
can only pass or fail; elsewhere it is skipped when PySpark is not installed.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from sanbuting.generate import GenerateRequest, generate
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.runner import RunRequest, run
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, StoredAction

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
NOW = datetime(2020, 6, 1, tzinfo=UTC)
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


def test_the_daily_run_through_the_spark_engine(tmp_path: Path) -> None:
    """`sanbuting daily --engine spark` (from the origin, Spark tasks over the buckets)
    records the very days the fast engine records."""
    data = tmp_path / "data"
    generate(GenerateRequest(accounts=300, out=data, seed=6))
    recorded = {}
    for name in ("fast", "spark"):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        with sessions(make_engine(url)).begin() as session:
            activate(session=session, path=POLICIES, by="t", at=NOW, company=None)
        outcome = import_and_book(
            data=data,
            start=date(2020, 1, 1),
            company=None,
            by="t",
            allow_rejects=True,
            rejects_file=tmp_path / "rejects.csv",
            url=url,
            book=False,
        )
        assert not outcome.refused
        engine = make_engine(url)
        run_daily(
            engine=engine,
            through=date(2020, 2, 15),
            single=False,
            now=lambda: NOW,
            engine_name=name,
        )
        with sessions(engine).begin() as session:
            recorded[name] = session.execute(
                select(
                    StoredAction.day, Account.account_id, StoredAction.action, StoredAction.bill_id
                )
                .join(Account, Account.id == StoredAction.account)
                .order_by(StoredAction.day, Account.account_id, StoredAction.id)
            ).all()
        engine.dispose()
    assert len(recorded["fast"]) > 20
    assert recorded["spark"] == recorded["fast"]
