"""Benchmark the engines: generate N accounts (Parquet, cached under benchmarks/.data), read
them, and run one decision day and the 91 days of 2020-01-01..2020-03-31 with the 2020
policies on the fast engine; run the reference engine on a sample of accounts in the same
process as the baseline, scaled to N; print wall times, accounts/s, the ratio and peak RSS.

    .venv/bin/python benchmarks/engine_bench.py --accounts 1000000
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date
from pathlib import Path

import polars as pl

from sanbuting.engine.buckets import automatic_buckets, run_in_buckets
from sanbuting.engine.fast import FastRun, run_fast
from sanbuting.engine.parallel import run_frames
from sanbuting.generate import GenerateRequest, generate
from sanbuting.io.readers import read_inputs
from sanbuting.policy import load_policies
from sanbuting.rules import rulesets_by_utility

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
START, END = date(2020, 1, 1), date(2020, 3, 31)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def timed(label: str, rows: list[tuple[str, float, str]], action):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    value = action()
    seconds = time.perf_counter() - began
    rows.append((label, seconds, f"peak RSS {peak_rss_gb():.1f} GB"))
    print(f"{label:<52} {seconds:8.2f} s", flush=True)
    return value, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument(
        "--sample",
        type=int,
        default=20_000,
        help="accounts the reference engine runs (scaled to --accounts)",
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    data = ROOT / "benchmarks" / ".data" / f"{args.accounts}-seed1"
    rows: list[tuple[str, float, str]] = []
    if not (data / "accounts.parquet").exists():
        timed(
            f"generate {args.accounts:,} accounts (Parquet)",
            rows,
            lambda: generate(
                GenerateRequest(accounts=args.accounts, out=data, seed=1, format="parquet")
            ),
        )
    inputs, _ = timed("read and check the inputs", rows, lambda: read_inputs(data))
    frames = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    policies = load_policies([POLICIES])
    rulesets = rulesets_by_utility()
    buckets = automatic_buckets(inputs.accounts.height)
    print(
        f"{inputs.accounts.height:,} accounts, {inputs.bills.height:,} bills, "
        f"{inputs.payments.height:,} payments, {inputs.usage.height:,} usage rows; "
        f"{buckets} bucket(s), {args.threads} thread(s)"
    )

    def fast(start: date, end: date) -> object:
        return run_in_buckets(
            frames,
            buckets,
            lambda b: run_fast(b, policies, rulesets, start, end, threads=args.threads),
        )

    timed(
        "fast engine: warm-up (compile or load the kernel)",
        rows,
        lambda: run_fast(
            tuple(f.head(0) for f in frames),
            policies,
            rulesets,  # type: ignore[arg-type]
            START,
            START,
        ),
    )
    _, quarter = timed(
        "fast engine: 91 days (2020-01-01..2020-03-31)", rows, lambda: fast(START, END)
    )
    stepper, _ = timed(
        "fast engine: load the arrays (prepare)",
        rows,
        lambda: FastRun(frames, policies, rulesets, START, threads=args.threads),
    )
    timed(
        "fast engine: decide 2020-01-01..2020-03-01",
        rows,
        lambda: stepper.advance(date(2020, 3, 1)),
    )
    _, one_day = timed(
        "fast engine: one decision day after loading (2020-03-02)",
        rows,
        lambda: stepper.advance(date(2020, 3, 2)),
    )
    sample_ids = inputs.accounts.get_column("account_id").sample(
        min(args.sample, inputs.accounts.height), seed=1
    )
    sample = tuple(f.filter(pl.col("account_id").is_in(sample_ids.implode())) for f in frames)
    _, reference = timed(
        f"reference engine: 91 days on {sample_ids.len():,} accounts",
        rows,
        lambda: run_frames(sample, policies, rulesets, START, END),
    )  # type: ignore[arg-type]
    scaled = reference * inputs.accounts.height / sample_ids.len()
    print()
    print(
        f"fast, 91 days: {inputs.accounts.height / quarter:,.0f} accounts/s; "
        f"reference (one process, scaled): {scaled:,.1f} s -> fast is {scaled / quarter:.1f}x"
    )
    print(
        f"fast, one decision day after loading: {one_day:.2f} s "
        f"(one bucket in memory; --buckets runs them in turn)"
    )
    print(f"peak RSS {peak_rss_gb():.1f} GB")


if __name__ == "__main__":
    main()
