"""The outbox dispatcher: sends the side effects waiting in the `outbox` table, with retries.

A decision writes its orders (`OutboxItem`, status 'pending') in its own transaction;
`dispatch_once` sends those that are due (`next_attempt_at <= now`) in id order and records
each outcome: 'done' when the sink took it, 'cancelled' when the recheck says the order no
longer applies, and on a sink error one more attempt with exponential back-off
(`base_delay * 2**(attempts-1)`, at most an hour), or 'dead' after `max_attempts`.

One row, one transaction. Each row is claimed, rechecked, sent and settled in a short
transaction of its own, up to `batch` rows a call. The claim is a row lock held until that
row's outcome commits:

- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` on the lowest due id, so several dispatchers
  run side by side, each skipping the row another holds; a row settled meanwhile no longer
  matches (READ COMMITTED rechecks the condition on the locked version).
- SQLite, which ignores FOR UPDATE: the transaction starts with `BEGIN IMMEDIATE`, taking the
  database's single write lock before the row is even read, so dispatchers (and every other
  writer) take turns. Engines from `make_engine` begin every SQLite transaction that way; on
  an engine that leaves BEGIN to the driver (pysqlite's default), the dispatcher issues it
  itself. Writers wait for the lock up to the engine's busy timeout, so a sink must give up
  well before that.

Crashes. Nothing is marked before the send: a crash (SIGKILL, power loss) before the commit
rolls the row's transaction back and leaves it 'pending', to be claimed again on restart.
Settling each row in its own transaction bounds what a crash re-sends to the one row that was
in flight (claiming a batch in one transaction would re-send every row sent since the batch
began) and holds a lock for one send only. The re-send is why a sink for real orders must
deduplicate by the row's `key` (`Sink.deduplicates`). A send that fails is retried; nothing is
lost while the row stays 'pending'.

Time. `now` must be aware, in any zone; it is converted to UTC, and every time the dispatcher
writes (`done_at`, `next_attempt_at`) is UTC. SQLite keeps `DateTime(timezone=True)` as naive
text, dropping the offset, so the `next_attempt_at <= now` comparison is right only if every
writer of the outbox stores UTC too (use `as_utc`); read a stored time back with `read_utc`,
which takes a naive value (SQLite) as UTC. PostgreSQL compares instants whatever the zone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeAlias

from sqlalchemy import Engine, Select, select, text
from sqlalchemy.orm import Session

from sanbuting.dispatch.sinks import Sink
from sanbuting.domain import as_utc
from sanbuting.store.models import CANCELLED, DEAD, DONE, PENDING, OutboxItem

Recheck: TypeAlias = Callable[[Session, OutboxItem], str | None]
"""Called with the row's transaction before sending: None to send, or why the order no longer
applies (the row is then 'cancelled' with that reason as its `last_error`)."""

OnSent: TypeAlias = Callable[[Session, OutboxItem, datetime], None]
"""Called in the row's transaction once the sink took it, before it is marked done (the field
work order of a cut-off or reconnection, `field.orders.on_sent`)."""

Outcome: TypeAlias = Literal["sent", "cancelled", "retried", "dead"]

MAX_DELAY = timedelta(hours=1)
ERROR_LENGTH = 500


@dataclass(frozen=True)
class DispatchReport:
    """How many rows were sent, cancelled, scheduled for another attempt, and given up."""

    sent: int = 0
    cancelled: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.cancelled + self.retried + self.dead

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            sent=self.sent + other.sent,
            cancelled=self.cancelled + other.cancelled,
            retried=self.retried + other.retried,
            dead=self.dead + other.dead,
        )


def retry_delay(attempts: int, base_delay: timedelta) -> timedelta:
    """The wait after the `attempts`-th failure: `base_delay * 2**(attempts-1)`, at most an
    hour (doubled step by step, so that no attempt count overflows)."""
    delay = base_delay
    for _ in range(attempts - 1):
        if delay >= MAX_DELAY:
            break
        delay *= 2
    return min(delay, MAX_DELAY)


def error_text(error: BaseException) -> str:
    """An exception's message on one line, at most 500 characters (its type if it has none)."""
    message = " ".join(str(error).split()) or type(error).__name__
    return message[:ERROR_LENGTH]


def dispatch_once(
    *,
    engine: Engine,
    sink: Sink,
    recheck: Recheck | None = None,
    now: datetime,
    batch: int = 100,
    max_attempts: int = 8,
    base_delay: timedelta = timedelta(seconds=5),
    on_sent: OnSent | None = None,
) -> DispatchReport:
    """Send up to `batch` due rows, lowest id first, each in its own transaction."""
    _check_limits(batch, max_attempts, base_delay)
    moment = as_utc(now)
    counts: dict[Outcome, int] = {"sent": 0, "cancelled": 0, "retried": 0, "dead": 0}
    for _ in range(batch):
        outcome = _dispatch_next(engine, sink, recheck, moment, max_attempts, base_delay, on_sent)
        if outcome is None:
            break
        counts[outcome] += 1
    return DispatchReport(**counts)


def run_dispatcher(
    *,
    engine: Engine,
    sink: Sink,
    recheck: Recheck | None = None,
    batch: int = 100,
    max_attempts: int = 8,
    base_delay: timedelta = timedelta(seconds=5),
    poll: float = 5.0,
    stop_when_idle: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    on_sent: OnSent | None = None,
) -> DispatchReport:
    """Call `dispatch_once` again and again, sleeping `poll` seconds whenever no row was due;
    return the sum of the reports once no row is due if `stop_when_idle`, else never."""
    total = DispatchReport()
    while True:
        report = dispatch_once(
            engine=engine,
            sink=sink,
            recheck=recheck,
            now=now(),
            batch=batch,
            max_attempts=max_attempts,
            base_delay=base_delay,
            on_sent=on_sent,
        )
        total += report
        if report.total:
            continue
        if stop_when_idle:
            return total
        sleep(poll)


def _check_limits(batch: int, max_attempts: int, base_delay: timedelta) -> None:
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
    if base_delay < timedelta(0):
        raise ValueError(f"base_delay must not be negative, not {base_delay}")


def _dispatch_next(
    engine: Engine,
    sink: Sink,
    recheck: Recheck | None,
    moment: datetime,
    max_attempts: int,
    base_delay: timedelta,
    on_sent: OnSent | None,
) -> Outcome | None:
    """Claim the lowest due row and settle it, in one transaction; None when none is due."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if engine.dialect.name == "sqlite":
            _take_sqlite_write_lock(session)
        item = session.scalars(_next_due(moment)).first()
        if item is None:
            return None
        return _settle(session, item, sink, recheck, moment, max_attempts, base_delay, on_sent)


def _take_sqlite_write_lock(session: Session) -> None:
    """Begin the SQLite transaction with `BEGIN IMMEDIATE` unless the engine already has
    (`make_engine` does; pysqlite by default begins only before the first write)."""
    driver = session.connection().connection.dbapi_connection
    if not getattr(driver, "in_transaction", False):
        session.execute(text("BEGIN IMMEDIATE"))


def _next_due(moment: datetime) -> Select[OutboxItem]:
    return (
        select(OutboxItem)
        .where(OutboxItem.status == PENDING, OutboxItem.next_attempt_at <= moment)
        .order_by(OutboxItem.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _settle(
    session: Session,
    item: OutboxItem,
    sink: Sink,
    recheck: Recheck | None,
    moment: datetime,
    max_attempts: int,
    base_delay: timedelta,
    on_sent: OnSent | None = None,
) -> Outcome:
    """Recheck, send and record the outcome on the claimed row (committed by the caller)."""
    reason = recheck(session, item) if recheck is not None else None
    if reason is not None:
        item.status, item.last_error, item.done_at = CANCELLED, reason, moment
        return "cancelled"
    try:
        sink.send(item)
    except Exception as error:
        return _failed(item, error, moment, max_attempts, base_delay)
    if on_sent is not None:
        on_sent(session, item, moment)
    item.status, item.done_at = DONE, moment
    return "sent"


def _failed(
    item: OutboxItem,
    error: Exception,
    moment: datetime,
    max_attempts: int,
    base_delay: timedelta,
) -> Outcome:
    item.attempts += 1
    item.last_error = error_text(error)
    item.next_attempt_at = moment + retry_delay(item.attempts, base_delay)
    if item.attempts >= max_attempts:
        item.status = DEAD
        return "dead"
    return "retried"
