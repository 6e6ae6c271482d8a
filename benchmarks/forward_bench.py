"""Benchmark open books brought forward (`jobs.books_forward`): a payment's cost against how
long its account has not paid, and what bringing the books forward costs the night.

A store of `sanbuting generate --seed 2020 --end 2020-03-31` data is imported with booking (the
import leaves every postpaid account's open book at its last row's day, about the end of
March). Disjoint samples of the postpaid accounts with principal open in that book (a walk
over their days accrues fees) then pay 50 yuan, one transaction each, after a first sample has
warmed the process and the database up:

- **fresh**: two days after the data end (their book is days old);
- **stale**: eleven months later, 2021-02-28 (their book is eleven months old: the walk goes
  over every day since, as it did for every account that does not pay before this change);
- **brought forward**: the same day, after `bring_forward` was run as the nightly runs would
  run it for 2021-03-03 (repeated until no book is stale: a night takes one account in 28).

The ratios printed (stale / fresh, brought forward / fresh) are of runs in the same process;
the forward rate is accounts a second.

    python benchmarks/forward_bench.py --backend sqlite --accounts 10000 --payments 1000
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from store_bench import (
    PG_URL,
    SEED,
    day_of_payments,
    fresh_store,
    generated_to,
    import_booked,
    load,
    open_item_ways,
    post_in_batches,
)

from sanbuting.jobs.books_forward import bring_forward
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Company, OpenItemRow
from sanbuting.store.policy_versions import deployment_policies

END = date(2020, 3, 31)
LATER = date(2021, 2, 28)
NIGHT = date(2021, 3, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=1_000, help="payments in each sample")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    parser.add_argument("--pg-url", default=os.environ.get("SANBUTING_BENCH_PG_URL", PG_URL))
    parser.add_argument("--keep", action="store_true", help="keep the store afterwards")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    folder = generated_to(args.work, args.accounts, END)
    name = f"bench_forward_{args.accounts}" if args.backend == "postgresql" else "forward"
    with fresh_store(args.backend, args.work, name, args.pg_url, args.keep) as url:
        import_booked(url, folder, args.work)
        engine = make_engine(url)
        with sessions(engine).begin() as session:
            owing = sorted(
                set(
                    session.scalars(
                        select(Account.account_id)
                        .join(OpenItemRow, OpenItemRow.account == Account.id)
                        .where(Account.billing_mode == "postpaid", OpenItemRow.principal_fen > 0)
                    ).all()
                )
            )
            policies = deployment_policies(session)
            companies = list(session.scalars(select(Company)))
        size = min(args.payments, len(owing) // 4)
        warm, fresh, stale, forwarded = _quarters(random.Random(SEED).sample(owing, 4 * size))
        rates: dict[str, float] = {}
        with open_item_ways() as ways:
            post_in_batches(engine, day_of_payments(warm, END, 1), 1, policies)
            took, _ = post_in_batches(engine, day_of_payments(fresh, END, 2), 1, policies)
            rates["fresh"] = size / took
            stale_day = (LATER - END).days
            took, _ = post_in_batches(engine, day_of_payments(stale, END, stale_day), 1, policies)
            rates["stale"] = size / took
            began = time.perf_counter()
            moved = postings = nights = 0
            while True:
                done = [
                    bring_forward(
                        engine=engine, company=c, last=NIGHT, now=lambda: datetime.now(tz=UTC)
                    )
                    for c in companies
                ]
                nights += 1
                moved += sum(d.accounts for d in done)
                postings += sum(d.postings for d in done)
                if not any(d.accounts for d in done):
                    break
            forward_took = time.perf_counter() - began
            took, _ = post_in_batches(
                engine, day_of_payments(forwarded, END, stale_day + 1), 1, policies
            )
            rates["brought forward"] = size / took
        engine.dispose()
    print(
        f"[{args.backend}] {args.accounts:,} accounts, {size:,} payments each "
        f"({ways.taken:,} of {4 * size:,} from open items; {load()}):"
    )
    for label, rate in rates.items():
        print(f"  {label}: {rate:,.1f} payments/s = {rate / rates['fresh']:.2f}x fresh")
    print(
        f"  brought forward: {moved:,} accounts in {nights - 1} nights' runs, {postings:,} "
        f"postings, {forward_took:.1f} s = {moved / forward_took:,.0f} accounts/s"
    )


def _quarters(sample: list[str]) -> list[list[str]]:
    size = len(sample) // 4
    return [sample[n * size : (n + 1) * size] for n in range(4)]


if __name__ == "__main__":
    main()
