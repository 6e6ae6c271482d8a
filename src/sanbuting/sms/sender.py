"""The SMS sender: the loop that takes due `queued` rows of `sms_messages`, submits them
through a transport (the SMPP gateway, or the file sink for tests and the demo) and records
what became of them. `sanbuting sms send` runs it, as a process of its own beside
`sanbuting dispatch` (which queues the outbox's `sms` orders: `sms.outbox_sink`).

At most once, never twice. The sender works in rounds of one transaction each: record the
results and receipts that came back, then claim due rows, marking them `sending`; the commit
comes before any claimed row is submitted. A row counts against the window from its claim
until its result is recorded, so at most `window` rows are ever `sending`. A sender that dies
(SIGKILL, power loss) leaves them so: the SMSC may or may not have them. The next sender marks
them `unknown` when it starts and never submits them again. So a crash may lose up to a window
of messages (claimed, in flight, or answered but not yet recorded) and never sends one twice:
a duplicate sign-in code or arrears notice costs more trust than a lost one, which the portal
shows as "unknown" and staff can queue again under a new key. The same holds for a submit in
flight when the connection drops (`in_doubt`).

One sender per database (`sole_sender`: a PostgreSQL advisory lock, or a lock file beside the
SQLite database; the operating system releases either when the process dies), so that one
sender's start never takes another's rows for its own leftovers.

Refusals: ESME_RTHROTTLED is retried inside the gateway (slower); other transient refusals
(queue full, system error) queue the row again after a back-off, `max_attempts` claims in all;
any other refusal fails it. Receipts turn `sent` rows `delivered` or `failed`; one that
arrives before its submit's result is recorded waits (`RECEIPT_PATIENCE` seconds). A long
text is `delivered` by its first segment's receipt; the other segments' receipts are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, text

from sanbuting.sms import rows
from sanbuting.sms.gateway import GatewayError
from sanbuting.sms.rows import Claimed
from sanbuting.sms.transport import OnReceipt, Receipt, SubmitResult, Transport

T = TypeVar("T")
RECEIPT_PATIENCE = 5.0
"""Seconds a receipt that matches no sent row is kept for its row's result to be recorded
(it may overtake the result by a flush)."""
SECONDARY_IDS = 100_000
"""The ids of later segments remembered, whose receipts are dropped (a long text's status is
its first segment's)."""
ADVISORY_LOCK = 0x53_4D_53_53_45_4E_44  # "SMSSEND"
LOCK_WAIT = 10.0
"""Seconds a starting sender waits for the lock of one that died."""


class SenderBusy(Exception):
    """Another SMS sender holds the database."""


@dataclass
class SendReport:
    """What one run of the sender did."""

    recovered: int = 0
    """Rows found `sending` at the start and marked `unknown`."""
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    requeued: int = 0
    delivered: int = 0
    undelivered: int = 0

    def line(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))


@contextlib.contextmanager
def sole_sender(engine: Engine, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the database's sender lock for the block, waiting up to `wait` seconds for it
    (PostgreSQL frees a killed sender's lock once it notices the connection gone);
    SenderBusy when another still holds it."""
    deadline = time.monotonic() + wait
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            while True:
                taken = connection.scalar(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK}
                )
                connection.commit()  # the lock is the session's; no transaction stays open
                if taken:
                    break
                if time.monotonic() >= deadline:
                    raise SenderBusy("another SMS sender is running on this database")
                time.sleep(0.1)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    descriptor = os.open(Path(f"{database}.sms-sender.lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SenderBusy("another SMS sender is running on this database") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(descriptor)


class Sender:
    """The loop (see the module). `transport` makes the transport, given the callback for
    receipts; `window` bounds the rows claimed and not yet recorded."""

    def __init__(
        self,
        engine: Engine,
        transport: Callable[[OnReceipt], Transport],
        *,
        window: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        flush_every: float = 0.05,
        max_attempts: int = 5,
        base_delay: timedelta = timedelta(seconds=30),
    ) -> None:
        if window < 1:
            raise ValueError(f"a window of at least 1, not {window}")
        self.engine = engine
        self.make_transport = transport
        self.window = window
        self.now = now
        self.flush_every = flush_every
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.report = SendReport()
        self._results: list[tuple[Claimed, SubmitResult]] = []
        self._receipts: list[tuple[float, Receipt]] = []
        self._unsent: list[int] = []
        self._stopping = False
        self._awaiting = 0
        self._secondary: dict[str, None] = {}
        self._ended = asyncio.Event()
        self._in_flight = 0
        self._db = ThreadPoolExecutor(1, thread_name_prefix="sms-sender-db")

    def stop(self) -> None:
        """Stop claiming; the run ends once the rows in flight are recorded."""
        self._stopping = True

    async def run(
        self, *, stop_when_idle: bool = True, poll: float = 1.0, receipt_wait: float = 0.0
    ) -> SendReport:
        """Send until stopped, or until nothing is due if `stop_when_idle` (then wait up to
        `receipt_wait` seconds for the receipts of the messages sent)."""
        try:
            with sole_sender(self.engine):
                self.report.recovered = await self._call(rows.recover, self.engine)
                transport = self.make_transport(self._receipt)
                if not await self._started(transport):
                    await transport.close()
                    return self.report
                try:
                    await self._loop(transport, stop_when_idle, poll)
                    await self._linger(receipt_wait)
                finally:
                    await transport.close()
                    await self._flush()
                    await self._call(rows.requeue, self.engine, self._unsent)
        finally:
            self._db.shutdown(wait=True)
        return self.report

    async def _started(self, transport: Transport) -> bool:
        """Start the transport (bind); False if the sender was stopped first."""
        starting = asyncio.create_task(transport.start())
        while not starting.done():
            await asyncio.wait({starting}, timeout=0.1)
            if self._stopping and not starting.done():
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
                return False
        starting.result()
        return True

    async def _loop(self, transport: Transport, stop_when_idle: bool, poll: float) -> None:
        """Rounds of one transaction each (record what came back, claim what the window has
        room for) while the claimed messages are submitted."""
        tasks: set[asyncio.Task[None]] = set()
        last_step = time.monotonic()
        drained_at: float | None = None
        while True:
            room = self.window - self._in_flight  # the results waiting are recorded first
            drained = drained_at is not None and time.monotonic() - drained_at < poll
            want = room if not (self._stopping or drained) and room >= self._half() else 0
            if want or self._due(last_step):
                claimed = await self._step(want)
                last_step = time.monotonic()
                if want:
                    drained_at = time.monotonic() if len(claimed) < want else None
                self._in_flight += len(claimed)
                for one in claimed:
                    task = asyncio.create_task(self._send(transport, one))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            if tasks:
                await self._one_done()
                continue
            if self._results or self._receipts:
                await self._flush()
                last_step = time.monotonic()
                continue
            if not (drained_at or self._stopping):
                continue  # the window emptied while claiming was not yet due: claim
            if stop_when_idle or self._stopping or drained_at is None:
                return
            await self._sleep(poll - (time.monotonic() - drained_at))

    async def _one_done(self) -> None:
        """Wait until a submit ends, or `flush_every` passes."""
        self._ended.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.flush_every):
                await self._ended.wait()

    def _half(self) -> int:
        return max(1, self.window // 2)

    async def _send(self, transport: Transport, claimed: Claimed) -> None:
        try:
            result = await transport.submit(claimed.message)
        except GatewayError:
            self._unsent.append(claimed.message.id)
            return
        finally:
            self._in_flight -= 1
            self._ended.set()
        self._results.append((claimed, result))
        for later in result.segment_ids[1:]:
            self._secondary[later] = None
        while len(self._secondary) > SECONDARY_IDS:
            del self._secondary[next(iter(self._secondary))]

    def _receipt(self, receipt: Receipt) -> None:
        if receipt.message_id in self._secondary:
            del self._secondary[receipt.message_id]
            return
        self._receipts.append((time.monotonic(), receipt))

    def _due(self, last_step: float) -> bool:
        """Time to record: half a window of results waits, or the oldest waited
        `flush_every`."""
        if len(self._results) >= self._half() or len(self._receipts) >= 200:
            return True
        waiting = self._results or self._receipts
        return bool(waiting) and time.monotonic() - last_step >= self.flush_every

    async def _flush(self) -> None:
        """Record the results and receipts gathered so far."""
        if self._results or self._receipts:
            await self._step(0)

    async def _step(self, want: int) -> list[Claimed]:
        """One round (`rows.step`): record what came back, claim up to `want` rows."""
        results, self._results = self._results, []
        receipts, self._receipts = self._receipts, []
        received = {id(receipt): at for at, receipt in receipts}
        done, claimed = await self._call(
            rows.step,
            self.engine,
            results,
            [receipt for _, receipt in receipts],
            want,
            self.now(),
            max_attempts=self.max_attempts,
            base_delay=self.base_delay,
        )
        report = self.report
        report.sent += done.sent
        report.failed += done.failed
        report.unknown += done.unknown
        report.requeued += done.requeued
        report.delivered += done.delivered
        report.undelivered += done.undelivered
        self._awaiting += done.sent - done.delivered - done.undelivered
        patience = time.monotonic() - RECEIPT_PATIENCE
        kept = [
            (received[id(r)], r)
            for r in done.unmatched
            if received[id(r)] > patience and self._secondary.pop(r.message_id, 0) is not None
        ]
        self._receipts = kept + self._receipts
        return claimed

    async def _linger(self, seconds: float) -> None:
        """Wait up to `seconds` for the receipts of this run's sent messages."""
        deadline = time.monotonic() + seconds
        while self._awaiting > 0 and time.monotonic() < deadline:
            await asyncio.sleep(min(self.flush_every, max(0.0, deadline - time.monotonic())))
            await self._flush()

    async def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            await asyncio.sleep(min(0.1, seconds))

    async def _call(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, lambda: work(*args, **kwargs))
