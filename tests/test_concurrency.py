"""Payments that arrive while `daily` runs never get a paid-up account cut off.

The race. `run_daily` reads each company's accounts, bills and payments, decides every day
from that read, then records the days one transaction each, queueing an order for every action.
A payment committed after the read is not in the decision: for an account whose arrears it
clears, the run still queues the suspension or disconnection it decided (a stale order), and
if the payment lands before that order is recorded, the payment sees no cut-off account and
queues no reconnection either. Only the dispatcher's re-check (`payments.recheck`), which looks
at the ledger again when the order leaves, stands between the stale order and a customer who has
paid being cut off.

The test imports a small generated January (data ending on the last day run), runs `daily`
through D1, predicts from the engine which accounts the run through D2 will cut off in
D1..D2, and works out for each the payment that clears its arrears on its cut-off day (posted
and rolled back). It then runs `run_daily` through D2 in a thread while other threads post
those payments (paid on the cut-off day, 09:00), in three groups whose timing is forced with
hooks on the run (no product code changed):

- before: posted after the run has read the company and before it records any day (the run
  waits for them then), so the run queues the stale cut-off and no reconnection;
- after: posted once the run has recorded the cut-off's day and while it is still running (the
  run waits for them after that day), so the cut-off is queued; the payment finds it not yet
  sent and cancels it, and queues no reconnection (the account was never cut off);
- free: posted as fast as they go once the company has been read, racing the recording
  (on PostgreSQL truly concurrent with a day's transaction).

The dispatcher then sends everything with the real re-check to a sink that, at send time, opens
its own session and computes the account's arrears from the ledger as of the later of the order
day and the account's last payment day, recording any suspension, disconnection or termination
sent for an account with zero arrears. (The sink only reads: while a row is being sent the
dispatcher holds the account's row lock, or SQLite's write lock, so booking from a second
session would wait for the send that waits for it. That the ledger read is complete is checked
afterwards: every figure is recomputed with `book_accounts` first and must be the same.)

It asserts that none was sent, that the stale cut-offs of the before and after groups were
really queued (the payments did land after the read), that the after group's were cancelled by
the payments, and that some were cancelled by the re-check (so the test can fail: without the
re-check they are sent). It runs on SQLite and PostgreSQL,
on two generated datasets each.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from sanbuting.dispatch import FileSink, run_dispatcher
from sanbuting.domain import SHANGHAI, BillingMode, local_date, read_utc
from sanbuting.generate import GenerateRequest, generate
from sanbuting.jobs import daily
from sanbuting.jobs.activation import activate
from sanbuting.jobs.importing import import_and_book
from sanbuting.ledger.service import arrears, balances, book_accounts
from sanbuting.payments.recheck import make_recheck
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.policy import Policy
from sanbuting.store.companies import companies
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.frames import load_frames
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company, OutboxItem, Payment
from sanbuting.store.outbox import order_key
from sanbuting.store.policy_versions import deployment_policies
from sanbuting.store.runs import DayDone
from store_databases import BACKENDS, database

POLICIES = Path(__file__).resolve().parent.parent / "examples" / "policies" / "2020-epidemic.yaml"
START, D1, D2 = date(2020, 1, 1), date(2020, 1, 8), date(2020, 1, 31)
ACCOUNTS = 180
SEEDS = (1, 2)
CUT_OFF = ("suspend", "disconnect", "terminate")
GROUPS = ("before", "after", "free")
WAIT = 120.0
"""Seconds any thread waits for another before the test gives up."""


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database(request.param, tmp_path)


# -- the scenario -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An account the run through D2 will cut off, and the payment that clears it first."""

    company: str
    account_id: str
    day: date
    """The day the engine cuts it off."""
    action: str
    group: str
    amount_fen: int = 0

    @property
    def key(self) -> str:
        return f"race-{self.account_id}"

    @property
    def paid_at(self) -> datetime:
        return datetime.combine(self.day, time(9), tzinfo=SHANGHAI)

    @property
    def stale_order(self) -> str:
        return order_key(self.company, self.action, self.account_id, self.day)

    @property
    def reconnect_order(self) -> str:
        return order_key(self.company, "reconnect", self.account_id, self.day)

    def payment(self, amount_fen: int | None = None) -> PaymentIn:
        return PaymentIn(
            account_id=self.account_id,
            amount_fen=self.amount_fen if amount_fen is None else amount_fen,
            key=self.key,
            paid_at=self.paid_at,
            channel="counter",
        )


def prepare(url: str, folder: Path, seed: int) -> None:
    """A store with a generated January imported (data through D2) and daily run through D1."""
    data = folder / "data"
    generate(GenerateRequest(accounts=ACCOUNTS, out=data, seed=seed, start=START, end=D2))
    upgrade(url)
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            activate(session=session, path=POLICIES, by="test", at=now(), company=None)
        outcome = import_and_book(
            data=data,
            start=START,
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=folder / "rejects.csv",
            url=url,
        )
        assert not outcome.refused, str(outcome)
        daily.run_daily(engine=engine, through=D1, single=False, now=now)
    finally:
        engine.dispose()


def predicted_cut_offs(engine: Engine) -> list[Target]:
    """The first cut-off in D1..D2 of each account, as the engine decides it from the store
    now (nothing recorded), dealt round-robin into the three groups."""
    found: dict[str, tuple[str, date, str]] = {}
    with sessions(engine).begin() as session:
        policies = deployment_policies(session)
        for company in companies(session):
            decided = daily.decide(
                load_frames(session, [company.id]), policies, company, D2, "fast", None
            )
            rows = decided.actions.filter(
                (pl.col("date") > D1) & pl.col("action").cast(pl.String).is_in(CUT_OFF)
            ).sort("date")
            for row in rows.iter_rows(named=True):
                found.setdefault(row["account_id"], (company.code, row["date"], str(row["action"])))
    ordered = sorted(found.items(), key=lambda item: (item[1][1], item[0]))
    return [
        Target(code, account_id, day, action, GROUPS[n % len(GROUPS)])
        for n, (account_id, (code, day, action)) in enumerate(ordered)
    ]


def clearing_amount(engine: Engine, policies: list[Policy], target: Target) -> int:
    """A payment on the cut-off day that brings the account's arrears to 0 (the arrears before
    it, plus any late fee that paying the principal finalizes, found by posting and rolling
    back), and a yuan more: a prepaid balance of exactly 0 is still cut off under
    `at_or_below`."""
    amount = 1
    for _ in range(10):
        with Session(engine) as session:
            session.begin()
            try:
                result = post_payment(
                    session=session, payment=target.payment(amount), policies=policies, now=now()
                )
            finally:
                session.rollback()
        if result.arrears_after_fen == 0:
            return amount + 100
        amount = max(amount, result.arrears_before_fen) + result.arrears_after_fen
    raise AssertionError(f"no payment clears {target.account_id} on {target.day}")


@dataclass
class Race:
    """The threads' meeting points: the run's read of each company, the payments posted before
    it records anything, payments to post after a day is recorded, and what went wrong."""

    targets: list[Target]
    read: dict[str, threading.Event] = field(default_factory=dict)
    before_posted: dict[str, threading.Event] = field(default_factory=dict)
    after: queue.Queue[tuple[list[Target], threading.Event] | None] = field(
        default_factory=queue.Queue
    )
    errors: list[BaseException] = field(default_factory=list)
    failed: threading.Event = field(default_factory=threading.Event)
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, event: str) -> None:
        with self.lock:
            self.log.append(event)

    def of(self, company: str, group: str) -> list[Target]:
        return [t for t in self.targets if t.company == company and t.group == group]

    def give_up(self, error: BaseException) -> None:
        """Record `error` and release every wait (a thread failed)."""
        self.errors.append(error)
        self.failed.set()
        for event in [*self.read.values(), *self.before_posted.values()]:
            event.set()

    def wait(self, event: threading.Event, what: str) -> None:
        """Wait for `event`; give up if another thread failed, or after WAIT seconds."""
        waited = 0.0
        while not event.wait(0.05):
            waited += 0.05
            if self.failed.is_set():
                raise RuntimeError(f"{what}: another thread failed")
            if waited > WAIT:
                raise TimeoutError(what)


def post_all(engine: Engine, policies: list[Policy], targets: list[Target], race: Race) -> None:
    for target in targets:
        with sessions(engine).begin() as session:
            result = post_payment(
                session=session, payment=target.payment(), policies=policies, now=now()
            )
        assert result.arrears_after_fen == 0, (target, result)
        race.note(f"paid {target.account_id} ({target.group}, reconnect {result.reconnect_queued})")


def run_race(
    url: str, race: Race, codes: list[str], policies: list[Policy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run_daily` through D2 in one thread, payments in two others, timed as the module
    docstring says (`codes`: the companies, in the order the run takes them)."""
    race.read = {code: threading.Event() for code in codes}
    race.before_posted = {code: threading.Event() for code in codes}
    original = daily.record_day
    decided: set[str] = set()

    def recording(engine: Engine, company: Company, *rest: Any, **named: Any) -> Any:
        """The run has read the store and decided the company's days (from the origin or a
        checkpoint); before it records the first of them, the payments 'before' land."""
        if company.code not in decided:
            decided.add(company.code)
            race.note(f"read {company.code}")
            race.read[company.code].set()
            race.wait(
                race.before_posted[company.code], f"payments before {company.code} is recorded"
            )
        return original(engine, company, *rest, **named)

    def recorded(done: DayDone) -> None:
        race.note(f"recorded {done.company} {done.day}")
        due = [t for t in race.of(done.company, "after") if t.day == done.day]
        if due:
            posted = threading.Event()
            race.after.put((due, posted))
            race.wait(posted, f"payments after {done.company} {done.day} is recorded")

    monkeypatch.setattr(daily, "record_day", recording)

    def guarded(work: Callable[[Engine], None]) -> Callable[[], None]:
        def run() -> None:
            engine = make_engine(url)
            try:
                work(engine)
            except BaseException as error:
                race.give_up(error)
            finally:
                engine.dispose()

        return run

    def paying_around_the_read(engine: Engine) -> None:
        for code in codes:
            race.wait(race.read[code], f"the run reads {code}")
            post_all(engine, policies, race.of(code, "before"), race)
            race.before_posted[code].set()
            post_all(engine, policies, race.of(code, "free"), race)

    def paying_after_days(engine: Engine) -> None:
        while (request := race.after.get(timeout=WAIT)) is not None:
            due, posted = request
            post_all(engine, policies, due, race)
            posted.set()

    def running(engine: Engine) -> None:
        try:
            daily.run_daily(engine=engine, through=D2, single=False, now=now, on_day=recorded)
        finally:
            race.after.put(None)

    threads = [
        threading.Thread(target=guarded(work), name=work.__name__)
        for work in (running, paying_around_the_read, paying_after_days)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)
        assert not thread.is_alive(), f"{thread.name} is stuck"
    monkeypatch.setattr(daily, "record_day", original)
    if race.errors:
        raise race.errors[0]


# -- the checking sink ----------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    key: str
    account: int
    day: date
    arrears_fen: int


class ArrearsCheckingSink:
    """Writes orders to a FileSink; before each cut-off order goes, computes the account's
    arrears in its own (reading) session and records the order if they are 0."""

    deduplicates = True

    def __init__(self, url: str, path: Path) -> None:
        # On SQLite no BEGIN IMMEDIATE: the dispatcher holds the write lock while it sends.
        self.engine = create_engine(url) if url.startswith("sqlite") else make_engine(url)
        self.file = FileSink(path)
        self.checked: list[Checked] = []
        self.paid_up: list[str] = []

    def send(self, item: OutboxItem) -> None:
        if item.kind in CUT_OFF and item.account is not None and item.day is not None:
            with Session(self.engine) as session:
                account = session.get_one(Account, item.account)
                day = max(item.day, last_paid(session, account) or item.day)
                owed = arrears(session=session, account=account, on=day)
                at_floor = False
                if account.billing_mode == BillingMode.PREPAID.value and owed == 0:
                    held = balances(session=session, account=account.id, on=day).get("credit", 0)
                    at_floor = held == 0  # balance exactly 0: cut off under `at_or_below`
            self.checked.append(Checked(item.key, item.account, day, owed))
            if owed == 0 and not at_floor:
                self.paid_up.append(f"{item.key}: arrears 0 on {day}")
        self.file.send(item)

    def close(self) -> None:
        self.engine.dispose()


def last_paid(session: Session, account: Account) -> date | None:
    last = session.scalar(select(func.max(Payment.paid_at)).where(Payment.account == account.id))
    return local_date(read_utc(last)) if last is not None else None


def booked_arrears(engine: Engine, policies: list[Policy], checked: Checked) -> int:
    """The same figure with the account booked through the day first (rolled back)."""
    with Session(engine) as session:
        session.begin()
        try:
            account = session.get_one(Account, checked.account)
            company = session.get_one(Company, account.company_id)
            book_accounts(
                session=session,
                company=company,
                accounts=[account.id],
                policies=policies,
                now=now(),
                through=checked.day,
            )
            return arrears(session=session, account=account, on=checked.day)
        finally:
            session.rollback()


# -- the test -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_payments_during_daily_never_get_a_paid_up_account_cut_off(
    url: str, tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(url, tmp_path, seed)
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            policies = deployment_policies(session)
        targets = [
            replace(t, amount_fen=clearing_amount(engine, policies, t))
            for t in predicted_cut_offs(engine)
        ]
        assert len(targets) >= 6, targets
        with Session(engine) as session:
            codes = [company.code for company in companies(session)]
        race = Race(targets)
        run_race(url, race, codes, policies, monkeypatch)

        sink = ArrearsCheckingSink(url, tmp_path / "orders.jsonl")
        try:
            report = run_dispatcher(
                engine=engine,
                sink=sink,
                recheck=make_recheck(now, policies),
                stop_when_idle=True,
            )
        finally:
            sink.close()
        with Session(engine) as session:
            rows = session.execute(select(OutboxItem.key, OutboxItem.status)).all()
        status: dict[str, str] = dict(rows)
        log = "\n".join(race.log)

        # No cut-off order left for an account whose arrears were 0 when it was sent.
        assert sink.paid_up == [], f"{sink.paid_up}\n{log}"
        assert sink.checked, "no cut-off order was sent at all"
        for checked in sink.checked:
            assert booked_arrears(engine, policies, checked) == checked.arrears_fen, checked
        # The payments landed after the run's read: it queued the cut-offs it had decided.
        forced = [t for t in targets if t.group in ("before", "after")]
        assert [t.stale_order for t in forced if t.stale_order not in status] == [], log
        # A payment after the cut-off was recorded found it not yet sent: it cancelled the
        # order itself, and queued no reconnection (the account was never cut off).
        late = [t for t in targets if t.group == "after"]
        assert late, log
        with Session(engine) as session:
            reasons = dict(
                session.execute(
                    select(OutboxItem.key, OutboxItem.last_error).where(
                        OutboxItem.key.in_([t.stale_order for t in late])
                    )
                ).all()
            )
        for t in late:
            assert status[t.stale_order] == "cancelled", (t, log)
            assert "cleared the arrears" in (reasons[t.stale_order] or ""), (t, reasons, log)
            assert status.get(t.reconnect_order) in (None, "cancelled"), (t, log)
        # And the re-check cancelled stale cut-offs: without it they would have been sent.
        early = [t for t in targets if t.group == "before"]
        cancelled = [t for t in early if status.get(t.stale_order) == "cancelled"]
        assert cancelled, f"no stale cut-off was cancelled by the re-check: {report}\n{log}"
        assert report.dead == 0
    finally:
        engine.dispose()
