"""Benchmark SMS sending (issue 15): messages a second to the test SMSC (`tests/smsc.py`, on
127.0.0.1 in a thread of this process), with a window of 1 (each submit waits for its answer)
against a window of N, in the same process and one after the other.

    # the SMPP gateway alone: submit_sm round trips (receipts on), no database; --keep-nagle
    # leaves Nagle's algorithm on, as smpp34 does (docs/sms.md)
    python benchmarks/sms_bench.py gateway --messages 5000 --window 50

    # the sender end to end: claim from `sms_messages`, submit, record ids and receipts
    python benchmarks/sms_bench.py sender --backend sqlite --messages 5000 --window 50
    python benchmarks/sms_bench.py sender --backend postgresql --messages 5000 --window 50

Every message is a one-segment Chinese text (UCS-2). The rate limit is set far above what is
reached (`--rate`), so the window and the round trip decide. The SMSC runs in a process of
its own (`--smsc thread` keeps it in this one, sharing the interpreter lock). No timed
assertions: the script prints the rates and the window-N run's ratio to the window-1 run, and
the load (`uptime`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sanbuting.sms.gateway import GatewayConfig, SmppGateway  # noqa: E402
from sanbuting.sms.queue import enqueue  # noqa: E402
from sanbuting.sms.sender import Sender  # noqa: E402
from sanbuting.sms.transport import OnReceipt, Outgoing, Receipt, Transport  # noqa: E402
from sanbuting.store.database import make_engine  # noqa: E402
from sanbuting.store.migrations import upgrade  # noqa: E402
from smsc import Smsc, SmscThread  # noqa: E402

TEXT = "【国网】您户号尾号{n:04d}的电费已缴清，感谢使用网上营业厅。"


class Server:
    """The test SMSC, in a thread of this process or in a process of its own (as an SMSC
    would be: it then takes no share of this process's interpreter lock)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.port = 0
        self._thread: SmscThread | None = None
        self._smsc: Smsc | None = None
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Server:
        if self.where == "thread":
            self._thread = SmscThread()
            self._smsc = self._thread.__enter__()
            self.port = self._smsc.port
            return self
        self._process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "smsc.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())
        return self

    def logged(self) -> int:
        """Submits on the SMSC's log (each key once: checked)."""
        if self._thread is not None:
            assert self._smsc is not None
            keys = self._smsc.keys()
            assert len(keys) == len(set(keys))
            return len(keys)
        assert self._process is not None and self._process.stdin and self._process.stdout
        self._process.stdin.write("count\n")
        self._process.stdin.flush()
        submits, keys = map(int, self._process.stdout.readline().split())
        assert submits == keys
        return submits

    def __exit__(self, *_: object) -> None:
        if self._thread is not None:
            self._thread.__exit__(None, None, None)
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait(30)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


NODELAY = [True]


def config(port: int, window: int, rate: float) -> GatewayConfig:
    return GatewayConfig(
        host="127.0.0.1",
        port=port,
        system_id="sanbuting",
        password="secret",
        source_addr="95598",
        window=window,
        rate=rate,
        nodelay=NODELAY[0],
    )


async def gateway_run(port: int, window: int, rate: float, messages: int) -> tuple[float, int]:
    """Seconds to submit `messages` through one gateway, and the receipts seen by then."""
    receipts: list[Receipt] = []
    gateway = SmppGateway(config(port, window, rate), receipts.append)
    await gateway.start()
    queue = [Outgoing(n, f"bench/{n}", f"86138{n:08d}", TEXT.format(n=n)) for n in range(messages)]

    async def worker() -> None:
        while queue:
            result = await gateway.submit(queue.pop())
            assert result.outcome == "sent", result

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(window)))
    took = time.perf_counter() - started
    await gateway.close()
    return took, len(receipts)


def gateway(messages: int, window: int, rate: float, where: str) -> None:
    print(f"gateway: {messages} messages, the SMSC in a {where}, {load()}")
    rates = {}
    for size in (1, window):
        with Server(where) as smsc:
            took, receipts = asyncio.run(gateway_run(smsc.port, size, rate, messages))
            assert smsc.logged() == messages
        rates[size] = messages / took
        print(f"  window {size:>4}: {rates[size]:>9,.0f} messages/s ({receipts} receipts by then)")
    print(f"  window {window} / window 1: {rates[window] / rates[1]:.1f}x")


@contextmanager
def store(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/sms.db"
        return
    base = os.environ.get(
        "SANBUTING_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    schema = f"b_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def sender(backend: str, messages: int, window: int, rate: float, where: str) -> None:
    print(f"sender on {backend}: {messages} messages, the SMSC in a {where}, {load()}")
    rates = {}
    for size in (1, window):
        with store(backend) as url, Server(where) as smsc:
            upgrade(url)
            engine = make_engine(url)
            now = datetime.now(UTC)
            with Session(engine) as session, session.begin():
                session.execute(
                    text(
                        "INSERT INTO companies (id, code, name, utility, ruleset) "
                        "VALUES (1, 'power', '电网', 'power', 'cn-power-1996')"
                    )
                )
                for n in range(messages):
                    enqueue(
                        session,
                        company_id=1,
                        key=f"bench/{n}",
                        phone=f"86138{n:08d}",
                        text=TEXT.format(n=n),
                        category="essential",
                        now=now,
                    )
            gateway_config = config(smsc.port, size, rate)

            def make(receipts: OnReceipt, settings: GatewayConfig = gateway_config) -> Transport:
                return SmppGateway(settings, receipts)

            run = Sender(engine, make, window=size)
            started = time.perf_counter()
            report = asyncio.run(run.run(stop_when_idle=True))
            took = time.perf_counter() - started
            engine.dispose()
            assert report.sent == messages == smsc.logged(), report
        rates[size] = messages / took
        print(
            f"  window {size:>4}: {rates[size]:>9,.0f} messages/s "
            f"(sent {report.sent}, delivered {report.delivered} by the end)"
        )
    print(f"  window {window} / window 1: {rates[window] / rates[1]:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["gateway", "sender"])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100_000.0)
    parser.add_argument("--smsc", choices=["process", "thread"], default="process")
    parser.add_argument(
        "--keep-nagle", action="store_true", help="Leave TCP_NODELAY off, as smpp34 does."
    )
    options = parser.parse_args()
    NODELAY[0] = not options.keep_nagle
    if options.what == "gateway":
        gateway(options.messages, options.window, options.rate, options.smsc)
    else:
        sender(options.backend, options.messages, options.window, options.rate, options.smsc)


if __name__ == "__main__":
    main()
