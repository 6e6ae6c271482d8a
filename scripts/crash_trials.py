"""Crash trials: kill the service with SIGKILL at random moments and check that nothing was lost
or done twice.

Each trial takes a fresh store (an SQLite file, or a PostgreSQL schema of its own), imports a
small generated dataset with the 2020 epidemic policies (the power company requiring approval
of its enforcement orders), then runs five phases, each in a child process
(`crash_trials.py worker PHASE`) that is killed at random moments and restarted:

- early: `run_daily` through the middle of the period, stop by stop (every 10 days: each stop
  writes a checkpoint with its last day, and the next resumes from it), so kills land in
  checkpoint writes too.
- pay: a seeded batch of thousands of payments over the whole period (about half back-dated
  into the days recorded, marking their accounts dirty), in paid_at order: the first half one
  transaction each with `post_payment` (from open items where the account has an open book),
  the second half as a bank file is, 50 a transaction (`payments.bulk.post_all`: set-based
  where the open items allow), retrying transient database errors. After a kill the new
  worker posts the whole batch again from the start, with the same keys and content, as a
  client retries: the payments posted before the kill come back as repeats.
- daily: `run_daily` stop by stop through the period's last day, 2020-03-31 unless `--through`
  says otherwise (one transaction per day; resumed from the checkpoints, the dirty accounts
  derived again; a restart records the days the killed run did not).
- release: every day of held orders released, one transaction a day (`jobs.releases`).
- dispatch: the outbox dispatcher, with the real re-check, into a `FileSink` (a restart
  re-sends the order that was in flight; the sink skips keys it already holds).

With `--sms also` (or `only`), the SMS sink's trials run first (`sms_crash_trials.py`: the
SMS sender killed mid-window against the test SMSC, each key at most once on its log).

The outcome is compared with a crash-free reference run (the same dataset, batch and phases,
without kills, on the same backend, computed once per harness run): every payment exactly
once; every posting balanced; the `cash` lines summing to the payments' amounts; the same
postings (key, kind, account, day, reversed posting, lines), payments and results, runs,
actions, protection events, outbox rows (key, status, attempts, reason) and releases; the
sink's file holding each order once and exactly the orders marked done. Ids and timestamps are
left out.

Kill points are drawn (seeded) over the work a phase has left: a unit of work (a payment,
a day, an order) between those already done and the last, then a moment within the following
unit, timed from the reference (the harness polls the store until that many units are done,
then waits that part of a unit): so a kill lands inside any transaction of the phase, or in the
repeats a restarted worker goes through first. Whether it lands just before or just after a
commit depends on the machine's speed, so running a trial's seed again replays its kills
approximately, not exactly.

    python scripts/crash_trials.py --backend sqlite --trials 100 --seed 1 --jobs 2
    python scripts/crash_trials.py --backend postgresql --trials 100 --seed 1 --jobs 2

Options: `--payments` (2000) and `--accounts` (200) size the batch and the dataset; `--jobs`
runs trials side by side (each has its own store); `--start fork` forks workers from a server
that has the modules imported instead of starting a new interpreter each time (what the short
version in `make test` does, to save the start-up); `--keep` keeps a failed trial's store and
files; `--database-url` names the PostgreSQL server (default: SANBUTING_TEST_DATABASE_URL).
Each trial prints one line: backend, number and seed, PASS or FAIL, each kill as
phase@milliseconds-after-the-worker-began(units done/total), and the time it took, then what
was violated; the run ends with the trials passed per backend and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, aliased

from sanbuting.dispatch import FileSink, run_dispatcher
from sanbuting.domain import SHANGHAI, read_utc
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.jobs.releases import held_days, release_day
from sanbuting.payments.bulk import post_all
from sanbuting.payments.recheck import make_recheck
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import (
    Account,
    Bill,
    Company,
    LedgerLine,
    OutboxItem,
    Payment,
    PolicyVersion,
    Posting,
    ProtectionEvent,
    Run,
    StoredAction,
)
from sanbuting.store.policy_versions import deployment_policies
from sanbuting.store.web_models import AuditEntry

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
START = date(2020, 1, 1)
THROUGH = date(2020, 3, 31)
BACKENDS = ("sqlite", "postgresql")
PHASES = ("early", "pay", "daily", "release", "dispatch")
KILLS = {"early": (1, 2), "pay": (1, 3), "daily": (1, 2), "release": (1, 1), "dispatch": (1, 2)}
"""How many kills each phase of a trial aims at (drawn from this range, seeded)."""
FEWER_KILLS = dict.fromkeys(PHASES, (1, 1))
"""One kill per phase (the short version in `make test`)."""
POLL_SECONDS = 0.01
STOP_DAYS = 10
"""The daily phases run through a stop every this many days: each stop leaves a checkpoint
that the next one resumes from."""
APPROVING = "power"
"""The company that requires approval: its enforcement orders wait `held` for the release."""
WORKER_TIMEOUT = 1800.0
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "08006", "08003", "08000"}

T = TypeVar("T")


# -- the dataset and the batch ------------------------------------------------------------


@dataclass(frozen=True)
class PaymentSpec:
    """One payment of the batch, as a client would send it."""

    key: str
    account_id: str
    amount_fen: int
    paid_at: str
    """ISO 8601 with the +08:00 offset."""
    channel: str

    def payment(self) -> PaymentIn:
        return PaymentIn(
            account_id=self.account_id,
            amount_fen=self.amount_fen,
            key=self.key,
            paid_at=datetime.fromisoformat(self.paid_at),
            channel=self.channel,
        )


def make_dataset(folder: Path, accounts: int, seed: int, through: date = THROUGH) -> Path:
    """Generate the input folder (what `sanbuting generate` writes) into `folder`."""
    from sanbuting.generate import GenerateRequest, generate  # noqa: PLC0415 (workers skip it)

    generate(GenerateRequest(accounts=accounts, out=folder, seed=seed, start=START, end=through))
    return folder


def account_ids(data: Path) -> list[str]:
    with (data / "accounts.csv").open(encoding="utf-8", newline="") as handle:
        return [row["account_id"] for row in csv.DictReader(handle)]


def make_batch(data: Path, seed: int, count: int, through: date = THROUGH) -> list[PaymentSpec]:
    """`count` payments to random accounts of the dataset, in paid_at order, keyed
    `trial-<seed>-<n>`: mostly small amounts, some large enough to clear a bill or two."""
    rng = random.Random(f"batch:{seed}")
    accounts = account_ids(data)
    first = datetime.combine(START, datetime.min.time(), tzinfo=SHANGHAI)
    seconds = ((through - START).days + 1) * 86_400
    moments = sorted(first + timedelta(seconds=rng.randrange(seconds)) for _ in range(count))
    batch = []
    for number, moment in enumerate(moments, 1):
        large = rng.random() < 0.3
        amount = rng.randrange(50_000, 2_000_000) if large else rng.randrange(100, 50_000)
        batch.append(
            PaymentSpec(
                key=f"trial-{seed}-{number:05d}",
                account_id=rng.choice(accounts),
                amount_fen=amount,
                paid_at=moment.isoformat(),
                channel=rng.choice(("counter", "app", "bank", "wechat")),
            )
        )
    return batch


def write_batch(path: Path, batch: Sequence[PaymentSpec]) -> None:
    rows = [vars(spec) for spec in batch]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")


def read_batch(path: Path) -> list[PaymentSpec]:
    return [PaymentSpec(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


# -- databases ------------------------------------------------------------------------------


@contextmanager
def fresh_database(
    backend: str, folder: Path, base_url: str | None, keep: list[bool]
) -> Iterator[str]:
    """A URL to an empty database: an SQLite file in `folder`, or a new PostgreSQL schema on
    `base_url`, dropped afterwards unless `keep[0]` is set by then."""
    if backend == "sqlite":
        for stale in folder.glob("store.db*"):
            stale.unlink()
        yield f"sqlite:///{folder / 'store.db'}"
        return
    if not base_url:
        raise SystemExit("PostgreSQL trials need --database-url or SANBUTING_TEST_DATABASE_URL")
    schema = f"crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        if not keep[0]:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def prepare(url: str, data: Path, folder: Path, policies: Path = POLICIES) -> None:
    """Migrate, activate the 2020 policies and import the dataset (start 2020-01-01)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            activate(
                session=session,
                path=policies,
                by="crash-trials",
                at=datetime.now(UTC),
                company=None,
            )
    finally:
        engine.dispose()
    outcome = import_and_book(
        data=data,
        start=START,
        company=None,
        by="crash-trials",
        allow_rejects=False,
        rejects_file=folder / "rejects.csv",
        url=url,
    )
    if outcome.refused:
        raise RuntimeError(f"the dataset was refused: {outcome}")
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            session.execute(
                update(Company).where(Company.code == APPROVING).values(requires_approval=True)
            )
    finally:
        engine.dispose()


def reader(url: str) -> Engine:
    """An engine for looking only: on SQLite without `BEGIN IMMEDIATE`, so that it never
    takes the write lock."""
    return create_engine(url) if url.startswith("sqlite") else make_engine(url)


# -- the phases (run by a worker process, or in-process for the reference) ------------------


def transient(error: BaseException) -> bool:
    """A database error worth retrying: a lock or busy timeout, a serialization failure or
    deadlock, a lost connection."""
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None)
        return state in TRANSIENT_SQLSTATES
    return False


def retrying(action: Callable[[], T], attempts: int = 30) -> T:
    """`action()`, again after a transient database error, with exponential back-off."""
    for attempt in range(attempts):
        try:
            return action()
        except DBAPIError as error:
            if not transient(error) or attempt == attempts - 1:
                raise
            time.sleep(min(2.0, 0.02 * 2**attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


class PaymentFailed(Exception):
    """A payment of the batch failed for good (not a transient database error)."""


BANK_BATCH = 50
"""The second half of the pay phase is posted as a bank file is, this many a transaction."""


def post_batch(url: str, batch: Sequence[PaymentSpec]) -> int:
    """Post every payment of `batch`: the first half one transaction each, the second half as
    a bank file is (`payments.bulk.post_all`, set-based where the open items allow),
    `BANK_BATCH` a transaction; returns how many were new."""
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            policies = deployment_policies(session)

        def post(spec: PaymentSpec) -> bool:
            with sessions(engine).begin() as session:
                result = post_payment(
                    session=session,
                    payment=spec.payment(),
                    policies=policies,
                    now=datetime.now(UTC),
                )
            return not result.repeated

        def post_together(specs: Sequence[PaymentSpec]) -> int:
            with sessions(engine).begin() as session:
                outcomes = post_all(
                    session=session, payments=[s.payment() for s in specs], now=datetime.now(UTC)
                )
            for spec, outcome in zip(specs, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    raise PaymentFailed(f"payment {spec}: {outcome}")
            return sum(not o.repeated for o in outcomes if not isinstance(o, Exception))

        new = 0
        half = len(batch) // 2
        for spec in batch[:half]:
            try:
                new += retrying(lambda spec=spec: post(spec))
            except Exception as error:
                raise PaymentFailed(f"payment {spec}: {type(error).__name__}") from error
        for offset in range(half, len(batch), BANK_BATCH):
            chunk = batch[offset : offset + BANK_BATCH]
            try:
                new += retrying(lambda chunk=chunk: post_together(chunk))
            except PaymentFailed:
                raise
            except Exception as error:
                raise PaymentFailed(f"payments from {chunk[0]}: {type(error).__name__}") from error
        return new
    finally:
        engine.dispose()


def middle(through: date) -> date:
    """The last day of the early daily phase: half way through the period."""
    return START + (through - START) // 2


def stops(through: date) -> list[date]:
    """The days a daily phase runs through, one after the other, ending with `through`."""
    found = [
        START + timedelta(days=n) for n in range(STOP_DAYS - 1, (through - START).days, STOP_DAYS)
    ]
    return [*found, through]


def run_days(url: str, through: date = THROUGH) -> int:
    """Run every company through each stop up to `through` (each stop leaves a checkpoint the
    next resumes from); returns the days recorded by this call."""
    engine = make_engine(url)
    try:

        def once(stop: date) -> int:
            done = run_daily(
                engine=engine, through=stop, single=False, now=lambda: datetime.now(UTC)
            )
            return sum(not day.already for day in done)

        return sum(retrying(lambda stop=stop: once(stop)) for stop in stops(through))
    finally:
        engine.dispose()


def release_all(url: str) -> int:
    """Release every held day of every company, one transaction a day (as a supervisor
    would); returns the days released by this call."""
    engine = make_engine(url)
    try:

        def next_day() -> bool:
            with sessions(engine).begin() as session:
                for company in session.scalars(select(Company).order_by(Company.code)):
                    held = held_days(session=session, company=company)
                    if held:
                        release_day(
                            session=session,
                            company=company,
                            day=held[0].day,
                            now=datetime.now(UTC),
                            actor="crash-trials",
                        )
                        return True
            return False

        released = 0
        while retrying(next_day):
            released += 1
        return released
    finally:
        engine.dispose()


def dispatch_all(url: str, sink_path: Path) -> int:
    """Send every due order to a FileSink at `sink_path`, with the real re-check; returns how
    many this call settled."""
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            policies = deployment_policies(session)
        sink = FileSink(sink_path)

        def once() -> int:
            report = run_dispatcher(
                engine=engine,
                sink=sink,
                recheck=make_recheck(lambda: datetime.now(UTC), policies),
                base_delay=timedelta(0),
                stop_when_idle=True,
            )
            return report.total

        return retrying(once)
    finally:
        engine.dispose()


def do_phase(
    phase: str, url: str, batch: Path | None, sink: Path | None, through: date = THROUGH
) -> None:
    """The work of one phase (what a worker process runs)."""
    if phase == "pay":
        assert batch is not None
        post_batch(url, read_batch(batch))
    elif phase == "early":
        run_days(url, middle(through))
    elif phase == "daily":
        run_days(url, through)
    elif phase == "release":
        release_all(url)
    else:
        assert sink is not None
        dispatch_all(url, sink)


def worker(argv: Sequence[str]) -> int:
    """`crash_trials.py worker pay|daily|dispatch --url U ...`: one phase, in a process the
    harness may kill. Prints `ready` once everything is imported and the work begins."""
    parser = argparse.ArgumentParser(prog="crash_trials.py worker")
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("--url", required=True)
    parser.add_argument("--batch", type=Path, help="pay: the batch file")
    parser.add_argument("--sink", type=Path, help="dispatch: the FileSink's file")
    parser.add_argument("--through", type=date.fromisoformat, default=THROUGH, help="daily")
    args = parser.parse_args(argv)
    print("ready", flush=True)
    do_phase(args.phase, args.url, args.batch, args.sink, args.through)
    return 0


def forked_worker(
    phase: str,
    url: str,
    batch: Path | None,
    sink: Path | None,
    through: date,
    ready: Connection,
    log: Path,
) -> None:
    """The same in a process forked from the preloaded fork server (`--start fork`)."""
    try:
        ready.send("ready")
        ready.close()
        do_phase(phase, url, batch, sink, through)
    except BaseException:
        with log.open("a", encoding="utf-8") as errors:
            traceback.print_exc(file=errors)
        os._exit(1)


# -- what a store holds, for comparing -------------------------------------------------------

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Snapshot:
    """A store's payments, ledger, runs and outbox, and a sink's file, without ids and
    timestamps (each a sorted tuple of rows)."""

    payments: tuple[Row, ...]
    postings: tuple[Row, ...]
    unbalanced: tuple[str, ...]
    cash_fen: int
    paid_fen: int
    runs: tuple[Row, ...]
    actions: tuple[Row, ...]
    protections: tuple[Row, ...]
    outbox: tuple[Row, ...]
    releases: tuple[Row, ...]
    """(company, day) of every release of held orders."""
    sent: tuple[str, ...]
    """The records in the sink's file (JSON, keys sorted), in file order."""
    torn: int
    """Lines of the sink's file that are not JSON (a write cut by a kill)."""


def snapshot(url: str, sink_path: Path) -> Snapshot:
    engine = reader(url)
    try:
        with Session(engine) as session:
            return _snapshot(session, sink_path)
    finally:
        engine.dispose()


def _snapshot(session: Session, sink_path: Path) -> Snapshot:
    payments = session.execute(
        select(
            Payment.key,
            Account.account_id,
            Payment.paid_at,
            Payment.amount_fen,
            Payment.channel,
            Payment.content,
            Payment.result,
        ).join(Account, Account.id == Payment.account)
    ).all()
    payment_rows = sorted(
        (r[0], r[1], read_utc(r[2]).isoformat(), int(r[3]), r[4] or "", r[5], r[6] or "")
        for r in payments
    )
    reversed_posting = aliased(Posting)
    heads = session.execute(
        select(
            Posting.id,
            Posting.key,
            Posting.kind,
            Account.account_id,
            Posting.effective_on,
            reversed_posting.key,
        )
        .join(Account, Account.id == Posting.account)
        .outerjoin(reversed_posting, reversed_posting.id == Posting.reverses)
    ).all()
    lines: dict[int, list[tuple[str, int, str]]] = {}
    for posting, book, amount, bill in session.execute(
        select(LedgerLine.posting, LedgerLine.book, LedgerLine.amount_fen, Bill.bill_id).outerjoin(
            Bill, Bill.id == LedgerLine.bill
        )
    ).all():
        lines.setdefault(posting, []).append((book, int(amount), bill or ""))
    postings = sorted(
        (key, kind, account, day.isoformat(), reverses or "", tuple(sorted(lines.get(pid, []))))
        for pid, key, kind, account, day, reverses in heads
    )
    unbalanced = sorted(row[0] for row in postings if sum(amount for _, amount, _ in row[5]))
    cash = session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_fen), 0)).where(LedgerLine.book == "cash")
    )
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0)))
    runs = session.execute(
        select(Company.code, Run.day, Run.engine, PolicyVersion.version)
        .join(Company, Company.id == Run.company_id)
        .outerjoin(PolicyVersion, PolicyVersion.id == Run.policy_version)
    ).all()
    actions = session.execute(
        select(
            StoredAction.day,
            Account.account_id,
            StoredAction.action,
            StoredAction.step,
            StoredAction.bill_id,
            StoredAction.policy_id,
        ).join(Account, Account.id == StoredAction.account)
    ).all()
    protections = session.execute(
        select(
            ProtectionEvent.day,
            Account.account_id,
            ProtectionEvent.policy_id,
            ProtectionEvent.kind,
            ProtectionEvent.prevented_action,
            ProtectionEvent.deferred_to,
        ).join(Account, Account.id == ProtectionEvent.account)
    ).all()
    outbox = session.execute(
        select(
            OutboxItem.key,
            OutboxItem.kind,
            Account.account_id,
            OutboxItem.day,
            OutboxItem.payload,
            OutboxItem.status,
            OutboxItem.attempts,
            OutboxItem.last_error,
        ).outerjoin(Account, Account.id == OutboxItem.account)
    ).all()
    releases = session.execute(
        select(Company.code, AuditEntry.target)
        .join(Company, Company.id == AuditEntry.company_id)
        .where(AuditEntry.action == "release_orders")
    ).all()
    sent, torn = read_sink(sink_path)
    return Snapshot(
        payments=tuple(payment_rows),
        postings=tuple(postings),
        unbalanced=tuple(unbalanced),
        cash_fen=int(cash or 0),
        paid_fen=int(paid or 0),
        runs=tuple(sorted(_plain(r) for r in runs)),
        actions=tuple(sorted(_plain(r) for r in actions)),
        protections=tuple(sorted(_plain(r) for r in protections)),
        outbox=tuple(sorted(_plain(r) for r in outbox)),
        releases=tuple(sorted(_plain(r) for r in releases)),
        sent=tuple(sent),
        torn=torn,
    )


def _plain(row: Sequence[Any]) -> Row:
    """A row with dates as ISO text and None as "" (so that rows sort)."""
    return tuple(v.isoformat() if isinstance(v, date) else ("" if v is None else v) for v in row)


def read_sink(path: Path) -> tuple[list[str], int]:
    """The records in a FileSink's file (re-serialised with sorted keys) and the torn lines."""
    if not path.exists():
        return [], 0
    records, torn = [], 0
    for raw in path.read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            records.append(json.dumps(json.loads(raw.decode("utf-8")), sort_keys=True))
        except (UnicodeDecodeError, ValueError):
            torn += 1
    return records, torn


# -- the invariants -----------------------------------------------------------------------


def _differs(name: str, got: Sequence[Row], want: Sequence[Row], shown: int = 3) -> list[str]:
    """What differs between two multisets of rows (a few examples each way)."""
    extra = list((Counter(got) - Counter(want)).elements())
    missing = list((Counter(want) - Counter(got)).elements())
    if not extra and not missing:
        return []
    return [
        f"{name}: {len(extra)} rows not in the reference, e.g. {extra[:shown]}; "
        f"{len(missing)} reference rows missing, e.g. {missing[:shown]}"
    ]


def violations(got: Snapshot, reference: Snapshot, batch_keys: Sequence[str]) -> list[str]:
    """Every invariant `got` breaks, compared with the crash-free `reference`."""
    problems: list[str] = []
    keys = Counter(row[0] for row in got.payments)
    twice = sorted(key for key, n in keys.items() if n > 1)
    if twice:
        problems.append(f"payments posted more than once: {twice[:5]}")
    lost = sorted(set(batch_keys) - set(keys))
    if lost:
        problems.append(f"{len(lost)} payments of the batch not posted, e.g. {lost[:5]}")
    if got.unbalanced:
        problems.append(f"postings whose lines do not sum to 0: {list(got.unbalanced[:5])}")
    if got.cash_fen != got.paid_fen:
        problems.append(f"cash lines sum to {got.cash_fen} fen, the payments to {got.paid_fen} fen")
    problems += _differs("payments", got.payments, reference.payments)
    problems += _differs("postings", got.postings, reference.postings)
    problems += _differs("runs", got.runs, reference.runs)
    problems += _differs("actions", got.actions, reference.actions)
    problems += _differs("protection events", got.protections, reference.protections)
    problems += _differs("outbox", got.outbox, reference.outbox)
    problems += _differs("releases", got.releases, reference.releases)
    sent = Counter(json.loads(record)["key"] for record in got.sent)
    resent = sorted(key for key, n in sent.items() if n > 1)
    if resent:
        problems.append(f"orders in the sink's file more than once: {resent[:5]}")
    done = {row[0] for row in got.outbox if row[5] == "done"}
    if set(sent) != done:
        problems.append(
            f"sink file vs outbox rows done: {len(set(sent) - done)} sent but not done "
            f"(e.g. {sorted(set(sent) - done)[:3]}), {len(done - set(sent))} done but not sent "
            f"(e.g. {sorted(done - set(sent))[:3]})"
        )
    unsettled = sorted(row[0] for row in got.outbox if row[5] not in ("done", "cancelled"))
    if unsettled:
        problems.append(f"orders neither done nor cancelled: {unsettled[:5]}")
    problems += _differs("sink records", [(r,) for r in got.sent], [(r,) for r in reference.sent])
    return problems


# -- running a phase with kills -------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    phase: str
    after_ms: int
    """Milliseconds after the worker said it was ready."""
    progress: str

    def __str__(self) -> str:
        return f"{self.phase}@{self.after_ms}ms({self.progress})"


class TrialError(Exception):
    """A worker failed by itself (not killed by the harness)."""


class Progress:
    """How far a phase got, read from the store while its worker runs (on SQLite without
    taking the write lock)."""

    def __init__(self, url: str) -> None:
        self.engine = reader(url)

    def close(self) -> None:
        self.engine.dispose()

    def __call__(self, phase: str) -> tuple[int, int]:
        """(done, total): payments of the batch posted (total 0: the batch's size is known),
        days recorded (likewise), orders settled and queued."""
        with Session(self.engine) as session:
            if phase == "pay":
                done = session.scalar(
                    select(func.count(Payment.id)).where(
                        Payment.key.like("trial-%"), Payment.result.is_not(None)
                    )
                )
                return int(done or 0), 0
            if phase in ("early", "daily"):
                return int(session.scalar(select(func.count(Run.id))) or 0), 0
            if phase == "release":
                released = session.scalar(
                    select(func.count(AuditEntry.id)).where(AuditEntry.action == "release_orders")
                )
                return int(released or 0), 0
            settled = session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.status != "pending")
            )
            total = session.scalar(select(func.count(OutboxItem.id)))
            return int(settled or 0), int(total or 0)


class Child:
    """A worker process: started afresh (`exec`: a new interpreter running `crash_trials.py
    worker`) or forked from a fork server that has the modules imported already (`fork`: no
    start-up time, so the short version in `make test` stays short)."""

    def __init__(
        self,
        start: str,
        phase: str,
        url: str,
        batch: Path | None,
        sink: Path | None,
        through: date,
        log: Path,
    ) -> None:
        self.phase, self.log = phase, log
        self._process: Any = None
        self._popen: subprocess.Popen[str] | None = None
        if start == "exec":
            arguments = [sys.executable, str(SCRIPT), "worker", phase, "--url", url]
            arguments += ["--batch", str(batch)] if batch else []
            arguments += ["--sink", str(sink)] if sink else []
            arguments += ["--through", through.isoformat()]
            with log.open("ab") as errors:
                self._popen = subprocess.Popen(
                    arguments, stdout=subprocess.PIPE, stderr=errors, text=True
                )
            self.pid = self._popen.pid
            return
        context = fork_server()
        receiving, sending = context.Pipe(duplex=False)
        self._ready = receiving
        self._process = context.Process(
            target=forked_worker,
            args=(phase, url, batch, sink, through, sending, log),
            daemon=True,
        )
        self._process.start()
        sending.close()
        self.pid = self._process.pid

    def ready(self) -> bool:
        """Wait until the worker says it begins the work (False: it died first)."""
        if self._popen is not None:
            assert self._popen.stdout is not None
            line = self._popen.stdout.readline().strip()
            self._popen.stdout.close()
            return line == "ready"
        try:
            return bool(self._ready.poll(WORKER_TIMEOUT)) and self._ready.recv() == "ready"
        except EOFError:
            return False
        finally:
            self._ready.close()

    def wait(self, timeout: float | None) -> int | None:
        """The exit code, or None if still running after `timeout` seconds."""
        if self._popen is not None:
            try:
                return self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return None
        self._process.join(timeout)
        code = self._process.exitcode
        return None if code is None else int(code)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.wait(None)


_FORK_SERVER: list[Any] = []


def fork_server() -> Any:
    """The fork-server context, its server preloaded with the service's modules."""
    if not _FORK_SERVER:
        context = get_context("forkserver")
        context.set_forkserver_preload(
            [
                "sanbuting.payments.service",
                "sanbuting.payments.recheck",
                "sanbuting.jobs.daily",
                "sanbuting.dispatch",
                "psycopg",
            ]
        )
        _FORK_SERVER.append(context)
    return _FORK_SERVER[0]


@dataclass(frozen=True)
class Plan:
    """How to kill one phase: `kills` times, each at a random point of the work left."""

    phase: str
    kills: int
    total: int
    """Units of work (payments, days, orders)."""
    unit: float
    """Seconds one unit took in the reference."""
    first: float
    """Seconds before the first unit is done in a fresh worker (the daily run's decision)."""


def run_phase(
    plan: Plan, start: Callable[[], Child], progress: Progress, rng: random.Random
) -> list[Kill]:
    """Run a phase's worker, killing it `plan.kills` times and restarting it, then let the
    last one finish. A kill point is drawn (seeded) over the work left: a unit `target`
    between the units done and the last, then a moment within the unit after it (polling the
    store until `target` units are done, then waiting a random part of one unit's time), so
    that the kill lands inside a transaction, or in the repeats a restarted worker goes
    through, at any point of the phase."""
    done: list[Kill] = []
    while True:
        target: int | None = None
        if len(done) < plan.kills:
            before = progress(plan.phase)[0]
            target = rng.randrange(before, plan.total) if before < plan.total else None
        offset = rng.uniform(0.0, plan.first if target == 0 else plan.unit)
        child = start()
        if not child.ready():
            child.wait(WORKER_TIMEOUT)
            raise TrialError(f"{plan.phase} worker failed to start: {_tail(child.log)}")
        began = time.monotonic()
        code = None
        if target is not None:
            while code is None and (units := progress(plan.phase)[0]) < target:
                # Look again in half the time the units still to go took in the reference.
                pause = min(1.0, max(POLL_SECONDS, (target - units) * plan.unit / 2))
                code = child.wait(pause)
            if code is None:
                code = child.wait(offset)
            if code is None:
                child.kill()
                at = round((time.monotonic() - began) * 1000)
                units, total = progress(plan.phase)
                done.append(Kill(plan.phase, at, f"{units}/{total or plan.total}"))
                continue
        if code is None:
            code = child.wait(WORKER_TIMEOUT)
        if code is None:
            child.kill()
            raise TrialError(f"{plan.phase} worker still running after {WORKER_TIMEOUT} s")
        if code != 0:
            raise TrialError(f"{plan.phase} worker exited with {code}: {_tail(child.log)}")
        return done


def _tail(log: Path, lines: int = 12) -> str:
    text_lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return " | ".join(text_lines[-lines:])


# -- trials ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timings:
    """The reference's seconds per phase (work only, no process start)."""

    pay: float
    decide: float
    record: float
    release: float
    dispatch: float


@dataclass(frozen=True)
class Setup:
    """What every trial of one backend shares."""

    backend: str
    seed: int
    data: Path
    batch_file: Path
    batch_keys: tuple[str, ...]
    days: int
    """Days the two daily phases record (companies × days)."""
    early_days: int
    """Days the early daily phase records."""
    releases: int
    """Days of held orders the release phase releases."""
    orders: int
    """Orders the dispatch phase settles."""
    reference: Snapshot
    timings: Timings
    base_url: str | None
    workdir: Path
    keep: bool = False
    kills: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(KILLS))
    start: str = "exec"
    """How workers start: `exec` (a new interpreter) or `fork` (from a preloaded fork server)."""
    policies: Path = POLICIES
    through: date = THROUGH
    """The last day of the period (the dataset's, the batch's and the daily run's)."""


@dataclass(frozen=True)
class TrialResult:
    backend: str
    number: int
    seed: str
    kills: tuple[Kill, ...]
    seconds: float
    problems: tuple[str, ...]
    where: str = ""
    torn: int = 0

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        kills = "; ".join(str(k) for k in self.kills) or "none"
        text_ = (
            f"{self.backend} trial {self.number} seed {self.seed}: {verdict} "
            f"{len(self.kills)} kills [{kills}] {self.seconds:.1f}s"
        )
        if self.torn:
            text_ += f" ({self.torn} torn sink line)"
        for problem in self.problems:
            text_ += f"\n    {problem}"
        if self.where:
            text_ += f"\n    kept for inspection: {self.where}"
        return text_


def trial_seed(setup: Setup, number: int) -> str:
    return f"{setup.seed}:{number}"


def run_trial(setup: Setup, number: int) -> TrialResult:
    """One trial: a fresh store, the three phases with kills, the invariants."""
    began = time.monotonic()
    seed = trial_seed(setup, number)
    rng = random.Random(f"trial:{setup.backend}:{seed}")
    folder = setup.workdir / f"trial-{number:04d}"
    folder.mkdir(parents=True, exist_ok=True)
    sink = folder / "orders.jsonl"
    log = folder / "workers.log"
    keep = [False]
    kills: list[Kill] = []
    problems: list[str] = []
    torn = 0
    with fresh_database(setup.backend, folder, setup.base_url, keep) as url:
        progress = Progress(url)
        try:
            prepare(url, setup.data, folder, setup.policies)
            timing = setup.timings
            payments = max(1, len(setup.batch_keys))
            days, orders = max(1, setup.days), max(1, setup.orders)
            early, releases = max(1, setup.early_days), max(1, setup.releases)
            per_day = timing.record / days
            per_release = timing.release / releases
            plans = [
                Plan("early", 0, early, per_day, timing.decide),
                Plan("pay", 0, payments, timing.pay / payments, timing.pay / payments),
                Plan("daily", 0, days, per_day, timing.decide),
                Plan("release", 0, releases, per_release, per_release),
                Plan("dispatch", 0, orders, timing.dispatch / orders, timing.dispatch / orders),
            ]
            for plan in plans:
                phase = plan.phase
                batch = setup.batch_file if phase == "pay" else None
                file = sink if phase == "dispatch" else None
                kills += run_phase(
                    dataclasses.replace(plan, kills=rng.randint(*setup.kills[phase])),
                    lambda phase=phase, batch=batch, file=file: Child(
                        setup.start, phase, url, batch, file, setup.through, log
                    ),
                    progress,
                    rng,
                )
            got = snapshot(url, sink)
            torn = got.torn
            problems = violations(got, setup.reference, setup.batch_keys)
        except TrialError as error:
            problems = [str(error)]
        finally:
            progress.close()
        keep[0] = bool(problems) and setup.keep
    where = f"{folder} ({url})" if keep[0] else ""
    if not keep[0]:
        shutil.rmtree(folder, ignore_errors=True)
    return TrialResult(
        setup.backend,
        number,
        seed,
        tuple(kills),
        time.monotonic() - began,
        tuple(problems),
        where,
        torn,
    )


def make_setup(
    backend: str,
    seed: int,
    payments: int,
    accounts: int,
    workdir: Path,
    base_url: str | None,
    keep: bool = False,
    kills: dict[str, tuple[int, int]] | None = None,
    start: str = "exec",
    policies: Path = POLICIES,
    through: date = THROUGH,
) -> Setup:
    """Generate the dataset and batch (once per seed and sizes) and run the crash-free
    reference on `backend`, timing its phases. The period runs from 2020-01-01 `through`."""
    data = workdir / f"data-{seed}-{accounts}-{through}"
    if not (data / "accounts.csv").exists():
        make_dataset(data, accounts, seed, through)
    batch = make_batch(data, seed, payments, through)
    batch_file = workdir / f"batch-{seed}-{accounts}-{payments}-{through}.json"
    write_batch(batch_file, batch)
    folder = workdir / f"reference-{backend}"
    folder.mkdir(parents=True, exist_ok=True)
    sink = folder / "orders.jsonl"
    sink.unlink(missing_ok=True)
    with fresh_database(backend, folder, base_url, [False]) as url:
        prepare(url, data, folder, policies)
        engine = make_engine(url)
        first_day: list[float] = []
        try:
            began = time.monotonic()
            run_daily(
                engine=engine,
                through=middle(through),
                single=False,
                now=lambda: datetime.now(UTC),
                on_day=lambda _: first_day.append(time.monotonic()) if not first_day else None,
            )
            early_ran = time.monotonic()
            with Session(engine) as session:
                early_days = int(session.scalar(select(func.count(Run.id))) or 0)
        finally:
            engine.dispose()
        post_batch(url, batch)
        paid = time.monotonic()
        run_days(url, through)
        ran = time.monotonic()
        releases = release_all(url)
        released = time.monotonic()
        dispatch_all(url, sink)
        dispatched = time.monotonic()
        reference = snapshot(url, sink)
    decided = (first_day[0] if first_day else early_ran) - began
    timings = Timings(
        pay=paid - early_ran,
        decide=decided,
        record=early_ran - began - decided + ran - paid,
        release=released - ran,
        dispatch=dispatched - released,
    )
    keys = tuple(spec.key for spec in batch)
    problems = violations(reference, reference, keys)
    if problems:
        raise RuntimeError(f"the {backend} reference run breaks the invariants: {problems}")
    return Setup(
        backend=backend,
        seed=seed,
        data=data,
        batch_file=batch_file,
        batch_keys=keys,
        days=len(reference.runs),
        early_days=early_days,
        releases=releases,
        orders=len(reference.outbox),
        reference=reference,
        timings=timings,
        base_url=base_url,
        workdir=workdir,
        keep=keep,
        kills=dict(kills or KILLS),
        start=start,
        policies=policies,
        through=through,
    )


def run_trials(setup: Setup, numbers: Sequence[int], jobs: int) -> Iterator[TrialResult]:
    """The trials `numbers`, `jobs` at a time (each has its own store), as they finish."""
    if jobs <= 1:
        for number in numbers:
            yield run_trial(setup, number)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_trial, setup, number) for number in numbers]
        for future in futures:
            yield future.result()


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    kills: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def sms_trials(args: argparse.Namespace) -> int:
    """The SMS sink's trials (`--sms`), 300 messages each; 1 if any failed."""
    import sms_crash_trials  # noqa: PLC0415  (scripts/ is on the path: the script's folder)

    return int(
        sms_crash_trials.run(
            args.backend, args.trials, args.seed, args.first, 300, args.database_url
        )
    )


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "worker":
        return worker(argv[1:])
    parser = argparse.ArgumentParser(
        prog="crash_trials.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="sqlite")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1, help="Trials run at the same time.")
    parser.add_argument(
        "--start",
        choices=("exec", "fork"),
        default="exec",
        help="Workers start as new interpreters (exec) or forked from a preloaded server.",
    )
    parser.add_argument("--first", type=int, default=1, help="Number of the first trial.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SANBUTING_TEST_DATABASE_URL"),
        help="PostgreSQL server for the trials' schemas (default: SANBUTING_TEST_DATABASE_URL).",
    )
    parser.add_argument(
        "--through",
        type=date.fromisoformat,
        default=THROUGH,
        help="The last day of the period (from 2020-01-01; default 2020-03-31).",
    )
    parser.add_argument("--policies", type=Path, default=POLICIES, help="The policy file.")
    parser.add_argument("--workdir", type=Path, help="Where stores and files go (default: temp).")
    parser.add_argument(
        "--keep", action="store_true", help="Keep the store and files of a failed trial."
    )
    parser.add_argument(
        "--sms",
        choices=("off", "also", "only"),
        default="off",
        help="Also (or only) run the SMS sink's trials (scripts/sms_crash_trials.py: the "
        "sender killed mid-window against the test SMSC), --trials of them per backend.",
    )
    args = parser.parse_args(argv)
    sms_failed = sms_trials(args) if args.sms != "off" else 0
    if args.sms == "only":
        return sms_failed
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    began = time.monotonic()
    tallies: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="crash-trials-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            started = time.monotonic()
            tally = tallies.setdefault(backend, Tally())
            try:
                setup = make_setup(
                    backend,
                    args.seed,
                    args.payments,
                    args.accounts,
                    workdir / backend,
                    args.database_url,
                    keep=args.keep,
                    start=args.start,
                    policies=args.policies,
                    through=args.through,
                )
            except Exception as error:  # a product error in the crash-free run: nothing to compare
                cause = error.__cause__
                message = " ".join(f"{error}: {cause or ''}".split())[:800]
                print(f"{backend} reference run FAILED: {type(error).__name__}: {message}")
                tally.failed, tally.failures = 1, ["the reference run"]
                continue
            t = setup.timings
            print(
                f"{backend} reference: {len(setup.batch_keys)} payments {t.pay:.1f}s, daily "
                f"{setup.days} days ({setup.early_days} before the payments) "
                f"{t.decide + t.record:.1f}s, release {setup.releases} held days "
                f"{t.release:.1f}s, dispatch "
                f"{len(setup.reference.outbox)} orders {t.dispatch:.1f}s "
                f"({len(setup.reference.postings)} postings)",
                flush=True,
            )
            numbers = range(args.first, args.first + args.trials)
            for result in run_trials(setup, numbers, args.jobs):
                print(result.line(), flush=True)
                tally.kills += len(result.kills)
                if result.passed:
                    tally.passed += 1
                else:
                    tally.failed += 1
                    tally.failures.append(result.seed)
            tally.seconds = time.monotonic() - started
    print(f"-- {time.monotonic() - began:.0f}s in all", flush=True)
    for backend, tally in tallies.items():
        total = tally.passed + tally.failed
        failed = f"; FAILED: {', '.join(tally.failures)}" if tally.failures else ""
        print(
            f"{backend}: {tally.passed}/{total} trials passed, {tally.kills} kills, "
            f"{tally.seconds:.0f}s (seed {args.seed}, {args.payments} payments, "
            f"{args.accounts} accounts){failed}",
            flush=True,
        )
    return 1 if any(t.failed for t in tallies.values()) or sms_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
