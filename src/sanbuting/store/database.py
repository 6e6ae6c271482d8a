"""The database: its URL (`SANBUTING_DATABASE_URL`, SQLite `sanbuting.db` by default), an
engine with the settings each backend needs, and sessions."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///sanbuting.db"


def database_url() -> str:
    return os.environ.get("SANBUTING_DATABASE_URL", DEFAULT_URL)


def make_engine(url: str | None = None, connections: int | None = None) -> Engine:
    """An engine for `url`. SQLite gets foreign keys on, WAL, a busy timeout, and transactions
    that take the write lock when they begin (`BEGIN IMMEDIATE`): SQLite has one writer, and a
    transaction that read first and writes later could otherwise fail at once instead of
    waiting its turn. PostgreSQL needs none of this (the services lock the rows they change).
    `connections` sizes the pool (a server's threads); SQLAlchemy's default otherwise."""
    url = url or database_url()
    pool = _pool(url, connections)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool, begin="BEGIN IMMEDIATE", read_only=False)
    return create_engine(url, pool_pre_ping=True, **pool)


def _sqlite_engine(url: str, pool: dict[str, Any], *, begin: str, read_only: bool) -> Engine:
    """A SQLite engine: foreign keys on, WAL, a busy timeout; transactions begun with `begin`
    (the driver's own BEGIN off); with `read_only`, connections that refuse writes."""
    engine = create_engine(url, connect_args={"timeout": 60}, **pool)

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: object) -> None:
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


def _in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:")


def _pool(url: str, connections: int | None) -> dict[str, Any]:
    """A pool of `connections` (an in-memory SQLite database has one connection, no pool)."""
    if connections is None or _in_memory(url):
        return {}
    return {"pool_size": connections, "max_overflow": 0, "pool_timeout": 60}


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


WRITER = "sanbuting.writer"
"""`Session.info` key: on a read-only session, the sessions `write_aside` writes with."""
T = TypeVar("T")


def read_sessions(
    url: str, writer: sessionmaker[Session], connections: int | None = None
) -> sessionmaker[Session] | None:
    """Sessions for requests that only read, or None where the writer's serve as well.

    SQLite has one writer at a time, and `make_engine` begins every transaction by taking that
    lock (`BEGIN IMMEDIATE`), so a bill page would wait behind every payment. These sessions
    begin a plain deferred transaction instead, a consistent snapshot that in WAL mode neither
    waits for writers nor holds them up; the connection is `query_only`, so a write slipped
    into a read path fails at once in every test instead of under load. What such a request
    must write (a session's last-seen time, an audit entry, booking the ledger through today)
    goes through `write_aside`. PostgreSQL's readers never wait for writers: None."""
    if not url.startswith("sqlite") or _in_memory(url):
        return None  # (another connection to an in-memory database is another database)
    engine = _sqlite_engine(url, _pool(url, connections), begin="BEGIN", read_only=True)
    return sessionmaker(engine, expire_on_commit=False, info={WRITER: writer})


def write_aside(session: Session, work: Callable[[Session], T]) -> T:
    """Run `work` with a session that may write: `session` itself, or for a read-only session
    (`read_sessions`) a short write transaction of its own, committed before this returns;
    the read-only session's snapshot is ended, so that its next read sees what was written.
    Objects loaded by the read-only session must not be changed (it cannot flush): `work`
    writes through its own session."""
    writer: sessionmaker[Session] | None = session.info.get(WRITER)
    if writer is None:
        return work(session)
    with writer.begin() as side:
        result = work(side)
    session.commit()
    return result


BULK_TABLES = ("accounts", "bills", "payments", "usage", "postings", "ledger_lines")


def refresh_statistics(engine: Engine, tables: tuple[str, ...] = BULK_TABLES) -> None:
    """After a bulk load on PostgreSQL, `ANALYZE` the tables it filled: until autovacuum gets
    to them the planner believes they are empty and reads a whole table (the ledger's lines,
    say) for one account's rows. SQLite's planner needs no statistics for these lookups."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(f"ANALYZE {table}"))
