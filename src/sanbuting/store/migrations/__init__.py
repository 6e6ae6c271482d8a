"""The store's Alembic migrations, run from code: `upgrade(url)` to head, `downgrade(url)`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def config(url: str) -> Config:
    settings = Config()
    settings.set_main_option("script_location", str(HERE))
    settings.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return settings


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(config(url), revision)
