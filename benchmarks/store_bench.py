"""Benchmark the store (issue 5) on SQLite and PostgreSQL: payments posted through
`post_payment`, the daily run over a large store, and the ledger-booking rate of an import.

Every store is built fresh from `sanbuting generate --seed 2020` data (cached under --work),
with examples/policies/2020-epidemic.yaml activated before the import and 2020-01-01 as the
companies' start. PostgreSQL stores go in a schema of their own, dropped afterwards.

    # payments/s, one transaction per payment (the baseline, as `sanbuting pay` or an API call
    # posts) against 100 and 1,000 per transaction, and replays of a key already posted
    python benchmarks/store_bench.py payments --backend sqlite --accounts 10000 --payments 2000
    python benchmarks/store_bench.py payments --backend both --accounts 10000 --payments 2000

    # `db import --no-book`, `daily --through 2020-03-31` and one more `daily --date 2020-04-01`,
    # each in a process of its own under /usr/bin/time -v (wall, peak RSS), with the daily
    # run's time split into loading the frames, deciding and recording the days
    python benchmarks/store_bench.py daily --backend sqlite --accounts 1000000

    # one more day after one month against one more day after eleven months (a year stored)
    python benchmarks/store_bench.py history --backend sqlite --accounts 100000

    # payments from open items against payments that replay the history, after a quarter and
    # after a year of history (each account paid on the days after its data end: the history;
    # open items, the driver's way on PostgreSQL; open items, the ORM's way; then open items
    # from --clients processes at once)
    python benchmarks/store_bench.py open-items --backend postgresql --accounts 10000 --clients 2

    # a bank's day of payments, posted from a file (`sanbuting pay --file`), rows/s
    python benchmarks/store_bench.py bank-file --backend sqlite --accounts 10000 --payments 10000

    # the ledger-booking rate: `db import --no-book` then `db book`, against `db import`
    python benchmarks/store_bench.py book --backend sqlite --accounts 100000

No timed assertions: the script prints rates and ratios against a baseline run in the same
process (payments) or in the same invocation (daily, book). Note the load (`uptime`) printed
with each run: other work on the machine moves these numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from clients import post_concurrently
from floor import drop as drop_floor
from floor import floor_rate
from floor import prepare as prepare_floor
from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.engine import Engine

import sanbuting.jobs.daily as daily_module
from sanbuting.domain import SHANGHAI
from sanbuting.generate import GenerateRequest, generate
from sanbuting.jobs.activation import activate
from sanbuting.jobs.bank_file import BankRow, post_rows
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.payments import booking, lean
from sanbuting.payments.service import PaymentIn, PaymentResult, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, LedgerLine, OpenBookRow, OpenItemRow, Posting
from sanbuting.store.policy_versions import deployment_policies

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
SANBUTING = Path(sys.executable).parent / "sanbuting"
START = date(2020, 1, 1)
SEED = 2020
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[int]]:
    """Count the statements `engine` sends while the block runs (`[count]`), those the
    driver's way of posting sends (`payments.lean.send`) included."""
    count = [0]
    real = lean.send

    def counted(*_: Any) -> None:
        count[0] += 1

    def send(connection: Any, statements: Any) -> Any:
        count[0] += len(statements)
        return real(connection, statements)

    event.listen(engine, "before_cursor_execute", counted)
    lean.send = send  # type: ignore[assignment]
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", counted)
        lean.send = real  # type: ignore[assignment]


def compare_with_floor(url: str, statements: float, rate: float, transactions: int) -> None:
    """Print `rate` (payments/s, one client) against the machine's floor: payment-shaped
    transactions of as many plain statements from psycopg alone (benchmarks/floor.py)."""
    count = max(5, round(statements))
    prepare_floor(url)
    try:
        single = floor_rate(url, count, 1, transactions)
        double = floor_rate(url, count, 2, transactions)
        five = floor_rate(url, 5, 2, transactions)
    finally:
        drop_floor(url)
    print(
        f"  the floor here: {count} plain statements a transaction from psycopg, nothing else: "
        f"{single:,.0f}/s with one client, {double:,.0f}/s with two; 5 statements with two "
        f"clients {five:,.0f}/s. post_payment = {rate / single:.2f}x the one-client floor"
    )


def load() -> str:
    """The machine's load averages (1, 5, 15 min), to print with each measurement."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def generated(args: argparse.Namespace) -> Path:
    """The `sanbuting generate --accounts N --seed 2020` folder (CSV), generated once (or the
    folder given as --data)."""
    if args.data is not None:
        return Path(str(args.data))
    accounts = int(args.accounts)
    folder = Path(args.work) / f"g{accounts}-seed{SEED}"
    if not (folder / "usage.csv").exists():
        began = time.perf_counter()
        generate(GenerateRequest(accounts=accounts, out=folder, seed=SEED))
        print(f"generated {accounts:,} accounts in {time.perf_counter() - began:.1f} s")
    return folder


@contextmanager
def fresh_store(backend: str, work: Path, name: str, pg_url: str, keep: bool) -> Iterator[str]:
    """The URL of an empty store, migrated to head (SQLite: a file under `work`; PostgreSQL: a
    schema of its own, dropped afterwards unless `keep`)."""
    if backend == "sqlite":
        path = work / f"{name}.db"
        for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        if not keep:
            for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        return
    admin = create_engine(pg_url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {name}"))
    separator = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{separator}options=-csearch_path%3D{name}"
    try:
        upgrade(url)
        yield url
    finally:
        if not keep:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        admin.dispose()


def generated_to(work: Path, accounts: int, end: date) -> Path:
    """`sanbuting generate --accounts N --seed 2020 --end END` under `work`, generated once."""
    folder = work / f"g{accounts}-seed{SEED}-{end}"
    if not (folder / "accounts.csv").exists():
        generate(GenerateRequest(accounts=accounts, out=folder, seed=SEED, end=end))
    return folder


def import_booked(url: str, folder: Path, work: Path) -> None:
    """The 2020 policies activated in the store at `url`, then `folder` imported with booking."""
    activate_policies(url)
    outcome = import_and_book(
        data=folder, start=START, company=None, by="bench", allow_rejects=False,
        rejects_file=work / "rejects.csv", url=url,
    )  # fmt: skip
    assert not outcome.refused, outcome


def activate_policies(url: str) -> None:
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        activate(session=session, path=POLICIES, by="bench", at=datetime.now(tz=UTC), company=None)
    engine.dispose()


def count_postings(url: str) -> tuple[int, int]:
    """Postings and ledger lines in the store."""
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        postings = session.scalar(select(func.count()).select_from(Posting)) or 0
        lines = session.scalar(select(func.count()).select_from(LedgerLine)) or 0
    engine.dispose()
    return postings, lines


# ---- payments --------------------------------------------------------------------------------


def payment_mix(
    account_ids: Sequence[str], phases: Sequence[str], per_phase: int, tag: str
) -> dict[str, list[PaymentIn]]:
    """Seeded payments with new keys, `per_phase` for each phase: accounts drawn at random (each
    account paid once across all phases when there are enough of them, so that no phase meets a
    ledger the one before it grew), amounts 1–300 yuan, paid at a random second of 2020-03
    (Asia/Shanghai), posted in the order they were paid within each phase."""
    rng = random.Random(SEED)
    wanted = per_phase * len(phases)
    if wanted <= len(account_ids):
        chosen = rng.sample(list(account_ids), wanted)
    else:
        chosen = [rng.choice(account_ids) for _ in range(wanted)]
    first = datetime(2020, 3, 1, tzinfo=SHANGHAI)
    mix: dict[str, list[PaymentIn]] = {}
    for n, phase in enumerate(phases):
        payments = [
            PaymentIn(
                account_id=account_id,
                amount_fen=rng.randint(1, 300) * 100,
                key=f"{tag}-{phase}-{i:06d}",
                paid_at=first + timedelta(seconds=rng.randrange(31 * 86_400)),
                channel=rng.choice(("counter", "app", "bank", "kiosk")),
            )
            for i, account_id in enumerate(chosen[n * per_phase : (n + 1) * per_phase])
        ]
        mix[phase] = sorted(payments, key=lambda p: (p.paid_at, p.key))
    return mix


def post_in_batches(
    engine: Engine, payments: Sequence[PaymentIn], batch: int, policies: list[Any]
) -> tuple[float, list[PaymentResult]]:
    """Post `payments`, `batch` to a transaction; the wall time and the results."""
    results: list[PaymentResult] = []
    began = time.perf_counter()
    for offset in range(0, len(payments), batch):
        with sessions(engine).begin() as session:
            for payment in payments[offset : offset + batch]:
                now = datetime.now(tz=UTC)
                results.append(
                    post_payment(session=session, payment=payment, policies=policies, now=now)
                )
    return time.perf_counter() - began, results


@dataclass
class Rates:
    single: float
    batched: dict[int, float]
    replay: float


def bench_payments(
    backend: str, args: argparse.Namespace, folder: Path, profile: Path | None
) -> Rates:
    if args.url is not None:  # a store built before (e.g. by `book --keep`): no import
        print(f"[{backend}] posting into the existing store {args.url}")
        engine = make_engine(args.url)
        try:
            return _post_phases(backend, engine, args, profile)
        finally:
            engine.dispose()
    name = f"bench_pay_{args.accounts}" if backend == "postgresql" else f"pay-{args.accounts}"
    with fresh_store(backend, args.work, name, args.pg_url, args.keep) as url:
        activate_policies(url)
        print(f"[{backend}] importing {folder.name} with booking ({load()}) …", flush=True)
        began = time.perf_counter()
        outcome = import_and_book(
            data=folder,
            start=START,
            company=None,
            by="bench",
            allow_rejects=False,
            rejects_file=args.work / "rejects.csv",
            url=url,
        )
        took = time.perf_counter() - began
        assert not outcome.refused, outcome
        print(
            f"[{backend}] import + booking: {took:.1f} s, {outcome.postings:,} postings "
            f"({outcome.postings / took:,.0f} postings/s)"
        )
        engine = make_engine(url)
        try:
            if args.analyze and backend == "postgresql":
                began = time.perf_counter()
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
                print(f"[{backend}] ANALYZE: {time.perf_counter() - began:.1f} s")
            return _post_phases(backend, engine, args, profile)
        finally:
            engine.dispose()


def _post_phases(
    backend: str, engine: Engine, args: argparse.Namespace, profile: Path | None
) -> Rates:
    with sessions(engine).begin() as session:
        account_ids = sorted(session.scalars(select(Account.account_id)).all())
        began = time.perf_counter()
        for _ in range(20):
            policies = deployment_policies(session)
        reading = (time.perf_counter() - began) / 20
    print(
        f"[{backend}] reading the active policy set (as `sanbuting pay` does per call): "
        f"{reading * 1000:.1f} ms; loaded once here, as a long-running API would"
    )
    batches = [b for b in args.batch if b > 1]
    phases = ["single", *(f"batch{b}" for b in batches)]
    mix = payment_mix(account_ids, phases, args.payments, args.tag)

    profiler = cProfile.Profile() if profile is not None else None
    if profiler is not None:
        profiler.enable()
    single, results = post_in_batches(engine, mix["single"], 1, policies)
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(profile)
        print(f"[{backend}] profile of the single-transaction phase written to {profile}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    rate = args.payments / single
    print(
        f"[{backend}] single: {args.payments:,} payments, one transaction each: {single:.1f} s, "
        f"{rate:,.1f} payments/s, {single / args.payments * 1000:.2f} ms each ({load()})"
    )
    print(f"[{backend}]   the mix: {describe_results(results)}")
    batched: dict[int, float] = {}
    for size in batches:
        took, _ = post_in_batches(engine, mix[f"batch{size}"], size, policies)
        batched[size] = args.payments / took
        print(
            f"[{backend}] {size:,} per transaction: {took:.1f} s, {batched[size]:,.1f} "
            f"payments/s = {batched[size] / rate:.2f}x single ({load()})"
        )
    replays = [
        PaymentIn(p.account_id, p.amount_fen, p.key, p.paid_at, p.channel)
        for p in mix["single"][: args.replays]
    ]
    took, again = post_in_batches(engine, replays, 1, policies)
    assert all(r.repeated for r in again)
    replay = len(replays) / took
    print(
        f"[{backend}] replay of {len(replays):,} keys already posted, one transaction each: "
        f"{took:.1f} s, {replay:,.1f} replays/s = {replay / rate:.1f}x a new payment ({load()})"
    )
    return Rates(rate, batched, replay)


def day_of_payments(accounts: Sequence[str], end: date, n: int) -> list[PaymentIn]:
    """50 yuan to each of `accounts` at 10:00 on the `n`th day after `end`, one key each."""
    day = datetime.combine(end + timedelta(days=n), datetime.min.time(), SHANGHAI)
    at = day + timedelta(hours=10)
    return [PaymentIn(a, 5_000, f"open-{n}-{a}", at, "bank") for a in accounts]


@dataclass
class Ways:
    taken: int = 0
    """Payments booked from open items."""
    driver: bool = True
    """The driver's way allowed (PostgreSQL); False: the ORM's way only."""


@contextmanager
def open_item_ways() -> Iterator[Ways]:
    """Count the payments booked from open items, either way, and switch the driver's off."""
    ways = Ways()
    orm, driver = booking._open_items_way, lean.post

    def by_orm(*a: Any, **k: Any) -> Any:
        found = orm(*a, **k)
        ways.taken += found is not None
        return found

    def by_driver(*a: Any, **k: Any) -> Any:
        found = driver(*a, **k) if ways.driver else None
        ways.taken += found is not None
        return found

    booking._open_items_way = by_orm  # type: ignore[assignment]
    lean.post = by_driver  # type: ignore[assignment]
    try:
        yield ways
    finally:
        booking._open_items_way = orm  # type: ignore[assignment]
        lean.post = driver  # type: ignore[assignment]


def open_items_command(args: argparse.Namespace) -> None:
    """Payments of postpaid accounts after a quarter and after a year of history: each
    account's first payment replays its history (the open books the import left are deleted
    first) and leaves its open book; its second, the next day, starts from the open book. Both
    timed, one transaction each, in the same process."""
    backend = args.backend
    rates: dict[str, tuple[float, float, int]] = {}
    for label, end in (("a quarter", date(2020, 3, 31)), ("a year", date(2020, 12, 31))):
        folder = generated_to(Path(args.work), args.accounts, end)
        base = "bench_open_" if backend == "postgresql" else "open-"
        with fresh_store(
            backend, args.work, f"{base}{end.month}_{args.accounts}", args.pg_url, args.keep
        ) as url:
            began = time.perf_counter()
            import_booked(url, folder, args.work)
            print(f"[{backend}] {label}: import with booking {time.perf_counter() - began:.1f} s")
            engine = make_engine(url)
            if backend == "postgresql":
                with engine.begin() as connection:
                    connection.execute(text("ANALYZE"))
            with sessions(engine).begin() as session:
                postpaid = sorted(
                    session.scalars(
                        select(Account.account_id).where(Account.billing_mode == "postpaid")
                    ).all()
                )
                policies = deployment_policies(session)
                # the import left every postpaid account's open book: forget them, so that the
                # first day's payments replay the history, the baseline
                session.execute(delete(OpenItemRow))
                session.execute(delete(OpenBookRow))
            chosen = random.Random(SEED).sample(postpaid, min(args.payments, len(postpaid)))
            timed: list[float] = []
            statements: list[float] = []
            with open_item_ways() as ways:
                for n in (1, 2, 3):  # the history; open items; open items, the ORM's way
                    ways.driver = n != 3
                    payments = day_of_payments(chosen, end, n)
                    with counting_statements(engine) as sent:
                        took, _ = post_in_batches(engine, payments, 1, policies)
                    timed.append(len(payments) / took)
                    statements.append(sent[0] / len(payments))
            if args.clients > 1 and backend == "postgresql":
                payments = day_of_payments(chosen, end, 4)
                took = post_concurrently(url, payments, args.clients)
                print(
                    f"[{backend}] {label}: open items, {args.clients} client processes at "
                    f"once: {len(payments) / took:,.1f}/s = {len(payments) / took / timed[1]:.2f}x "
                    f"one client ({load()})"
                )
            engine.dispose()
            rates[label] = (timed[0], timed[1], ways.taken)
            way = "the driver's" if backend == "postgresql" else "the ORM's"
            print(
                f"[{backend}] {label}: {len(chosen):,} first payments (the history) "
                f"{timed[0]:,.1f}/s; second payments (open items, {way} way; {ways.taken:,} "
                f"payments of the two days from open items) {timed[1]:,.1f}/s = "
                f"{timed[1] / timed[0]:.1f}x; third (open items, the ORM's way) "
                f"{timed[2]:,.1f}/s; second / third {timed[1] / timed[2]:.2f}x ({load()}); "
                f"statements a payment: {statements[0]:.1f}, {statements[1]:.1f}, "
                f"{statements[2]:.1f}"
            )
            if backend == "postgresql":
                compare_with_floor(args.pg_url, statements[1], timed[1], len(chosen))
    quarter, year = rates["a quarter"], rates["a year"]
    print()
    print(f"payments/s on {backend}, one transaction each, {args.accounts:,} accounts:")
    print(f"  from the history: after a quarter {quarter[0]:,.1f}/s, after a year {year[0]:,.1f}/s")
    print(f"  from open items:  after a quarter {quarter[1]:,.1f}/s, after a year {year[1]:,.1f}/s")
    print(
        f"  a year / a quarter: history {quarter[0] / year[0]:.2f}x the time, open items "
        f"{quarter[1] / year[1]:.2f}x the time"
    )


def bank_file_command(args: argparse.Namespace) -> None:
    """A bank's day of payments through `jobs.bank_file.post_rows` (batches of 500), four
    days: the first day's file meets accounts with the open books the import left (at their
    last row's day: longer walks); the second day's the same accounts with the books the first
    left (set-based); the third day's again, posted one by one, the baseline of the second in
    the same process; the fourth day's set-based in `--jobs` processes at once (on SQLite one
    writer waits for the other)."""
    folder = generated(args)
    backend = args.backend
    base = "bench_bank_" if backend == "postgresql" else "bank-"
    with fresh_store(backend, args.work, f"{base}{args.accounts}", args.pg_url, args.keep) as url:
        activate_policies(url)
        outcome = import_and_book(
            data=folder, start=START, company=None, by="bench", allow_rejects=False,
            rejects_file=args.work / "rejects.csv", url=url,
        )  # fmt: skip
        assert not outcome.refused, outcome
        engine = make_engine(url)
        if backend == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        with sessions(engine).begin() as session:
            postpaid = sorted(
                session.scalars(
                    select(Account.account_id).where(Account.billing_mode == "postpaid")
                ).all()
            )
        rng = random.Random(SEED)
        chosen = [rng.choice(postpaid) for _ in range(args.payments)]
        rates: list[float] = []
        try:
            days = ((1, True, 1), (2, True, 1), (3, False, 1), (4, True, args.jobs))
            for n, set_based, jobs in days:
                day = datetime.combine(date(2020, 4, n), datetime.min.time(), SHANGHAI)
                rows = [
                    BankRow(i + 2, f"bank-{n}-{i:07d}", a, day + timedelta(seconds=i % 86_000),
                            rng.randint(1, 300) * 100, "bank")
                    for i, a in enumerate(chosen)
                ]  # fmt: skip
                began = time.perf_counter()
                results = post_rows(
                    engine=engine,
                    rows=rows,
                    now=lambda: datetime.now(tz=UTC),
                    set_based=set_based,
                    jobs=jobs,
                )
                took = time.perf_counter() - began
                rates.append(len(rows) / took)
                posted = sum(r.result == "posted" for r in results)
                way = "set-based where the open items allow" if set_based else "one by one"
                way += f", {jobs} processes" if jobs > 1 else ""
                print(
                    f"[{backend}] bank file of 2020-04-0{n} ({way}): {len(rows):,} rows, "
                    f"{posted:,} posted in {took:.1f} s = {rates[-1]:,.0f} rows/s ({load()})"
                )
        finally:
            engine.dispose()
        print(
            f"  with open books, set-based / one by one: {rates[1] / rates[2]:.2f}x; "
            f"the first day (from the import's open books) {rates[0]:,.0f} rows/s"
            + (f"; set-based in {args.jobs} processes / in one: {rates[3] / rates[1]:.2f}x"
               if args.jobs > 1 else "")
        )  # fmt: skip


def describe_results(results: Sequence[PaymentResult]) -> str:
    fees = sum(1 for r in results if any(p.fee_fen for p in r.parts))
    credit = sum(1 for r in results if r.credit_fen)
    cleared = sum(1 for r in results if r.arrears_before_fen > 0 and r.arrears_after_fen == 0)
    queued = sum(1 for r in results if r.reconnect_queued)
    return (
        f"{fees:,} paid a late fee, {credit:,} left credit, {cleared:,} cleared arrears, "
        f"{queued:,} queued a reconnection"
    )


def payments_command(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.url is not None:
        backends = ["sqlite" if args.url.startswith("sqlite") else "postgresql"]
    folder = generated(args) if args.url is None else Path()
    rates: dict[str, Rates] = {}
    for backend in backends:
        profile = args.work / f"pay-{backend}.prof" if args.profile else None
        rates[backend] = bench_payments(backend, args, folder, profile)
    print()
    store = f"the store at {args.url}" if args.url else f"{args.accounts:,} accounts"
    analyzed = ", PostgreSQL analyzed after the import" if args.analyze else ""
    print(f"payments/s, {store}, {args.payments:,} payments a phase{analyzed}:")
    sizes = sorted({s for r in rates.values() for s in r.batched})
    print(f"{'':<12}{'single':>10}" + "".join(f"{f'x{s}':>14}" for s in sizes) + f"{'replay':>10}")
    for backend, r in rates.items():
        cells = "".join(
            f"{f'{r.batched[s]:,.0f} ({r.batched[s] / r.single:.1f}x)':>14}" for s in sizes
        )
        print(f"{backend:<12}{r.single:>10,.1f}{cells}{r.replay:>10,.0f}")
    if len(rates) == 2:
        pg, lite = rates["postgresql"], rates["sqlite"]
        ratios = ", ".join(
            f"{s} a transaction {pg.batched[s] / lite.batched[s]:.2f}x" for s in sizes
        )
        print(
            f"PostgreSQL / SQLite: single {pg.single / lite.single:.2f}x, {ratios}, "
            f"replay {pg.replay / lite.replay:.2f}x"
        )
    print(f"peak RSS {peak_rss_gb():.1f} GB; {load()}")


# ---- daily and book: steps in processes of their own, under /usr/bin/time -v ------------------


@dataclass
class Step:
    label: str
    wall: float
    rss_gb: float
    output: str


def run_step(label: str, command: Sequence[str], url: str) -> Step:
    """Run `command` under /usr/bin/time -v with the store's URL; its wall time and peak RSS."""
    print(f"{label} ({load()}) …", flush=True)
    env = {**os.environ, "SANBUTING_DATABASE_URL": url}
    began = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{label}: exit status {done.returncode}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    rss = int(found.group(1)) / 1024 / 1024 if found else float("nan")
    step = Step(label, wall, rss, done.stdout.strip())
    print(f"  {wall:8.1f} s, peak RSS {rss:.2f} GB ({load()})")
    return step


def store_for_steps(backend: str, args: argparse.Namespace, name: str) -> Iterator[str]:
    with fresh_store(backend, args.work, name, args.pg_url, args.keep) as url:
        activate_policies(url)
        yield url


def daily_command(args: argparse.Namespace) -> None:
    folder = generated(args)
    name = (
        f"bench_daily_{args.accounts}" if args.backend == "postgresql" else f"daily-{args.accounts}"
    )
    me = [sys.executable, str(Path(__file__).resolve())]
    for url in store_for_steps(args.backend, args, name):
        imported = run_step(
            f"db import {folder.name} --no-book --start {START}",
            [str(SANBUTING), "db", "import", str(folder), "--no-book", "--start", str(START),
             "--rejects", str(args.work / "rejects.csv")],
            url,
        )  # fmt: skip
        print("  " + imported.output.replace("\n", "\n  "))
        through = run_step(
            f"daily --through {args.through}",
            [*me, "daily-step", "--through", args.through],
            url,
        )
        one = run_step(f"daily --date {args.date}", [*me, "daily-step", "--date", args.date], url)
        print()
        print(f"daily over {args.accounts:,} accounts on {args.backend}:")
        print(f"  import --no-book: {imported.wall:.1f} s, peak {imported.rss_gb:.2f} GB")
        quarter = json.loads(through.output.splitlines()[-1])
        day = json.loads(one.output.splitlines()[-1])
        for step, phases in ((through, quarter), (one, day)):
            print(
                f"  {step.label}: {step.wall:.1f} s in all, peak {step.rss_gb:.2f} GB; "
                + ", ".join(f"{k} {v:.1f} s" for k, v in phases["phases"].items())
                + f"; {phases['days']} days recorded, {phases['actions']:,} actions"
            )
        print(
            f"  one more day / the 91 days: {one.wall / through.wall:.2f}x; loading is "
            f"{day['phases']['load frames'] / day['seconds']:.0%} of the one day's run"
        )


def history_command(args: argparse.Namespace) -> None:
    """One more day after one month against one more day after eleven months, over a store
    holding the whole year's rows: the day should cost the same whatever came before it."""
    folder = Path(args.work) / f"g{args.accounts}-seed{SEED}-year"
    if args.data is not None:
        folder = Path(str(args.data))
    elif not (folder / "usage.csv").exists():
        began = time.perf_counter()
        generate(
            GenerateRequest(accounts=args.accounts, out=folder, seed=SEED, end=date(2020, 12, 31))
        )
        print(
            f"generated {args.accounts:,} accounts for 2020 in {time.perf_counter() - began:.1f} s"
        )
    me = [sys.executable, str(Path(__file__).resolve())]
    name = (
        f"bench_history_{args.accounts}"
        if args.backend == "postgresql"
        else f"history-{args.accounts}"
    )
    for url in store_for_steps(args.backend, args, name):
        run_step(
            "db import (a year) --no-book",
            [str(SANBUTING), "db", "import", str(folder), "--no-book", "--start", str(START),
             "--rejects", str(args.work / "rejects.csv")],
            url,
        )  # fmt: skip
        days: list[tuple[Step, dict[str, Any]]] = []
        for through, one in (("2020-01-31", "2020-02-01"), ("2020-11-30", "2020-12-01")):
            run_step(f"daily --through {through}", [*me, "daily-step", "--through", through], url)
            step = run_step(f"daily --date {one}", [*me, "daily-step", "--date", one], url)
            days.append((step, json.loads(step.output.splitlines()[-1])))
        print()
        print(f"one more day over {args.accounts:,} accounts on {args.backend}, a year stored:")
        for step, phases in days:
            print(
                f"  {step.label}: {step.wall:.1f} s in all ({phases['seconds']:.2f} s in the run: "
                + ", ".join(f"{k} {v:.2f} s" for k, v in phases["phases"].items())
                + f"), peak {step.rss_gb:.2f} GB, {phases['actions']:,} actions"
            )
        (first, early), (last, late) = days
        print(
            f"  after eleven months / after one month: {late['seconds'] / early['seconds']:.2f}x "
            f"in the run, {last.wall / first.wall:.2f}x with the process"
        )


def daily_step_command(args: argparse.Namespace) -> None:
    """`sanbuting daily` in this process with its phases timed (the engine, the frames loaded
    and the days recorded); prints one JSON line."""
    phases: dict[str, float] = {}

    def timed(label: str, action: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            began = time.perf_counter()
            try:
                return action(*a, **k)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - began

        return wrapper

    for attribute, label in (
        ("load_frames", "load frames"),
        ("decide", "decide"),
        ("record_day", "record days"),
        ("resume", "resume a checkpoint"),
    ):
        setattr(daily_module, attribute, timed(label, getattr(daily_module, attribute)))
    engine = make_engine(os.environ["SANBUTING_DATABASE_URL"])
    day = date.fromisoformat(args.date or args.through)
    began = time.perf_counter()
    try:
        done = run_daily(
            engine=engine,
            through=day,
            single=args.date is not None,
            now=lambda: datetime.now(tz=UTC),
        )
    finally:
        engine.dispose()
    seconds = time.perf_counter() - began
    phases["other"] = seconds - sum(phases.values())
    report = {
        "seconds": seconds,
        "phases": phases,
        "days": sum(1 for d in done if not d.already),
        "actions": sum(d.actions for d in done),
        "protections": sum(d.protections for d in done),
    }
    print(json.dumps(report))


def book_command(args: argparse.Namespace) -> None:
    folder = generated(args)
    suffix = f"{args.accounts}"
    base = "bench_book_" if args.backend == "postgresql" else "book-"
    importing = [str(SANBUTING), "db", "import", str(folder), "--start", str(START)]
    importing += ["--rejects", str(args.work / "rejects.csv")]
    for url in store_for_steps(args.backend, args, f"{base}nobook_{suffix}"):
        bare = run_step("db import --no-book", [*importing, "--no-book"], url)
        booked = run_step("db book", [str(SANBUTING), "db", "book"], url)
        print("  " + booked.output)
    for url in store_for_steps(args.backend, args, f"{base}{suffix}"):
        whole = run_step("db import (with booking)", importing, url)
        print("  " + whole.output.replace("\n", "\n  "))
        postings, lines = count_postings(url)
    print()
    print(f"booking {args.accounts:,} accounts on {args.backend}: {postings:,} postings, "
          f"{lines:,} ledger lines")  # fmt: skip
    print(f"  import --no-book {bare.wall:.1f} s, then db book {booked.wall:.1f} s")
    print(
        f"  db import with booking {whole.wall:.1f} s, peak {whole.rss_gb:.2f} GB: booking "
        f"{whole.wall - bare.wall:.1f} s = {postings / (whole.wall - bare.wall):,.0f} postings/s; "
        f"import with booking / without: {whole.wall / bare.wall:.2f}x"
    )
    print(f"  db book alone: {postings / booked.wall:,.0f} postings/s (process start included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser, accounts: int, both: bool) -> None:
        choices = ["sqlite", "postgresql", *(["both"] if both else [])]
        sub.add_argument("--backend", choices=choices, default="sqlite")
        sub.add_argument("--accounts", type=int, default=accounts)
        sub.add_argument("--work", type=Path, default=Path("/tmp/bench"))
        sub.add_argument("--pg-url", default=os.environ.get("SANBUTING_BENCH_PG_URL", PG_URL))
        sub.add_argument("--keep", action="store_true", help="keep the store afterwards")
        sub.add_argument("--data", type=Path, help="a generated folder (default: generate one)")

    pay = commands.add_parser("payments", help="payments/s through post_payment")
    common(pay, 10_000, both=True)
    pay.add_argument("--payments", type=int, default=2_000, help="payments in each phase")
    pay.add_argument("--batch", type=int, nargs="+", default=[100, 1_000])
    pay.add_argument("--replays", type=int, default=1_000)
    pay.add_argument("--profile", action="store_true", help="cProfile the single phase")
    pay.add_argument("--url", help="post into this existing store instead of importing one")
    pay.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE a PostgreSQL store after the import (the server's autovacuum is off here, "
        "and nothing else gathers the planner's statistics)",
    )
    pay.add_argument("--tag", default="bench", help="the payment keys' prefix")
    daily = commands.add_parser("daily", help="import --no-book, daily --through, one more day")
    common(daily, 1_000_000, both=False)
    daily.add_argument("--through", default="2020-03-31")
    daily.add_argument("--date", default="2020-04-01")
    step = commands.add_parser("daily-step", help="(internal) one timed `sanbuting daily`")
    step.add_argument("--through")
    step.add_argument("--date")
    opened = commands.add_parser("open-items", help="payments from open items vs the history")
    common(opened, 10_000, both=False)
    opened.add_argument("--payments", type=int, default=2_000)
    opened.add_argument(
        "--clients", type=int, default=2, help="client processes posting at once (PostgreSQL)"
    )
    bank = commands.add_parser("bank-file", help="a bank's day of payments, rows/s")
    common(bank, 10_000, both=False)
    bank.add_argument("--payments", type=int, default=10_000)
    bank.add_argument("--jobs", type=int, default=2, help="processes on the fourth day")
    history = commands.add_parser("history", help="one more day after 1 month vs 11 months")
    common(history, 100_000, both=False)
    book = commands.add_parser("book", help="the ledger-booking rate of an import")
    common(book, 100_000, both=False)
    args = parser.parse_args()
    if getattr(args, "work", None) is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    {
        "payments": payments_command,
        "daily": daily_command,
        "daily-step": daily_step_command,
        "history": history_command,
        "open-items": open_items_command,
        "bank-file": bank_file_command,
        "book": book_command,
    }[args.command](args)


if __name__ == "__main__":
    main()
