"""Alembic's environment: migrate the database at the configured URL (online only)."""

from __future__ import annotations

from alembic import context

from sanbuting.store import web_models  # noqa: F401  (its tables are part of the metadata)
from sanbuting.store.database import make_engine
from sanbuting.store.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
