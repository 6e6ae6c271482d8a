"""Alembic's environment: migrate the database at the configured URL (online only)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sanbuting.store import sms_models, web_models  # noqa: F401  (tables of the metadata)
from sanbuting.store.database import make_engine
from sanbuting.store.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a table copied by a batch migration must not trip the foreign keys
            _foreign_keys(connection, on=False)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            _foreign_keys(connection, on=True)
    engine.dispose()


def _foreign_keys(connection: Connection, *, on: bool) -> None:
    """SQLite's foreign-key enforcement, switched outside any transaction (inside one the
    pragma does nothing), as SQLite's own procedure for changing a table says; switched back
    on, every reference is checked."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    if on:
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left broken references: {broken[:5]}")


run_migrations()
