"""Benchmark prepaid top-ups: booked alone (`payments.booking._top_up_way`) against the same
top-ups replaying the account's history, after a quarter and after a year, in the same process.

For each period a store of `sanbuting generate --seed 2020` data is imported with booking; two
disjoint samples of prepaid accounts are topped up 50 yuan two days after the data end, one
transaction each through `post_payment`: the first with the history replayed (the standard),
the second booked alone.

    python benchmarks/topup_bench.py --backend sqlite --accounts 2000 --payments 200
"""

from __future__ import annotations

import argparse
import os
import random
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from store_bench import (
    PG_URL,
    SEED,
    day_of_payments,
    fresh_store,
    generated_to,
    import_booked,
    load,
    post_in_batches,
)

from sanbuting.payments import booking
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account
from sanbuting.store.policy_versions import deployment_policies

PERIODS = (("a quarter", date(2020, 3, 31)), ("a year", date(2020, 12, 31)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--payments", type=int, default=200, help="top-ups in each sample")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    parser.add_argument("--pg-url", default=os.environ.get("SANBUTING_BENCH_PG_URL", PG_URL))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    alone = booking._top_up_way
    print(f"[{args.backend}] {args.accounts:,} accounts ({load()}):")
    for label, end in PERIODS:
        folder = generated_to(args.work, args.accounts, end)
        name = f"bench_topup_{end.month}" if args.backend == "postgresql" else f"topup-{end.month}"
        with fresh_store(args.backend, args.work, name, args.pg_url, False) as url:
            import_booked(url, folder, args.work)
            engine = make_engine(url)
            with sessions(engine).begin() as session:
                prepaid = sorted(
                    session.scalars(
                        select(Account.account_id).where(Account.billing_mode == "prepaid")
                    ).all()
                )
                policies = deployment_policies(session)
            size = min(args.payments, len(prepaid) // 2)
            sample = random.Random(SEED).sample(prepaid, 2 * size)

            def history(*_: Any, **__: Any) -> None:
                return None

            booking._top_up_way = history  # type: ignore[assignment]
            try:
                replayed, _ = post_in_batches(
                    engine, day_of_payments(sample[:size], end, 2), 1, policies
                )
            finally:
                booking._top_up_way = alone  # type: ignore[assignment]
            booked, _ = post_in_batches(engine, day_of_payments(sample[size:], end, 2), 1, policies)
            engine.dispose()
        print(
            f"  after {label}: {size:,} top-ups each, the history replayed "
            f"{1000 * replayed / size:.1f} ms, booked alone {1000 * booked / size:.1f} ms = "
            f"{replayed / booked:.2f}x"
        )


if __name__ == "__main__":
    main()
