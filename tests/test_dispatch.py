"""The outbox dispatcher on SQLite and PostgreSQL: due rows go out once each, in id order; a
recheck cancels an order that no longer applies; a failing receiver is retried with exponential
back-off until the row is dead; concurrent dispatchers never take the same row; a dispatcher
killed between the send and the commit re-sends on restart and the FileSink writes nothing
twice (it deduplicates by key, and survives a torn last line)."""

from __future__ import annotations

import io
import itertools
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from sanbuting.dispatch import (
    ConsoleSink,
    DispatchReport,
    FileSink,
    dispatch_once,
    error_text,
    retry_delay,
    run_dispatcher,
)
from sanbuting.domain import SHANGHAI, as_utc, read_utc
from sanbuting.store.database import make_engine
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, OutboxItem
from store_databases import BACKENDS, database

NOW = datetime(2020, 2, 3, 2, 15, tzinfo=UTC)
DAY = date(2020, 2, 3)
SECOND = timedelta(seconds=1)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database(request.param, tmp_path)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    """A migrated store with one company and accounts A1, A2 (active) and A3 (suspended)."""
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO companies (id, code, name, utility, ruleset) VALUES "
                "(1, 'gd-power', '廣東電網', 'power', 'cn-power-1996')"
            )
        )
        for number, state in ((1, "active"), (2, "active"), (3, "suspended")):
            c.execute(
                text(
                    "INSERT INTO accounts (id, company_id, account_id, utility, "
                    "customer_class, region, billing_mode, tags, state, credit_limit_fen) "
                    "VALUES (:id, 1, :account, 'power', 'residential', '440305', 'postpaid', "
                    "'', :state, 0)"
                ),
                {"id": number, "account": f"A{number}", "state": state},
            )
    yield engine
    engine.dispose()


def order(
    number: int,
    key: str,
    kind: str = "notice",
    account: int | None = 1,
    *,
    due: timedelta = timedelta(0),
    status: str = "pending",
) -> OutboxItem:
    """An outbox row due `due` after NOW, as a decision would queue it (times in UTC)."""
    return OutboxItem(
        id=number,
        company_id=1,
        key=key,
        kind=kind,
        account=account,
        payload=json.dumps({"order": number}),
        status=status,
        attempts=0,
        next_attempt_at=as_utc(NOW + due),
        created_at=as_utc(NOW - timedelta(hours=1)),
        day=DAY,
    )


def add(engine: Engine, items: list[OutboxItem]) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(items)


def stored(engine: Engine) -> dict[str, OutboxItem]:
    """The outbox rows by key, as stored now."""
    with Session(engine) as session:
        return {item.key: item for item in session.scalars(select(OutboxItem))}


def done_at(row: OutboxItem) -> datetime | None:
    return read_utc(row.done_at) if row.done_at is not None else None


def written(path: Path) -> list[str]:
    """The keys in a FileSink's file, in order."""
    return [json.loads(line)["key"] for line in path.read_text("utf-8").splitlines() if line]


class FlakySink:
    """Records what it is sent (through a FileSink) after refusing the first `failures`."""

    deduplicates = True

    def __init__(self, path: Path, failures: int) -> None:
        self.file = FileSink(path)
        self.failures = failures
        self.calls = 0

    def send(self, item: OutboxItem) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"receiver down (try {self.calls})\nretry later")
        self.file.send(item)


# -- sending --------------------------------------------------------------------------------

# id, key, kind, account: inserted in this order; sent in id order.
ORDERS = [
    (3, "suspend/A1/2020-02-03", "suspend", 1),
    (1, "notice/A2/2020-02-03", "notice", 2),
    (2, "sms/A1/2020-02-03", "sms", 1),
    (5, "guarantee_on/gd-power/2020-02-03", "guarantee_on", None),
    (4, "notice/A1/2020-02-03", "notice", 1),
]
# batch of 2: what each successive call sends.
CALLS = [
    (DispatchReport(sent=2), ["notice/A2/2020-02-03", "sms/A1/2020-02-03"]),
    (DispatchReport(sent=2), ["suspend/A1/2020-02-03", "notice/A1/2020-02-03"]),
    (DispatchReport(sent=1), ["guarantee_on/gd-power/2020-02-03"]),
    (DispatchReport(), []),
    (DispatchReport(), []),
]


def test_due_rows_are_sent_once_in_id_order(engine: Engine, tmp_path: Path) -> None:
    add(engine, [order(n, key, kind, account) for n, key, kind, account in ORDERS])
    path = tmp_path / "orders.jsonl"
    sink = FileSink(path)
    sent: list[str] = []
    for report, keys in CALLS:
        assert dispatch_once(engine=engine, sink=sink, now=NOW, batch=2) == report
        sent += keys
        assert written(path) == sent
    rows = stored(engine)
    assert {key: rows[key].status for key in sent} == dict.fromkeys(sent, "done")
    assert {done_at(rows[key]) for key in sent} == {NOW}
    assert {rows[key].attempts for key in sent} == {0}
    # A fresh sink on the same file (a restart) finds nothing left to send.
    assert dispatch_once(engine=engine, sink=FileSink(path), now=NOW) == DispatchReport()
    assert written(path) == sent


# key, status, due after NOW, sent at NOW, sent a second later
DUE = [
    ("due-now", "pending", timedelta(0), True, False),
    ("overdue", "pending", -timedelta(days=1), True, False),
    ("due-in-1s", "pending", SECOND, False, True),
    ("due-in-8h", "pending", timedelta(hours=8), False, False),
    ("done", "done", -timedelta(hours=1), False, False),
    ("cancelled", "cancelled", -timedelta(hours=1), False, False),
    ("dead", "dead", -timedelta(hours=1), False, False),
]


def test_only_pending_rows_that_are_due_are_claimed(engine: Engine, tmp_path: Path) -> None:
    add(engine, [order(n, key, due=due, status=st) for n, (key, st, due, *_) in enumerate(DUE)])
    path = tmp_path / "orders.jsonl"
    sink = FileSink(path)
    # `now` in Shanghai time is the same instant: the 8-hour offset must not make rows due.
    dispatch_once(engine=engine, sink=sink, now=NOW.astimezone(SHANGHAI))
    assert written(path) == [key for key, _, _, now, _ in DUE if now]
    dispatch_once(engine=engine, sink=sink, now=(NOW + SECOND).astimezone(SHANGHAI))
    assert written(path) == [key for key, _, _, now, later in DUE if now or later]


def test_a_naive_now_or_an_empty_batch_is_refused(engine: Engine, tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "orders.jsonl")
    with pytest.raises(ValueError, match="naive"):
        dispatch_once(engine=engine, sink=sink, now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="batch"):
        dispatch_once(engine=engine, sink=sink, now=NOW, batch=0)


# -- recheck ----------------------------------------------------------------------------------


def already_suspended(session: Session, item: OutboxItem) -> str | None:
    """Cancel a suspension of an account that is suspended already."""
    if item.kind != "suspend" or item.account is None:
        return None
    account = session.get_one(Account, item.account)
    return (
        f"account {account.account_id} is suspended already"
        if account.state == "suspended"
        else None
    )


# id, key, kind, account, status afterwards, last_error
RECHECKED = [
    (1, "suspend/A1/2020-02-03", "suspend", 1, "done", None),
    (2, "suspend/A3/2020-02-03", "suspend", 3, "cancelled", "account A3 is suspended already"),
    (3, "notice/A3/2020-02-03", "notice", 3, "done", None),
]


def test_a_recheck_cancels_an_order_that_no_longer_applies(engine: Engine, tmp_path: Path) -> None:
    add(engine, [order(n, key, kind, account) for n, key, kind, account, *_ in RECHECKED])
    path = tmp_path / "orders.jsonl"
    report = dispatch_once(engine=engine, sink=FileSink(path), recheck=already_suspended, now=NOW)
    assert report == DispatchReport(sent=2, cancelled=1)
    assert written(path) == [key for _, key, *_, status, _ in RECHECKED if status == "done"]
    rows = stored(engine)
    assert [(rows[k].status, rows[k].last_error) for _, k, *_ in RECHECKED] == [
        (status, error) for *_, status, error in RECHECKED
    ]
    assert {done_at(row) for row in rows.values()} == {NOW}


# -- retries ----------------------------------------------------------------------------------

# The receiver refuses 5 times, max_attempts 3, base delay 5 s. Each call: seconds after NOW,
# report, then the row: attempts, status, next attempt (seconds after NOW), last error.
GIVING_UP = [
    (0, DispatchReport(retried=1), 1, "pending", 5, "receiver down (try 1) retry later"),
    (4, DispatchReport(), 1, "pending", 5, "receiver down (try 1) retry later"),
    (5, DispatchReport(retried=1), 2, "pending", 15, "receiver down (try 2) retry later"),
    (14, DispatchReport(), 2, "pending", 15, "receiver down (try 2) retry later"),
    (15, DispatchReport(dead=1), 3, "dead", 35, "receiver down (try 3) retry later"),
    (3600, DispatchReport(), 3, "dead", 35, "receiver down (try 3) retry later"),
]
# The receiver refuses twice, max_attempts 8: the third attempt goes through.
GETTING_THROUGH = [
    (0, DispatchReport(retried=1), 1, "pending", 5, "receiver down (try 1) retry later"),
    (5, DispatchReport(retried=1), 2, "pending", 15, "receiver down (try 2) retry later"),
    (15, DispatchReport(sent=1), 2, "done", 15, "receiver down (try 2) retry later"),
    (60, DispatchReport(), 2, "done", 15, "receiver down (try 2) retry later"),
]
Schedule = list[tuple[int, DispatchReport, int, str, int, str]]


@pytest.mark.parametrize(
    ("failures", "max_attempts", "schedule"),
    [(5, 3, GIVING_UP), (2, 8, GETTING_THROUGH)],
    ids=["dead", "done"],
)
def test_a_failing_receiver_is_retried_with_back_off(
    engine: Engine, tmp_path: Path, failures: int, max_attempts: int, schedule: Schedule
) -> None:
    add(engine, [order(1, "disconnect/A1/2020-02-03", "disconnect")])
    sink = FlakySink(tmp_path / "orders.jsonl", failures)
    for at, report, attempts, status, next_at, error in schedule:
        now = NOW + at * SECOND
        assert dispatch_once(engine=engine, sink=sink, now=now, max_attempts=max_attempts) == report
        row = stored(engine)["disconnect/A1/2020-02-03"]
        assert (row.attempts, row.status, row.last_error) == (attempts, status, error)
        assert read_utc(row.next_attempt_at) == NOW + next_at * SECOND
    finished = schedule[-1][3]
    assert sink.file.keys == ({"disconnect/A1/2020-02-03"} if finished == "done" else set())


# attempts, base delay, delay before the next attempt
DELAYS = [
    (1, 5, 5),
    (2, 5, 10),
    (3, 5, 20),
    (8, 5, 640),
    (10, 5, 2560),
    (11, 5, 3600),
    (1000, 5, 3600),
    (3, 0, 0),
    (1, 7200, 3600),
]


@pytest.mark.parametrize(("attempts", "base", "delay"), DELAYS)
def test_the_back_off_doubles_up_to_an_hour(attempts: int, base: int, delay: int) -> None:
    assert retry_delay(attempts, base * SECOND) == delay * SECOND


ERRORS = [
    (ConnectionError("refused\n  by\tpeer"), "refused by peer"),
    (TimeoutError(), "TimeoutError"),
    (RuntimeError("x" * 600), "x" * 500),
]


@pytest.mark.parametrize(("error", "message"), ERRORS)
def test_the_last_error_is_one_line_of_at_most_500_characters(
    error: Exception, message: str
) -> None:
    assert error_text(error) == message


# -- sinks ------------------------------------------------------------------------------------


def test_a_file_sink_writes_sorted_json_lines_keeping_chinese(tmp_path: Path) -> None:
    item = OutboxItem(
        key="notice/A1/2020-02-03",
        kind="notice",
        account=1,
        day=DAY,
        payload=json.dumps({"text": "您的電費已逾期", "amount_fen": 12345}),
    )
    path = tmp_path / "orders.jsonl"
    FileSink(path).send(item)
    assert path.read_text("utf-8") == (
        '{"account": 1, "day": "2020-02-03", "key": "notice/A1/2020-02-03", "kind": "notice", '
        '"payload": {"amount_fen": 12345, "text": "您的電費已逾期"}}\n'
    )


def item_for(key: str) -> OutboxItem:
    return OutboxItem(key=key, kind="sms", account=None, day=None, payload="{}")


def line_for(key: str) -> bytes:
    record: dict[str, object] = {
        "account": None,
        "day": None,
        "key": key,
        "kind": "sms",
        "payload": {},
    }
    return json.dumps(record, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def test_a_file_sink_writes_nothing_for_a_key_already_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    FileSink(path).send(item_for("a"))
    before = path.read_bytes()
    restarted = FileSink(path)
    assert restarted.keys == {"a"}
    restarted.send(item_for("a"))
    assert path.read_bytes() == before
    restarted.send(item_for("b"))
    restarted.send(item_for("b"))
    assert path.read_bytes() == before + line_for("b")


# What a crash in the middle of writing "b" may leave after "a": a torn last line.
TORN = {
    "mid-json": line_for("b")[:25],
    "mid-character": line_for("短信")[:-8],
    "whole-but-no-newline": line_for("b")[:-1],
}


@pytest.mark.parametrize("tail", TORN.values(), ids=TORN.keys())
def test_a_file_sink_survives_a_torn_last_line(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_bytes(line_for("a") + tail)
    sink = FileSink(path)
    complete = {"a", "b"} if tail == line_for("b")[:-1] else {"a"}
    assert sink.keys == complete
    sink.send(item_for("c"))
    assert path.read_bytes() == line_for("a") + tail + b"\n" + line_for("c")
    assert FileSink(path).keys == complete | {"c"}


def test_a_file_sink_refuses_a_file_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text('["not", "an", "order"]\n' + line_for("a").decode())
    with pytest.raises(ValueError, match=r"orders.jsonl:1: not an outbox record"):
        FileSink(path)


def test_a_console_sink_prints_one_line_and_cannot_deduplicate() -> None:
    stream = io.StringIO()
    sink = ConsoleSink(stream)
    sink.send(OutboxItem(key="suspend/A1", kind="suspend", account=1, day=DAY, payload="{}"))
    sink.send(OutboxItem(key="guarantee_on/1", kind="guarantee_on", payload="{}"))
    assert stream.getvalue() == (
        "suspend suspend/A1 account=1 day=2020-02-03\nguarantee_on guarantee_on/1 account=- day=-\n"
    )
    assert (ConsoleSink.deduplicates, FileSink.deduplicates) == (False, True)


# -- running ----------------------------------------------------------------------------------


def ticking(step: timedelta) -> Iterator[datetime]:
    """NOW, then `step` later at each call."""
    return (NOW + n * step for n in itertools.count())


def test_run_dispatcher_stops_when_idle_and_sums_the_reports(
    engine: Engine, tmp_path: Path
) -> None:
    add(engine, [order(n, f"sms/{n}", "sms") for n in (1, 2, 3)])
    sink = FlakySink(tmp_path / "orders.jsonl", failures=1)
    clock = ticking(5 * SECOND)
    slept: list[float] = []
    report = run_dispatcher(
        engine=engine,
        sink=sink,
        poll=0.5,
        stop_when_idle=True,
        now=lambda: next(clock),
        sleep=slept.append,
    )
    assert report == DispatchReport(sent=3, retried=1)
    assert written(tmp_path / "orders.jsonl") == ["sms/2", "sms/3", "sms/1"]
    assert slept == []


class Stop(Exception):
    pass


def test_run_dispatcher_polls_when_idle(engine: Engine, tmp_path: Path) -> None:
    add(engine, [order(1, "sms/1", "sms"), order(2, "sms/2", "sms", due=10 * SECOND)])
    clock = ticking(5 * SECOND)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_dispatcher(
            engine=engine,
            sink=FileSink(tmp_path / "orders.jsonl"),
            poll=0.5,
            now=lambda: next(clock),
            sleep=sleep,
        )
    # NOW: sms/1; +5 s: idle; +10 s: sms/2; +15 s: idle.
    assert written(tmp_path / "orders.jsonl") == ["sms/1", "sms/2"]
    assert slept == [0.5, 0.5]


# -- concurrency and crashes ------------------------------------------------------------------


class SlowSink:
    """Takes a moment per send and records (who, key) in a list shared between threads."""

    deduplicates = True

    def __init__(self, who: int, sent: list[tuple[int, str]], lock: threading.Lock) -> None:
        self.who, self.sent, self.lock = who, sent, lock

    def send(self, item: OutboxItem) -> None:
        time.sleep(0.01)
        with self.lock:
            self.sent.append((self.who, item.key))


def test_two_dispatchers_send_every_row_exactly_once(url: str, engine: Engine) -> None:
    keys = [f"sms/A1/{n:03d}" for n in range(1, 31)]
    add(engine, [order(n, key, "sms") for n, key in enumerate(keys, 1)])
    sent: list[tuple[int, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def dispatcher(who: int) -> DispatchReport:
        own = make_engine(url)  # its own pool, so its own connection
        try:
            start.wait(timeout=10)
            return run_dispatcher(
                engine=own,
                sink=SlowSink(who, sent, lock),
                batch=3,
                poll=0.0,
                stop_when_idle=True,
                now=lambda: NOW,
            )
        finally:
            own.dispose()

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(dispatcher, (1, 2)))
    assert Counter(key for _, key in sent) == Counter(keys)
    assert sum(report.sent for report in reports) == len(keys)
    assert {row.status for row in stored(engine).values()} == {"done"}
    if url.startswith("postgresql"):
        # SKIP LOCKED lets both work at once (SQLite's write lock may let one do it all).
        assert {who for who, _ in sent} == {1, 2}


class ChecksTheWriteLock:
    """Tries, while sending, to start a write on another SQLite connection without waiting."""

    deduplicates = True

    def __init__(self, path: str) -> None:
        self.path = path
        self.refused: list[str] = []

    def send(self, item: OutboxItem) -> None:
        other = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            self.refused.append(f"{item.key}: {error}")
        finally:
            other.close()


@pytest.mark.parametrize("begin", ["make_engine", "driver"])
def test_on_sqlite_a_claim_holds_the_write_lock(url: str, engine: Engine, begin: str) -> None:
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL claims with FOR UPDATE SKIP LOCKED")
    add(engine, [order(1, "sms/1", "sms"), order(2, "sms/2", "sms")])
    # make_engine begins with BEGIN IMMEDIATE itself; a plain engine leaves BEGIN to pysqlite.
    dispatching = engine if begin == "make_engine" else create_engine(url)
    sink = ChecksTheWriteLock(url.removeprefix("sqlite:///"))
    assert dispatch_once(engine=dispatching, sink=sink, now=NOW) == DispatchReport(sent=2)
    assert sink.refused == ["sms/1: database is locked", "sms/2: database is locked"]
    dispatching.dispose()


DIES_AFTER_SENDING = """
import os, signal, sys
from datetime import datetime
from sanbuting.dispatch import FileSink, dispatch_once
from sanbuting.store.database import make_engine

url, path, now = sys.argv[1:]
file = FileSink(path)

class DiesAfterSending:
    deduplicates = True

    def send(self, item):
        file.send(item)
        os.kill(os.getpid(), signal.SIGKILL)

dispatch_once(engine=make_engine(url), sink=DiesAfterSending(), now=datetime.fromisoformat(now))
"""


def test_a_dispatcher_killed_after_sending_resends_and_the_file_sink_ignores_it(
    url: str, engine: Engine, tmp_path: Path
) -> None:
    add(engine, [order(1, "disconnect/A1", "disconnect"), order(2, "notice/A2", "notice", 2)])
    path = tmp_path / "orders.jsonl"
    killed = subprocess.run(
        [sys.executable, "-c", DIES_AFTER_SENDING, url, str(path), NOW.isoformat()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert written(path) == ["disconnect/A1"]
    assert {key: row.status for key, row in stored(engine).items()} == {
        "disconnect/A1": "pending",
        "notice/A2": "pending",
    }
    # PostgreSQL rolls the dead session back as soon as it sees the socket close.
    deadline = time.monotonic() + 10
    report = dispatch_once(engine=engine, sink=FileSink(path), now=NOW)
    while report.sent < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        report += dispatch_once(engine=engine, sink=FileSink(path), now=NOW)
    assert report == DispatchReport(sent=2)
    assert written(path) == ["disconnect/A1", "notice/A2"]
    assert {row.status for row in stored(engine).values()} == {"done"}
