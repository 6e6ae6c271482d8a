"""The SMS queue and its sender on SQLite and PostgreSQL: queueing is idempotent by key; the
sender submits due rows (most urgent first) through the file sink or the SMPP gateway to the
test SMSC, records the SMSC's ids and the receipts, queues transient refusals again and fails
the rest; rows left `sending` become `unknown` and are never submitted again; a dropped
connection and a SIGKILL of the sender in the middle of a window leave each key at most once
on the SMSC's log; and the dispatcher's SMS sink queues `sms` orders in the row's own
transaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from helpers_async import run_apart
from sanbuting.dispatch import DispatchReport, FileSink, dispatch_once
from sanbuting.domain import as_utc, read_utc
from sanbuting.sms import queue
from sanbuting.sms.file_sink import SmsFileSink, read
from sanbuting.sms.gateway import GatewayConfig, SmppGateway
from sanbuting.sms.outbox_sink import SmsQueueSink
from sanbuting.sms.queue import SmsMessage, enqueue, messages_to
from sanbuting.sms.sender import Sender, SenderBusy, SendReport, sole_sender
from sanbuting.sms.transport import OnReceipt, Transport
from sanbuting.store.database import make_engine
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import OutboxItem
from smsc import serving
from store_databases import BACKENDS, database

NOW = datetime(2020, 2, 3, 2, 15, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database(request.param, tmp_path)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    """A migrated store with one company."""
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO companies (id, code, name, utility, ruleset) VALUES "
                "(1, 'gd-power', '广东电网', 'power', 'cn-power-1996')"
            )
        )
    yield engine
    engine.dispose()


def fill(engine: Engine, count: int, *, category: str = "essential", text_: str = "") -> None:
    with Session(engine) as session, session.begin():
        for n in range(1, count + 1):
            enqueue(
                session,
                company_id=1,
                key=f"k{n:05d}",
                phone=f"86138{n:08d}",
                text=text_ or f"您的电费账单第{n}号已出，请按时缴费。",
                category=category,
                now=NOW,
            )


def statuses(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        found = session.execute(select(SmsMessage.key, SmsMessage.status))
        return {str(key): str(status) for key, status in found}


def rows(engine: Engine) -> dict[str, SmsMessage]:
    with Session(engine) as session:
        return {row.key: row for row in session.scalars(select(SmsMessage))}


def gateway_for(port: int, **changes: object) -> object:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "system_id": "sanbuting",
        "password": "secret",
        "source_addr": "95598",
        "window": 10,
        "rate": 5000.0,
        "connect_timeout": 1.0,
        "backoff": 0.05,
        "backoff_max": 0.2,
    }
    values.update(changes)
    config = GatewayConfig(**values)  # type: ignore[arg-type]

    def make(receipts: OnReceipt) -> Transport:
        return SmppGateway(config, receipts)

    return make


def send(engine: Engine, transport: object, *, window: int = 10, **run: object) -> SendReport:
    sender = Sender(engine, transport, window=window, now=lambda: NOW)  # type: ignore[arg-type]
    run.setdefault("receipt_wait", 5.0)
    return run_apart(sender.run(**run))  # type: ignore[arg-type]


# -- the queue -----------------------------------------------------------------------------


def test_queueing_a_key_twice_queues_it_once(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        first = enqueue(
            session,
            company_id=1,
            key="a",
            phone="8613800000001",
            text="电",
            category="sign_in",
            now=NOW,
        )
        again = enqueue(
            session,
            company_id=1,
            key="a",
            phone="8613800000002",
            text="x",
            category="essential",
            now=NOW,
        )
        assert first is not None and again is None
        assert (first.status, first.segments, first.attempts) == ("queued", 1, 0)
        assert read_utc(first.not_before) == NOW
    with Session(engine) as session:
        assert session.scalar(select(SmsMessage.phone)) == "8613800000001"


def test_queueing_refuses_what_cannot_be_sent(engine: Engine) -> None:
    with Session(engine) as session:
        common = {"company_id": 1, "key": "k", "phone": "1", "text": "t", "now": NOW}
        with pytest.raises(ValueError, match="category"):
            enqueue(session, **{**common, "category": "advert"})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="phone"):
            enqueue(session, **{**common, "phone": "", "category": "essential"})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="aware"):
            enqueue(  # type: ignore[arg-type]
                session, **{**common, "now": NOW.replace(tzinfo=None), "category": "essential"}
            )
        with pytest.raises(ValueError, match="segments"):
            enqueue(session, **{**common, "text": "电" * 20_000, "category": "essential"})  # type: ignore[arg-type]
    assert set(queue.CATEGORIES) >= {"essential", "emergency", "sign_in", "marketing_free"}


def test_the_messages_to_a_phone_come_newest_first(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        for n in range(5):
            enqueue(
                session,
                company_id=1,
                key=f"m{n}",
                phone="8613800000001" if n % 2 else "1",
                text=f"t{n}",
                category="essential",
                now=NOW + timedelta(minutes=n),
            )
    with Session(engine) as session:
        assert [m.key for m in messages_to(session, 1, "8613800000001", 10)] == ["m3", "m1"]
        assert [m.key for m in messages_to(session, 1, "1", 2)] == ["m4", "m2"]


# -- the sender, through the file sink ------------------------------------------------------


def test_the_file_sink_sends_due_rows_most_urgent_first_and_only_once(
    engine: Engine, tmp_path: Path
) -> None:
    fill(engine, 3)
    with Session(engine) as session, session.begin():
        enqueue(
            session,
            company_id=1,
            key="code",
            phone="8613900000000",
            text="验证码 123456",
            category="sign_in",
            now=NOW,
        )
        enqueue(
            session,
            company_id=1,
            key="later",
            phone="8613900000001",
            text="明早再发",
            category="marketing_free",
            now=NOW,
            not_before=NOW + timedelta(hours=8),
        )
    path = tmp_path / "sms.jsonl"
    report = send(engine, lambda receipts: SmsFileSink(path, receipts), window=1)
    assert (report.sent, report.delivered) == (4, 4)
    assert [line["key"] for line in read(path)] == ["code", "k00001", "k00002", "k00003"]
    assert statuses(engine) == {
        "code": "delivered",
        "k00001": "delivered",
        "k00002": "delivered",
        "k00003": "delivered",
        "later": "queued",
    }
    again = send(engine, lambda receipts: SmsFileSink(path, receipts))
    assert again.sent == 0 and len(read(path)) == 4
    row = rows(engine)["code"]
    assert row.smsc_message_id == f"file-{row.id}" and row.receipt_status == "DELIVRD"
    assert read_utc(row.sent_at) == NOW and read_utc(row.delivered_at) == NOW  # type: ignore[arg-type]


def test_rows_left_sending_become_unknown_and_are_never_submitted(
    engine: Engine, tmp_path: Path
) -> None:
    fill(engine, 3)
    with Session(engine) as session, session.begin():
        session.execute(
            update(SmsMessage).where(SmsMessage.key == "k00002").values(status="sending")
        )
    path = tmp_path / "sms.jsonl"
    report = send(engine, lambda receipts: SmsFileSink(path, receipts))
    assert (report.recovered, report.sent) == (1, 2)
    assert [line["key"] for line in read(path)] == ["k00001", "k00003"]
    assert statuses(engine)["k00002"] == "unknown"
    assert "never submitted twice" in (rows(engine)["k00002"].error or "")


def test_one_sender_at_a_time(engine: Engine) -> None:
    with sole_sender(engine), pytest.raises(SenderBusy), sole_sender(engine, wait=0.2):
        pass
    with sole_sender(engine):
        pass  # let go with the block


# -- the sender, over SMPP --------------------------------------------------------------------


def test_the_sender_records_ids_segments_and_receipts_from_the_smsc(engine: Engine) -> None:
    fill(engine, 40)
    with Session(engine) as session, session.begin():
        enqueue(
            session,
            company_id=1,
            key="long",
            phone="8613900000000",
            text="停电通知。" * 40,
            category="emergency",
            now=NOW,
        )
    with serving(undelivered=frozenset({"k00007"})) as smsc:
        report = send(engine, gateway_for(smsc.port))
        log = list(smsc.log)
        texts = smsc.texts()
    assert (report.sent, report.delivered, report.undelivered) == (41, 40, 1)
    assert texts["long"] == "停电通知。" * 40
    stored = rows(engine)
    assert stored["long"].segments == 3 == sum(1 for r in log if r.key == "long")
    first_segment = next(r for r in log if r.key == "long")
    assert stored["long"].smsc_message_id == first_segment.message_id
    assert {r.key: r.message_id for r in log if r.key != "long"} == {
        key: row.smsc_message_id for key, row in stored.items() if key != "long"
    }
    assert stored["k00007"].status == "failed" and stored["k00007"].receipt_status == "UNDELIV"
    assert Counter(row.status for row in stored.values()) == {"delivered": 40, "failed": 1}


def test_refusals_queue_transient_ones_again_and_fail_the_rest(engine: Engine) -> None:
    fill(engine, 5)
    with serving(refuse={"k00002": 0x14, "k00003": 0x0B}, throttle_next=3) as smsc:
        report = send(engine, gateway_for(smsc.port))
        throttled = smsc.throttled
    assert (report.sent, report.requeued, report.failed) == (3, 1, 1)
    assert throttled == 3  # throttled submits are retried inside the gateway
    stored = rows(engine)
    assert stored["k00002"].status == "queued" and stored["k00002"].attempts == 1
    assert read_utc(stored["k00002"].not_before) == NOW + timedelta(seconds=30)
    assert "ESME_RMSGQFUL" in (stored["k00002"].error or "")
    assert stored["k00003"].status == "failed"
    assert "ESME_RINVDSTADR" in (stored["k00003"].error or "")


def test_a_dropped_connection_mid_window_leaves_each_key_at_most_once(engine: Engine) -> None:
    fill(engine, 200)
    with serving(drop_at=60, answer_delay=0.01) as smsc:
        report = send(engine, gateway_for(smsc.port))
        keys = smsc.keys()
        sessions = smsc.sessions
    assert sessions == 2
    assert len(keys) == len(set(keys))
    final = statuses(engine)
    counts = Counter(final.values())
    assert set(counts) <= {"delivered", "unknown"}
    assert 1 <= counts["unknown"] <= 10 and report.unknown == counts["unknown"]
    delivered = {key for key, status in final.items() if status == "delivered"}
    assert delivered <= set(keys)
    assert set(keys) - delivered <= {key for key, s in final.items() if s == "unknown"}


KILLED_SENDER = """
import sys
from sanbuting.cli import main
sys.argv = ["sanbuting", "sms", "send", "--forever", "--poll", "0.1"]
main()
"""


def test_a_sender_killed_mid_window_never_sends_a_key_twice(
    engine: Engine, url: str, tmp_path: Path
) -> None:
    fill(engine, 300)
    with serving(answer_delay=0.05) as smsc:
        environment = {
            **os.environ,
            "SANBUTING_DATABASE_URL": url,
            "SANBUTING_SMS_SINK": "smpp",
            "SANBUTING_SMPP_PORT": str(smsc.port),
            "SANBUTING_SMPP_SYSTEM_ID": "sanbuting",
            "SANBUTING_SMPP_PASSWORD": "secret",
            "SANBUTING_SMPP_WINDOW": "10",
            "SANBUTING_SMPP_RATE": "2000",
        }
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_SENDER],
            env=environment,
            cwd=tmp_path,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while len(smsc.log) < 100:
                assert child.poll() is None, child.stderr.read() if child.stderr else ""
                assert time.monotonic() < deadline, "the sender sent too little"
                time.sleep(0.005)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(30)
        assert child.returncode == -signal.SIGKILL
        before = statuses(engine)
        assert "sending" in before.values()  # it died mid-window
        report = send(engine, gateway_for(smsc.port))
        keys = smsc.keys()
    assert report.recovered == Counter(before.values())["sending"] <= 10
    assert len(keys) == len(set(keys))  # at most once
    final = statuses(engine)
    assert set(final.values()) <= {"delivered", "sent", "unknown"}
    assert Counter(final.values())["unknown"] == report.recovered
    sent = {key for key, status in final.items() if status in ("sent", "delivered")}
    assert sent <= set(keys)
    assert set(keys) - sent <= {key for key, s in final.items() if s == "unknown"}
    assert len(sent) >= 300 - 10


# -- the dispatcher's SMS sink ---------------------------------------------------------------


def test_the_dispatcher_queues_sms_orders_with_their_own_key(
    engine: Engine, tmp_path: Path
) -> None:
    payload = {"phone": "8613800000001", "text": "您的登录验证码是123456", "purpose": "signin"}
    with Session(engine) as session, session.begin():
        for number, kind in ((1, "sms"), (2, "notice")):
            session.add(
                OutboxItem(
                    id=number,
                    company_id=1,
                    key=f"{kind}:{number}",
                    kind=kind,
                    account=None,
                    payload=json.dumps(payload, ensure_ascii=False),
                    status="pending",
                    attempts=0,
                    next_attempt_at=as_utc(NOW),
                    created_at=as_utc(NOW),
                    day=None,
                )
            )
    orders = tmp_path / "orders.jsonl"
    sink = SmsQueueSink(FileSink(orders), now=lambda: NOW)
    assert sink.deduplicates
    report = dispatch_once(engine=engine, sink=sink, now=NOW)
    assert report == DispatchReport(sent=2)
    assert [json.loads(line)["key"] for line in orders.read_text().splitlines()] == ["notice:2"]
    stored = rows(engine)
    assert list(stored) == ["sms:1"]
    assert (stored["sms:1"].category, stored["sms:1"].text) == ("sign_in", payload["text"])
    with Session(engine) as session, session.begin():
        session.execute(update(OutboxItem).values(status="pending"))
    assert dispatch_once(engine=engine, sink=sink, now=NOW) == DispatchReport(sent=2)
    assert len(rows(engine)) == 1  # queueing the key again queued nothing


def test_queued_times_are_kept_in_utc_whatever_the_zone(engine: Engine, tmp_path: Path) -> None:
    from sanbuting.domain import SHANGHAI

    with Session(engine) as session, session.begin():
        enqueue(
            session,
            company_id=1,
            key="tz",
            phone="8613800000001",
            text="t",
            category="marketing_free",
            now=NOW.astimezone(SHANGHAI),
            not_before=(NOW + timedelta(hours=1)).astimezone(SHANGHAI),
        )
    row = rows(engine)["tz"]
    assert read_utc(row.not_before) == NOW + timedelta(hours=1)
    path = tmp_path / "sms.jsonl"
    assert send(engine, lambda receipts: SmsFileSink(path, receipts)).sent == 0  # not yet due
