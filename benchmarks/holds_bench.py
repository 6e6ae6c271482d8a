"""Benchmark account relief on the fast engine: generate N accounts (2020 Q1, cached under
benchmarks/.data), give a share of the postpaid accounts a lock or a promise to pay around the
day their first bill's cut-off would come (`--share`), and run the quarter with the 2020
policies on the fast engine without holds (the baseline) and with them, in the same process,
best of `--repeat`; print both, the ratio, and the time to compile the holds.

    .venv/bin/python benchmarks/holds_bench.py --accounts 200000 --share 0.02
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from sanbuting.engine.fast import run_fast
from sanbuting.engine.relief_column import attach
from sanbuting.generate import GenerateRequest, generate
from sanbuting.io.contract import HOLDS
from sanbuting.io.readers import read_inputs
from sanbuting.policy import load_policies
from sanbuting.rules import rulesets_by_utility

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
START, END = date(2020, 1, 1), date(2020, 3, 31)


def best(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def holds_for(bills: pl.DataFrame, share: float) -> pl.DataFrame:
    """A lock (even rows) or a promise of the first bill's amount (odd rows) for `share` of
    the accounts with bills, from 25 days after that bill's due date for 20 days."""
    first = bills.sort("due_on").group_by("account_id", maintain_order=True).first()
    chosen = first.filter(pl.col("account_id").hash(seed=7) % 10_000 < int(share * 10_000))
    rows = []
    for k, (account, due, amount) in enumerate(
        chosen.select("account_id", "due_on", "amount_fen").iter_rows()
    ):
        start = due + timedelta(days=25)
        promise = k % 2 == 1
        rows.append(
            {
                "hold_id": f"H{k}",
                "account_id": account,
                "kind": "promise" if promise else "hold",
                "from": start,
                "until": start + timedelta(days=20),
                "steps": "all",
                "amount_fen": amount if promise else None,
                "instalments": None,
                "reason": "hardship",
                "set_by": "bench",
            }
        )
    return pl.DataFrame(rows, schema=HOLDS.schema, orient="row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--share", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    data = ROOT / "benchmarks" / ".data" / f"{args.accounts}-seed1"
    if not (data / "accounts.parquet").exists():
        generate(GenerateRequest(accounts=args.accounts, out=data, seed=1, format="parquet"))
    inputs = read_inputs(data)
    policies = load_policies([POLICIES])
    rulesets = rulesets_by_utility()
    holds = holds_for(inputs.bills, args.share)
    began = time.perf_counter()
    held = attach(inputs.accounts, holds, inputs.payments, rulesets)
    compile_s = time.perf_counter() - began
    plain = (inputs.accounts, inputs.bills, inputs.payments, inputs.usage)
    with_holds = (held, inputs.bills, inputs.payments, inputs.usage)
    run_fast(plain, policies, rulesets, START, END, args.threads)  # compile the kernel
    baseline = best(
        args.repeat, lambda: run_fast(plain, policies, rulesets, START, END, args.threads)
    )
    relieved = best(
        args.repeat, lambda: run_fast(with_holds, policies, rulesets, START, END, args.threads)
    )
    result = run_fast(with_holds, policies, rulesets, START, END, args.threads)
    events = result.protections.filter(pl.col("kind").is_in(["hold", "promise"])).height
    n = inputs.accounts.height
    print(f"{n:,} accounts, {holds.height:,} holds ({events:,} hold events), 2020 Q1, "
          f"{args.threads} threads, best of {args.repeat}")  # fmt: skip
    print(f"compiling the holds onto the accounts        {compile_s:8.3f} s")
    print(
        f"fast engine, no holds (baseline)             {baseline:8.3f} s  {n / baseline:,.0f} acc/s"
    )
    print(
        f"fast engine, with holds                      {relieved:8.3f} s  {n / relieved:,.0f} acc/s"
    )
    print(f"with / without                               {relieved / baseline:8.2f}x")


if __name__ == "__main__":
    main()
