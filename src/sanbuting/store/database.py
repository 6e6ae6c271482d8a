"""The database: its URL (`SANBUTING_DATABASE_URL`, SQLite `sanbuting.db` by default), an
engine with the settings each backend needs, and sessions."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
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
