"""Latency of the online channel (issue 6) under a local open-loop load: the bill page and
payment posting, at fixed arrival rates, against an unloaded baseline taken first in the same
process.

The script builds the demo store (`jobs.demo.seed_demo` over `sanbuting generate --accounts N
--seed 2021` data, 2020 epidemic policies, the daily run through the business day; SQLite under
--work, cached; or PostgreSQL in a schema of its own with --database-url; or an existing store
with --store), serves it with uvicorn in a subprocess on 127.0.0.1 (the application of
`create_app`, its clock pinned to the business day at the real time of day as `sanbuting serve
--today` does; one worker, or --workers N), signs in --customers customers through the API (the
code read from the outbox's `sms` rows, as the demo SMS inbox does), binds each to a postpaid
account with bills (the holder's name and the proof binding asks, the amount of the latest bill
as of the business day, `customers.service.proof_fen`, both read from the store), makes one
bank channel credential for each company of the store (`payments.channels.add_credential`,
written to the served store, its key kept for the run), then drives each target at each rate:

    page   GET /accounts/{id}                the portal's account page (HTML, session cookie)
    bills  GET /api/v1/accounts/{id}/bills   the API's bills (the customer's bearer token)
    pay    POST /api/v1/accounts/{id}/payments   1 yuan, a new Idempotency-Key each time, as
           the bank channel of the account's company (its `sbt_ch_` key as bearer token:
           customers may not post payments)

The server runs with the sign-in limits lifted (`SANBUTING_SIGN_INS_PER_MINUTE`,
`SANBUTING_CODES_PER_IP_HOUR`, `SANBUTING_CODES_PER_PREFIX_HOUR`, `SANBUTING_CODES_PER_MINUTE`):
every customer asks for a code from 127.0.0.1, to numbers of one prefix, within a minute or
two, which the production limits refuse. Nothing else about the application is changed.

Open loop: request i is due at start + i / rate whatever happened to the ones before it, and its
latency runs from when it was due to its last byte (time waiting in the client for a connection
counts), so a server that falls behind shows as growing latency, not as a lower offered rate.
Every number is printed with the load averages of the machine and the CPU the client and the
server used: on a busy machine the client competes with the server, and numbers taken under
load overstate latency.

    .venv/bin/python benchmarks/web_load.py                      # SQLite, 1 worker
    .venv/bin/python benchmarks/web_load.py --rates 100,200,400 --seconds 25 --targets page,pay
    .venv/bin/python benchmarks/web_load.py --workers 2
    .venv/bin/python benchmarks/web_load.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

No timed assertions anywhere: the script prints rates, percentiles and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Protocol

import httpx
from anyio import to_thread
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from sanbuting.customers.service import proof_fen
from sanbuting.domain import parse_date
from sanbuting.generate import GenerateRequest, generate
from sanbuting.jobs.demo import seed_demo
from sanbuting.payments.channels import add_credential
from sanbuting.settings import Settings
from sanbuting.sms.queue import SmsMessage
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Bill, Company
from sanbuting.store.web_models import Holder
from sanbuting.web import deps
from sanbuting.web.app import create_app
from sanbuting.web.serving import business_clock

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
START = date(2020, 1, 1)
SCHEMA = "web_load"
TODAY_ENV = "WEB_LOAD_TODAY"
THREADS_ENV = "WEB_LOAD_THREADS"
IN_FLIGHT_ENV = "WEB_LOAD_IN_FLIGHT"
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
TARGETS = ("page", "bills", "pay")
PAYMENT_FEN = 100
CHANNEL_MAX_FEN = 1_000_000
"""The benchmark's bank channels post at most 10,000 yuan at once (it posts 1 yuan)."""
LIFTED = "100000"
"""The sign-in code budgets (per address, per number prefix, per minute) while serving."""
TICK = os.sysconf("SC_CLK_TCK")
IDLE_REUSE = 2.0
"""Seconds a keep-alive connection may idle and still be used again."""


# ---- the server side (imported by uvicorn in the subprocess) ---------------------------------


class InFlight:
    """At most `limit` requests inside the application at once; the others wait their turn in
    the event loop (no thread, no connection held). Not part of sanbuting: a deployment-side
    wrapper this benchmark can put around it (--in-flight) to compare."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit
        self.gate: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.gate is None:
            self.gate = asyncio.Semaphore(self.limit)
        async with self.gate:
            await self.app(scope, receive, send)


def server_app() -> ASGIApp:
    """The application uvicorn serves (`--factory web_load:server_app`): settings from the
    `SANBUTING_*` environment, the clock on the business day in `WEB_LOAD_TODAY`; with
    `WEB_LOAD_THREADS`, that many threads for synchronous handlers and dependencies (AnyIO's
    default is 40); with `WEB_LOAD_IN_FLIGHT`, wrapped in `InFlight`."""
    app = create_app(Settings())
    app.dependency_overrides[deps.now] = business_clock(parse_date(os.environ[TODAY_ENV]))
    threads = int(os.environ.get(THREADS_ENV) or 0)
    if threads:

        @asynccontextmanager
        async def lifespan(_app: object) -> AsyncIterator[None]:
            to_thread.current_default_thread_limiter().total_tokens = threads
            yield

        app.router.lifespan_context = lifespan
    in_flight = int(os.environ.get(IN_FLIGHT_ENV) or 0)
    return InFlight(app, in_flight) if in_flight else app


# ---- the store -------------------------------------------------------------------------------


def load() -> str:
    """The machine's load averages, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


@contextmanager
def demo_store(args: argparse.Namespace) -> Iterator[str]:
    """The URL of the store to serve (built unless --store), dropped afterwards if it was a
    PostgreSQL schema made here (unless --keep)."""
    if args.store:
        yield str(args.store)
        return
    work = Path(args.work)
    data = work / f"g{args.accounts}-seed{args.seed}"
    if not (data / "usage.csv").exists():
        began = time.perf_counter()
        generate(GenerateRequest(accounts=args.accounts, out=data, seed=args.seed))
        print(f"generated {args.accounts:,} accounts in {time.perf_counter() - began:.1f} s")
    if args.database_url is None:
        built = work / f"web-{args.accounts}-seed{args.seed}-{args.today}.db"
        done = built.with_name(built.name + ".done")
        if not done.exists():
            for leftover in sqlite_files(built):
                leftover.unlink(missing_ok=True)
            seed(f"sqlite:///{built}", data, args, work)
            done.touch()
        path = work / "web-load-run.db"  # payments change the store: each run on a fresh copy
        for leftover in sqlite_files(path):
            leftover.unlink(missing_ok=True)
        for source, copy in zip(sqlite_files(built), sqlite_files(path), strict=True):
            if source.exists():
                shutil.copyfile(source, copy)
        print(f"serving a copy of {built}")
        yield f"sqlite:///{path}"
        return
    admin = create_engine(args.database_url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    separator = "&" if "?" in args.database_url else "?"
    url = f"{args.database_url}{separator}options=-csearch_path%3D{SCHEMA}"
    try:
        seed(url, data, args, work)
        yield url
    finally:
        if not args.keep:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


def sqlite_files(path: Path) -> tuple[Path, Path, Path]:
    """A SQLite database file and its WAL and shared-memory files."""
    return (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


def seed(url: str, data: Path, args: argparse.Namespace, work: Path) -> None:
    began = time.perf_counter()
    seed_demo(
        url=url,
        data=data,
        policies=POLICIES,
        start=START,
        through=parse_date(args.today),
        rejects=work / "web-load-rejects.csv",
    )
    print(f"built the demo store in {time.perf_counter() - began:.1f} s ({load()})")


@dataclass(frozen=True)
class ToBind:
    """An account a customer binds, and what binding asks."""

    company_id: int
    region: str
    account_id: str
    holder: str
    last_bill_fen: int


def accounts_to_bind(engine: Engine, count: int, rng: random.Random, today: date) -> list[ToBind]:
    """`count` postpaid accounts with bills, with the proof binding asks on `today` (the
    amount of the latest bill issued by then)."""
    with sessions(engine)() as session:
        rows = session.execute(
            select(Account, Holder.name)
            .join(Holder, Holder.account == Account.id)
            .where(Account.billing_mode == "postpaid")
            .where(select(Bill.id).where(Bill.account == Account.id).exists())
            .order_by(Account.id)
        ).all()
        numbers = session.execute(
            select(Account.account_id).group_by(Account.account_id).having(func.count() > 1)
        ).all()
        shared = {n for (n,) in numbers}  # a number two utilities use: keep to unambiguous ones
        found = [(a, h) for a, h in rows if a.account_id not in shared]
        picked: list[ToBind] = []
        for account, holder in rng.sample(found, len(found)):
            if len(picked) == count:
                break
            proof = proof_fen(session=session, account=account, on=today)
            if proof is not None and proof > 0:  # a bill issued by today, above 0 (the API's Fen)
                picked.append(
                    ToBind(account.company_id, account.region, account.account_id, holder, proof)
                )
    if len(picked) < count:
        raise SystemExit(f"only {len(picked)} postpaid accounts with bills: lower --customers")
    return picked


def channel_keys(engine: Engine) -> dict[int, str]:
    """A new bank channel credential for each company of the store: its API key by company
    id (keys are seen only when made, so each run makes its own, under a name of its own)."""
    run = secrets.token_hex(4)
    keys: dict[int, str] = {}
    with sessions(engine).begin() as session:
        for company in session.scalars(select(Company).order_by(Company.id)):
            _, key = add_credential(
                session=session,
                company=company,
                name=f"web-load-{run}-{company.id}",
                kind="bank",
                channels=["bank"],
                max_amount_fen=CHANNEL_MAX_FEN,
                now=datetime.now(tz=UTC),
            )
            keys[company.id] = key
    return keys


# ---- the server process ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(url: str, args: argparse.Namespace, log: Path) -> Iterator[tuple[str, int]]:
    """uvicorn serving the store at `url`; yields its base URL and process id."""
    port = free_port()
    env = {
        **os.environ,
        "SANBUTING_DATABASE_URL": url,
        "SANBUTING_SECRET_KEY": secrets.token_hex(32),  # one secret for every worker
        # every customer signs in from 127.0.0.1, to numbers of one prefix, within minutes:
        "SANBUTING_SIGN_INS_PER_MINUTE": "10000",
        "SANBUTING_CODES_PER_IP_HOUR": LIFTED,
        "SANBUTING_CODES_PER_PREFIX_HOUR": LIFTED,
        "SANBUTING_CODES_PER_MINUTE": LIFTED,
        TODAY_ENV: args.today,
        THREADS_ENV: str(args.threads or ""),
        IN_FLIGHT_ENV: str(args.in_flight or ""),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "web_load:server_app",
        "--app-dir",
        str(Path(__file__).parent),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "--no-access-log",
        "--http",
        "sanbuting.web.serving:NoDelayH11Protocol",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # uvicorn and its workers, not uvicorn alone
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a worker still stuck in a request
        process.wait()


def postgres_cpu_seconds() -> float:
    """CPU seconds (user + system, with exited children's) of every PostgreSQL process on the
    machine: the database's share of a run when the server is local (0 when there is none)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = text.split("(", 1)[1].rsplit(")", 1)
        if name.startswith("postgres"):
            fields = rest.split()
            total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` and its children (uvicorn's workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
        todo.extend(children.get(current, []))
    return total


# ---- signing in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    phone: str
    token: str
    account_id: str
    channel_key: str
    """The API key of the bank channel of the account's company (payments)."""


def sign_in(
    client: httpx.Client, engine: Engine, phone: str, bind: ToBind, channel_key: str
) -> Customer:
    """Ask for a code, read it from the SMS queue, trade it for a token, bind the account."""
    sent = client.post("/api/v1/auth/code", json={"phone": phone})
    sent.raise_for_status()
    with engine.connect() as connection:
        text = connection.scalar(
            select(SmsMessage.text)
            .where(SmsMessage.phone == phone, SmsMessage.category == "sign_in")
            .order_by(SmsMessage.id.desc())
            .limit(1)
        )
    assert text is not None, f"no sign-in SMS to {phone} in the SMS queue"
    found = CODE.search(str(text))
    assert found is not None
    verified = client.post("/api/v1/auth/verify", json={"phone": phone, "code": found.group(0)})
    verified.raise_for_status()
    token = str(verified.json()["token"])
    bound = client.post(
        "/api/v1/me/accounts",
        json={
            "region": bind.region,
            "account_id": bind.account_id,
            "holder_name": bind.holder,
            "last_bill_fen": bind.last_bill_fen,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    bound.raise_for_status()
    return Customer(phone, token, bind.account_id, channel_key)


def sign_in_all(base: str, url: str, count: int, rng: random.Random, today: date) -> list[Customer]:
    engine = make_engine(url)
    try:
        binds = accounts_to_bind(engine, count, rng, today)
        keys = channel_keys(engine)
        prefix = secrets.randbelow(100_000)  # phones new to the store: codes per phone are limited
        phones = [f"13{prefix:05d}{n:04d}" for n in range(count)]
        with httpx.Client(base_url=base, timeout=60) as client, ThreadPoolExecutor(4) as pool:
            one = lambda n: sign_in(  # noqa: E731
                client, engine, phones[n], binds[n], keys[binds[n].company_id]
            )
            return list(pool.map(one, range(count)))
    finally:
        engine.dispose()


# ---- the load --------------------------------------------------------------------------------


@dataclass
class Run:
    target: str
    rate: float
    """Requests a second offered (0: one at a time, the baseline)."""
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds, of the answers that succeeded (2xx)."""
    errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    window: float = 0.0
    """Seconds from the first request due to the last one sent."""
    drain: float = 0.0
    """Seconds after the client's last answer until the server answered /healthz promptly."""
    lag: float = 0.0
    """How late the client sent its latest request (a busy client sends late)."""
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    """PostgreSQL's CPU seconds meanwhile (0 on SQLite: it runs inside the server)."""
    load_before: str = ""
    load_after: str = ""
    log_lines: Counter[str] = field(default_factory=Counter)


def quantile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` quantile of sorted `values`."""
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


@dataclass(frozen=True)
class Ask:
    """One HTTP request to send."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


def asks_for(target: str, customer: Customer) -> Callable[[], Ask]:
    """The requests of `target` for `customer` (a payment gets a new key each time)."""
    account = customer.account_id
    bearer = {"Authorization": f"Bearer {customer.token}"}
    if target == "page":  # as a returning browser: the session and CSRF cookies
        cookie = {"Cookie": f"sbt_session={customer.token}; sbt_csrf=web-load-{customer.phone}"}
        page = Ask("GET", f"/accounts/{account}", cookie)
        return lambda: page
    if target == "bills":
        bills = Ask("GET", f"/api/v1/accounts/{account}/bills", bearer)
        return lambda: bills
    body = json.dumps({"amount_fen": PAYMENT_FEN}).encode()
    channel = {"Authorization": f"Bearer {customer.channel_key}"}  # customers may not post
    headers = {**channel, "Content-Type": "application/json"}
    return lambda: Ask(
        "POST",
        f"/api/v1/accounts/{account}/payments",
        {**headers, "Idempotency-Key": f"load-{uuid.uuid4().hex}"},
        body,
    )


class Client(Protocol):
    async def send(self, ask: Ask) -> int:
        """The status of the answer to `ask`, read to its last byte."""
        ...

    async def aclose(self) -> None: ...


class RawClient:
    """A minimal HTTP/1.1 client over keep-alive connections (at most `connections`): a small
    fraction of httpx's CPU a request, so that the client stays out of the server's way."""

    def __init__(self, base: str, connections: int) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        """Newest last, with the time each was last used."""
        self.slots = asyncio.Semaphore(connections)

    async def send(self, ask: Ask) -> int:
        async with self.slots:
            if self.idle and self.idle[-1][2] < time.monotonic() - IDLE_REUSE:
                await self.aclose()  # uvicorn closes keep-alive connections idle for 5 s
            if self.idle:
                reader, writer, _ = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            kept = False
            try:
                status, kept = await self.exchange(reader, writer, ask)
                return status
            finally:
                if kept:
                    self.idle.append((reader, writer, time.monotonic()))
                else:  # closed by the server, failed or cancelled (past its deadline)
                    writer.close()

    async def exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ask: Ask
    ) -> tuple[int, bool]:
        lines = [f"{ask.method} {ask.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in ask.headers.items()]
        if ask.method != "GET":
            lines.append(f"Content-Length: {len(ask.body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + ask.body)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")  # the end (no trailers are sent)
        return status, headers.get("connection", "").lower() != "close"

    async def aclose(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


class HttpxClient:
    """httpx.AsyncClient, to check the raw client against (more CPU a request)."""

    def __init__(self, base: str, connections: int) -> None:
        self.client = httpx.AsyncClient(
            base_url=base,
            timeout=None,  # the deadline is ours (asyncio.wait_for)
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keep none
        )

    async def send(self, ask: Ask) -> int:
        answer = await self.client.request(
            ask.method, ask.path, headers=ask.headers, content=ask.body or None
        )
        return answer.status_code

    async def aclose(self) -> None:
        await self.client.aclose()


def client_for(kind: str, base: str, connections: int) -> Client:
    return RawClient(base, connections) if kind == "raw" else HttpxClient(base, connections)


async def one(client: Client, ask: Ask, due: float, timeout: float, run: Run) -> None:
    """Send `ask` and record its latency from `due` (or why it failed)."""
    try:
        status = await asyncio.wait_for(client.send(ask), timeout)
    except TimeoutError:
        run.errors[f"timeout {timeout:g} s"] += 1
        return
    except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as exc:
        run.errors[type(exc).__name__] += 1
        return
    if 200 <= status < 300:
        run.latencies.append(time.perf_counter() - due)
    else:
        run.errors[f"HTTP {status}"] += 1


async def drive(
    base: str, run: Run, customers: Sequence[Customer], args: argparse.Namespace
) -> None:
    """Send `run.rate` requests a second for `args.seconds` (open loop), customers in turn."""
    asks = [asks_for(run.target, c) for c in customers]
    total = round(run.rate * args.seconds)
    client = client_for(args.client, base, args.connections)
    try:
        tasks: set[asyncio.Task[None]] = set()
        began = time.perf_counter() + 0.05
        for i in range(total):
            due = began + i / run.rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                run.lag = max(run.lag, -wait)
            ask = asks[i % len(asks)]()
            task = asyncio.create_task(one(client, ask, due, args.timeout, run))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            run.sent += 1
        run.window = time.perf_counter() - began
        await asyncio.gather(*tasks)
        run.seconds = time.perf_counter() - began
    finally:
        await client.aclose()


async def baseline(
    base: str, run: Run, customers: Sequence[Customer], args: argparse.Namespace
) -> None:
    """`args.baseline` requests one after the other (after 5 to warm up), on one connection."""
    client = client_for(args.client, base, 1)
    try:
        for n in range(args.baseline + 5):
            ask = asks_for(run.target, customers[n % len(customers)])()
            if n < 5:
                await client.send(ask)
                continue
            await one(client, ask, time.perf_counter(), 60, run)
            run.sent += 1
        run.seconds = run.window = sum(run.latencies)
    finally:
        await client.aclose()


def log_counts(log: Path, start: int) -> tuple[Counter[str], int]:
    """Lines of interest the server logged since byte `start`, and the new end."""
    content = log.read_bytes()
    counts: Counter[str] = Counter()
    for line in content[start:].decode(errors="replace").splitlines():
        for what in ("database is locked", "QueuePool limit", "Traceback", "ERROR"):
            if what in line:
                counts[what] += 1
    return counts, len(content)


def settle(base: str, quiet: float, token: str) -> None:
    """Wait (at most 3 minutes) until the server answers a request that reads the store (GET
    /api/v1/me/accounts) with success twice in a row within `quiet` seconds: what it had
    queued has drained and the store is not locked."""
    deadline, prompt = time.monotonic() + 180, 0
    while time.monotonic() < deadline and prompt < 2:
        began = time.perf_counter()
        try:
            answer = httpx.get(
                f"{base}/api/v1/me/accounts",
                headers={"Authorization": f"Bearer {token}"},
                timeout=90,
            )
        except httpx.HTTPError:
            prompt = 0
            time.sleep(1)
            continue
        fast = answer.status_code == 200 and time.perf_counter() - began < quiet
        prompt = prompt + 1 if fast else 0
        time.sleep(0.2 if prompt else 1)


def measured(
    base: str,
    pid: int,
    log: Path,
    offset: int,
    action: Callable[[], None],
    run: Run,
    quiet: float,
    token: str,
) -> int:
    """Run `action`, then wait for the server to drain what it still had queued; the CPU the
    client and the server used, the load, and what the server logged meanwhile."""
    run.load_before = load()
    client0, server0 = time.process_time(), tree_cpu_seconds(pid)
    database0 = postgres_cpu_seconds()
    action()
    run.client_cpu = time.process_time() - client0
    run.load_after = load()
    began = time.perf_counter()
    settle(base, quiet, token)
    run.drain = time.perf_counter() - began
    run.server_cpu = tree_cpu_seconds(pid) - server0
    run.database_cpu = postgres_cpu_seconds() - database0
    run.log_lines, offset = log_counts(log, offset)
    return offset


def overloaded(run: Run) -> bool:
    """Fewer than 90% of the requests sent answered with success (failed or timed out)."""
    return len(run.latencies) < 0.9 * run.sent


# ---- reporting -------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def report(run: Run, base_p50: float | None) -> str:
    values = sorted(run.latencies)
    ok = len(values)
    if run.rate == 0:
        head = f"{run.target:<6} baseline   {ok:>5} one at a time"
    else:
        head = (
            f"{run.target:<6} {run.rate:>5g}/s   sent {run.sent / run.window:6.1f}/s "
            f"ok {ok / run.seconds:6.1f}/s"
        )
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(run.errors.items())) or "none"
    logged = ", ".join(f"{k}: {v}" for k, v in sorted(run.log_lines.items()))
    wall = max(run.seconds, 1e-9)
    if values:
        p50 = quantile(values, 0.5)
        ratio = f" x{p50 / base_p50:,.1f}" if base_p50 and run.rate else ""
        latency = (
            f"p50 {ms(p50)} ms{ratio}  p90 {ms(quantile(values, 0.9))}  "
            f"p99 {ms(quantile(values, 0.99))}  max {ms(values[-1])} ms"
        )
    else:
        latency = "no successful answer"
    return (
        f"{head}  {latency}  errors {errors}"
        + (f"  [server log: {logged}]" if logged else "")
        + f"\n{'':8}client CPU {run.client_cpu / wall:4.0%} of a core "
        f"({run.client_cpu / max(run.sent, 1) * 1000:.2f} ms a request), server CPU "
        f"{run.server_cpu / (wall + run.drain):4.0%} ({run.server_cpu / max(ok, 1) * 1000:.1f} "
        f"ms an answer; drained in {run.drain:.1f} s), latest send {ms(run.lag)} ms late; "
        f"{run.load_before} -> {run.load_after}" + capacity(run, ok)
    )


def capacity(run: Run, ok: int) -> str:
    """The answers a second this machine's cores could give at most, from the CPU one answer
    cost the server, the database and the client: the bound no tuning of the queue moves."""
    if ok == 0:
        return ""
    spent = (run.server_cpu + run.database_cpu + run.client_cpu) / ok
    database = f" + database {run.database_cpu / ok * 1000:.1f} ms" if run.database_cpu > 0 else ""
    return (
        f"\n{'':8}CPU an answer: server {run.server_cpu / ok * 1000:.1f} ms{database} + client "
        f"{run.client_cpu / ok * 1000:.1f} ms = {spent * 1000:.1f} ms: at most "
        f"{(os.cpu_count() or 1) / spent:,.0f} answers/s on {os.cpu_count()} cores"
    )


# ---- main ------------------------------------------------------------------------------------


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts generated")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--today", default="2020-03-10", help="the business day served")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".data")
    parser.add_argument("--store", help="serve this existing demo store (a URL) instead")
    parser.add_argument("--database-url", help=f"PostgreSQL: build the store in schema {SCHEMA}")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads for sync handlers (default: AnyIO's 40)"
    )
    parser.add_argument(
        "--in-flight", type=int, default=0, help="wrap the app: at most N requests inside it"
    )
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--targets", default="page,bills,pay", help=f"of {', '.join(TARGETS)}")
    parser.add_argument("--rates", default="100,200,400", help="requests a second")
    parser.add_argument("--seconds", type=float, default=25.0, help="each rate lasts")
    parser.add_argument("--baseline", type=int, default=40, help="requests one at a time")
    parser.add_argument("--timeout", type=float, default=10.0, help="a request's deadline (s)")
    parser.add_argument("--connections", type=int, default=200, help="the client's at most")
    parser.add_argument(
        "--all-rates", action="store_true", help="go on after a rate fails 10%% of requests"
    )
    parser.add_argument(
        "--client", choices=("raw", "httpx"), default="raw", help="the load's HTTP client"
    )
    args = parser.parse_args()
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}")
    return args


def main() -> None:
    args = parse()
    targets = args.targets.split(",")
    rates = [float(r) for r in args.rates.split(",") if r]
    rng = random.Random(args.seed)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    log = Path(args.work) / f"web-load-server-{os.getpid()}.log"  # one per run: a server left
    # over from an earlier run must not write into this one's log
    print(f"web_load: {' '.join(sys.argv[1:]) or '(defaults)'}; {load()}", flush=True)
    with demo_store(args) as url:
        backend = url.split(":", 1)[0]
        with server(url, args, log) as (base, pid):
            began = time.perf_counter()
            customers = sign_in_all(base, url, args.customers, rng, parse_date(args.today))
            print(
                f"{backend}, {args.workers} uvicorn worker(s): signed in and bound "
                f"{len(customers)} customers in {time.perf_counter() - began:.1f} s",
                flush=True,
            )
            offset = log_counts(log, 0)[1]
            base_p50: dict[str, float] = {}
            for target in targets:
                run = Run(target, 0)
                action = lambda run=run: asyncio.run(  # noqa: E731
                    baseline(base, run, customers, args)
                )
                offset = measured(base, pid, log, offset, action, run, 1.0, customers[0].token)
                base_p50[target] = quantile(sorted(run.latencies), 0.5) if run.latencies else 0
                print(report(run, None), flush=True)
            quiet = max(0.2, 5 * min(base_p50.values()))
            for target in targets:
                for rate in rates:
                    run = Run(target, rate)
                    action = lambda run=run: asyncio.run(drive(base, run, customers, args))  # noqa: E731
                    offset = measured(
                        base, pid, log, offset, action, run, quiet, customers[0].token
                    )
                    print(report(run, base_p50[target]), flush=True)
                    if overloaded(run) and not args.all_rates:
                        print(f"{target:<6} higher rates skipped: overloaded at {rate:g}/s")
                        break


if __name__ == "__main__":
    main()
