"""Benchmark one decision day over a large input, bucket by bucket: each bucket is loaded
(checked, its arrays prepared, its days decided up to the day before), then the decision day
alone is timed; the day's time is the sum over buckets. Memory holds one bucket.

    .venv/bin/python benchmarks/decision_day.py --data benchmarks/.data/10000000-seed1 --buckets 20
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from sanbuting.engine.fast import FastRun
from sanbuting.io.partition import partition_inputs
from sanbuting.policy import load_policies
from sanbuting.rules import rulesets_by_utility

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--buckets", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    policies, rulesets = load_policies([POLICIES]), rulesets_by_utility()
    work = Path(tempfile.mkdtemp(prefix="sanbuting-day-"))
    try:
        began = time.perf_counter()
        partitioned = partition_inputs(args.data, work, args.buckets)
        assert partitioned is not None, "this input must be read whole"
        loading, deciding, with_snapshot, accounts = time.perf_counter() - began, 0.0, 0.0, 0
        for k in range(args.buckets):
            began = time.perf_counter()
            bucket = partitioned.check(k)
            frames = (bucket.accounts, bucket.bills, bucket.payments, bucket.usage)
            run = FastRun(frames, policies, rulesets, date(2020, 1, 1), threads=args.threads)
            run.advance(date(2020, 3, 1))
            loading += time.perf_counter() - began
            began = time.perf_counter()
            run.advance(date(2020, 3, 2), snapshot=False)  # the day's orders
            deciding += time.perf_counter() - began
            began = time.perf_counter()
            run.advance(date(2020, 3, 3))  # the next day, with fees and states as of it
            with_snapshot += time.perf_counter() - began
            accounts += bucket.accounts.height
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(
            f"{accounts:,} accounts in {args.buckets} buckets: loading {loading:.1f} s; "
            f"one decision day (2020-03-02: the day's actions and protections) "
            f"{deciding:.2f} s; the next day with the fees and states as of it "
            f"{with_snapshot:.2f} s; peak RSS {rss:.1f} GB"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
