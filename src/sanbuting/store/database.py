"""The database: its URL (`SANBUTING_DATABASE_URL`, SQLite `sanbuting.db` by default), an
engine with the settings each backend needs, and sessions."""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///sanbuting.db"


def database_url() -> str:
    return os.environ.get("SANBUTING_DATABASE_URL", DEFAULT_URL)


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url`; SQLite gets foreign keys on and a busy timeout, as PostgreSQL
    needs neither."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: object, _record: object) -> None:
            cursor = connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
