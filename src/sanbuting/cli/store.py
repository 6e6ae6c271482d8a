"""`sanbuting db …`: the store's database (SANBUTING_DATABASE_URL, SQLite by default)."""

from __future__ import annotations

import typer

from sanbuting.cli.app import app
from sanbuting.store.database import database_url
from sanbuting.store.migrations import upgrade

db = typer.Typer(
    help="The store's database (SANBUTING_DATABASE_URL; SQLite sanbuting.db by default).",
    no_args_is_help=True,
)
app.add_typer(db, name="db")


@db.command("init")
def init_command() -> None:
    """Create the store's tables, or bring them up to date (Alembic migrations to head)."""
    url = database_url()
    upgrade(url)
    shown = url.split("@")[-1] if "@" in url else url  # never print a password
    typer.echo(f"the store at {shown} is up to date")
