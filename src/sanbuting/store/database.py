"""The database: its URL (`SANBUTING_DATABASE_URL`, SQLite `sanbuting.db` by default), an
engine with the settings each backend needs, and sessions."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///sanbuting.db"


def database_url() -> str:
    return os.environ.get("SANBUTING_DATABASE_URL", DEFAULT_URL)


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url`. SQLite gets foreign keys on, WAL, a busy timeout, and transactions
    that take the write lock when they begin (`BEGIN IMMEDIATE`): SQLite has one writer, and a
    transaction that read first and writes later could otherwise fail at once instead of
    waiting its turn. PostgreSQL needs none of this (the services lock the rows they change)."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: object) -> None:
            connection.isolation_level = None  # the driver's own BEGIN off: ours below
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


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
