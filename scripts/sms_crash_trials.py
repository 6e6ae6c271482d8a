"""Crash trials of the SMS sink: SIGKILL the SMS sender at random moments in the middle of its
window and check that no message went twice and every message ended accounted for.

Each trial takes a fresh store (an SQLite file, or a PostgreSQL schema of its own), queues a
seeded mix of messages (short and long Chinese texts in several segments, plain ASCII codes,
every category), and starts the test SMSC (`tests/smsc.py`, in this process, answering each
submit after a seeded delay of a few milliseconds; a few keys are reported UNDELIV). Then a
sender (`sms_crash_trials.py worker`: `sms.sender.Sender` over the SMPP gateway) runs in a
child process and is killed with SIGKILL once the SMSC has logged a seeded number of submits
(plus a seeded pause within a window's time), or soon after it starts; it is restarted after
each kill, and a last sender runs to the end (until nothing is due, then waiting for the
receipts). Checked against the SMSC's log:

- every segment of every key at most once on the log (never sent twice);
- every row `delivered`, `failed` (only the keys the SMSC reports undelivered), `sent` (its
  receipt went to a session that was killed: the test SMSC does not keep receipts for the
  next bind) or `unknown`;
- a row `sent`, `delivered` or `failed` has all its segments on the log, under the id the
  first segment got; a key on the log that is none of these is `unknown`; the `unknown` rows
  are at most a window a kill (the rows a sender had claimed when it died);
- nothing left `queued` or `sending`.

    python scripts/sms_crash_trials.py --backend sqlite --trials 20 --seed 1
    python scripts/crash_trials.py --sms also ...   # after the store's trials (make crash)

Each trial prints one line: backend, number and seed, PASS or FAIL, the kills as
submits-logged-at-the-kill, the rows unknown, and the time it took; then what was violated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(ROOT / "tests"))

from crash_trials import fresh_database  # noqa: E402

from sanbuting.sms.encoding import segment_count  # noqa: E402
from sanbuting.sms.gateway import GatewayConfig, SmppGateway  # noqa: E402
from sanbuting.sms.queue import CATEGORIES, SmsMessage, enqueue  # noqa: E402
from sanbuting.sms.sender import Sender  # noqa: E402
from sanbuting.sms.transport import OnReceipt, Transport  # noqa: E402
from sanbuting.store.database import make_engine  # noqa: E402
from sanbuting.store.migrations import upgrade  # noqa: E402
from smsc import Received, Smsc, SmscThread  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
WINDOW = 8
LONG = (
    "尊敬的客户：受台风影响，您所在片区计划于明日停电检修，"
    "疫情期间欠费不停电，如需帮助请致电95598。"
)


@dataclass
class Trial:
    backend: str
    number: int
    seed: str
    kills: list[int] = field(default_factory=list)
    unknown: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        verdict = "PASS" if not self.problems else "FAIL"
        kills = " ".join(f"kill@{k}" for k in self.kills)
        return (
            f"{self.backend} #{self.number} seed {self.seed} {verdict} {kills} "
            f"unknown {self.unknown} {self.seconds:.1f}s"
        )


# -- the worker --------------------------------------------------------------------------------


def worker(argv: Sequence[str]) -> int:
    """The sender, forever, over the SMPP gateway to the SMSC on 127.0.0.1:`--port`."""
    parser = argparse.ArgumentParser(prog="sms_crash_trials.py worker")
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--window", type=int, default=WINDOW)
    options = parser.parse_args(argv)
    config = GatewayConfig(
        host="127.0.0.1",
        port=options.port,
        system_id="sanbuting",
        password="secret",
        source_addr="95598",
        window=options.window,
        rate=5000.0,
        connect_timeout=2.0,
        backoff=0.05,
        backoff_max=0.5,
    )

    def transport(receipts: OnReceipt) -> Transport:
        return SmppGateway(config, receipts)

    engine = make_engine(options.url)
    sender = Sender(engine, transport, window=options.window)
    asyncio.run(sender.run(stop_when_idle=False, poll=0.05))
    return 0


# -- a trial ---------------------------------------------------------------------------------


def fill(url: str, rng: random.Random, count: int) -> dict[str, str]:
    """Migrate the store and queue `count` seeded messages; their texts by key."""
    upgrade(url)
    engine = make_engine(url)
    texts: dict[str, str] = {}
    now = datetime.now(UTC)
    try:
        with Session(engine) as session, session.begin():
            session.execute(
                text(
                    "INSERT INTO companies (id, code, name, utility, ruleset) "
                    "VALUES (1, 'power', '电网', 'power', 'cn-power-1996')"
                )
            )
            for n in range(count):
                shape = rng.random()
                if shape < 0.2:
                    body = LONG * rng.randint(1, 3)
                elif shape < 0.4:
                    body = f"Your code is {rng.randint(0, 999_999):06d}"
                else:
                    body = f"您户号尾号{n:04d}的电费账单已出，请按时缴费。"
                key = f"trial/{n:04d}"
                texts[key] = body
                enqueue(
                    session,
                    company_id=1,
                    key=key,
                    phone=f"86138{n:08d}",
                    text=body,
                    category=rng.choice(CATEGORIES),
                    now=now,
                )
    finally:
        engine.dispose()
    return texts


def start_worker(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), "worker", "--url", url, "--port", str(port)],
            stdout=out,
            stderr=out,
        )


def run_trial(
    backend: str, number: int, seed: int, base_url: str | None, folder: Path, messages: int
) -> Trial:
    trial_seed = f"{seed}-{number}"
    rng = random.Random(trial_seed)
    trial = Trial(backend, number, trial_seed)
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "worker.log"
    with fresh_database(backend, folder, base_url, [False]) as url:
        texts = fill(url, rng, messages)
        undelivered = frozenset(rng.sample(sorted(texts), 3))
        smsc = Smsc(answer_delay=rng.uniform(0.001, 0.01), undelivered=undelivered)
        with SmscThread(smsc):
            total = sum(segment_count(body) for body in texts.values())
            for _ in range(rng.randint(1, 4)):
                child = start_worker(url, smsc.port, log)
                target = rng.randint(len(smsc.log), len(smsc.log) + total // 3)
                early = rng.random() < 0.2
                deadline = time.monotonic() + 60
                while not early and len(smsc.log) < target and child.poll() is None:
                    if time.monotonic() > deadline:
                        trial.problems.append(f"the sender did not reach {target} submits")
                        break
                    time.sleep(0.002)
                time.sleep(rng.uniform(0.0, 0.3 if early else 0.02))
                if child.poll() is None:
                    os.kill(child.pid, signal.SIGKILL)
                child.wait(30)
                if child.returncode != -signal.SIGKILL:
                    trial.problems.append(f"the sender ended by itself ({child.returncode})")
                trial.kills.append(len(smsc.log))
            engine = make_engine(url)
            try:

                def transport(receipts: OnReceipt) -> Transport:
                    config = GatewayConfig(
                        host="127.0.0.1",
                        port=smsc.port,
                        system_id="sanbuting",
                        password="secret",
                        source_addr="95598",
                        window=WINDOW,
                        rate=5000.0,
                    )
                    return SmppGateway(config, receipts)

                last = Sender(engine, transport, window=WINDOW)
                asyncio.run(last.run(stop_when_idle=True, receipt_wait=10.0))
                rows = stored(engine)
            finally:
                engine.dispose()
            received = list(smsc.log)
        trial.unknown = sum(1 for row in rows.values() if row[0] == "unknown")
        trial.problems += check(rows, received, texts, undelivered, len(trial.kills))
    trial.seconds = time.monotonic() - started
    return trial


def stored(engine: object) -> dict[str, tuple[str, str | None]]:
    """Each row's status and SMSC message id, by key."""
    with Session(engine) as session:  # type: ignore[call-overload]
        found = session.execute(
            select(SmsMessage.key, SmsMessage.status, SmsMessage.smsc_message_id)
        )
        return {key: (status, smsc_id) for key, status, smsc_id in found}


def check(
    rows: dict[str, tuple[str, str | None]],
    received: Sequence[Received],
    texts: dict[str, str],
    undelivered: frozenset[str],
    kills: int,
) -> list[str]:
    """What the trial violated (see the module)."""
    problems: list[str] = []
    segments = Counter((r.key, r.udh[2] if r.udh else 1) for r in received)
    twice = sorted(f"{key}#{index}" for (key, index), n in segments.items() if n > 1)
    if twice:
        problems.append(f"sent twice: {', '.join(twice[:5])}")
    on_log = {r.key for r in received}
    first_ids = {r.key: r.message_id for r in received if not r.udh or r.udh[2] == 1}
    statuses = Counter(status for status, _ in rows.values())
    if set(statuses) - {"sent", "delivered", "failed", "unknown"}:
        problems.append(f"rows not settled: {dict(statuses)}")
    if set(rows) != set(texts):
        problems.append("the rows are not the messages queued")
    for key, (status, smsc_id) in sorted(rows.items()):
        if status in ("sent", "delivered", "failed"):
            whole = all(segments[(key, i)] for i in range(1, segment_count(texts[key]) + 1))
            if not whole or smsc_id != first_ids.get(key):
                problems.append(f"{key} {status} but not on the log as sent ({smsc_id})")
            if status != "sent" and (status == "failed") != (key in undelivered):
                problems.append(f"{key} {status}, the SMSC said otherwise")
        elif key in on_log and status != "unknown":
            problems.append(f"{key} on the log but {status}")
    if statuses["unknown"] > WINDOW * kills:
        problems.append(f"{statuses['unknown']} unknown: more than a window a kill")
    return problems[:10]


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "worker":
        return worker(argv[1:])
    parser = argparse.ArgumentParser(prog="sms_crash_trials.py", description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="sqlite")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database-url", default=os.environ.get("SANBUTING_TEST_DATABASE_URL"))
    options = parser.parse_args(argv)
    return run(
        options.backend,
        options.trials,
        options.seed,
        options.first,
        options.messages,
        options.database_url,
    )


def run(
    backend: str, trials: int, seed: int, first: int, messages: int, base_url: str | None
) -> int:
    """Run the trials and print them; 1 if any failed."""
    backends = BACKENDS if backend == "both" else (backend,)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="sms-crash-") as temporary:
        for name in backends:
            passed = 0
            for number in range(first, first + trials):
                folder = Path(temporary) / f"{name}-{number}"
                trial = run_trial(name, number, seed, base_url, folder, messages)
                print(trial.line(), flush=True)
                for problem in trial.problems:
                    print(f"  {problem}", flush=True)
                passed += not trial.problems
                failed += bool(trial.problems)
            print(f"{name}: {passed}/{trials} SMS trials passed (seed {seed})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
