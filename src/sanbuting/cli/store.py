"""`sanbuting db …`: the store's database (SANBUTING_DATABASE_URL, SQLite by default)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.domain import SHANGHAI, parse_date, read_utc
from sanbuting.ledger.service import rebook_all
from sanbuting.store.database import database_url, make_engine, refresh_statistics, sessions
from sanbuting.store.export import export_store
from sanbuting.store.importing import import_and_book
from sanbuting.store.migrations import upgrade
from sanbuting.store.policies import activate, active

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


policy = typer.Typer(help="Relief-policy sets in the store.", no_args_is_help=True)
app.add_typer(policy, name="policy")


@policy.command("activate")
def activate_command(
    file: Annotated[
        Path, typer.Argument(help="The relief-policy YAML file to activate.", dir_okay=False)
    ],
    by: Annotated[
        str | None,
        typer.Option(help="Who activates it (recorded; default: the user running the command)."),
    ] = None,
) -> None:
    """Check a policy file and make it the active set, as a new version with who and when;
    a file with any problem is refused whole and the active set stays as it was."""
    by = by or getpass.getuser()
    engine = make_engine(database_url())
    with sessions(engine).begin() as session:
        done = activate(session=session, path=file, by=by, at=datetime.now(tz=SHANGHAI))
    engine.dispose()
    typer.echo(
        f"policy version {done.version} active: {done.policies} policies from "
        f"{file.name} (sha256 {done.sha256[:12]}…), by {by}"
    )
    if done.postings:
        typer.echo(f"the ledger was booked again with it: {done.postings} postings")


@policy.command("show")
def show_command() -> None:
    """Print the active policy set's version, file, who activated it and when."""
    engine = make_engine(database_url())
    with sessions(engine).begin() as session:
        version, loaded = active(session=session)
    engine.dispose()
    if version is None:
        typer.echo("no policy set has been activated")
        return
    typer.echo(
        f"version {version.version}: {version.file_name}, {len(loaded)} policies, "
        f"activated by {version.activated_by} at "
        f"{read_utc(version.activated_at).astimezone(SHANGHAI).isoformat(timespec='seconds')}"
    )


@db.command("import")
def import_command(
    data: Annotated[
        Path, typer.Argument(help="The input folder (accounts, bills, payments, usage).")
    ],
    start: Annotated[
        str | None,
        typer.Option(
            help="The day the accounts' state and balance_fen are as of: the first day the "
            "daily run decides (needed on a company's first import)."
        ),
    ] = None,
    company: Annotated[
        str | None,
        typer.Option(help="Import into this company (default: one company per utility)."),
    ] = None,
    rejects: Annotated[
        Path, typer.Option(help="Where to write the rejected rows.", dir_okay=False)
    ] = Path("rejects.csv"),
    allow_rejects: Annotated[
        bool, typer.Option(help="Import the good rows even when some are rejected.")
    ] = False,
    book: Annotated[
        bool,
        typer.Option(
            help="Book the ledger of the imported accounts now (--no-book leaves it to "
            "`sanbuting db book`, for a very large first load)."
        ),
    ] = True,
) -> None:
    """Import the contract's input files into the store and book their ledger. Rows already
    stored alike are skipped (importing the same files again adds nothing); rejected rows go
    to --rejects, and then nothing is imported unless --allow-rejects."""
    outcome = import_and_book(
        data=data,
        start=parse_date(start) if start else None,
        company=company,
        by=getpass.getuser(),
        allow_rejects=allow_rejects,
        rejects_file=rejects,
        book=book,
    )
    typer.echo(outcome)
    if outcome.refused:
        raise typer.Exit(1)


@db.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="The output folder to write.", file_okay=False)],
) -> None:
    """Write the contract's output folder (actions, protections, late fees, states, summary)
    for everything the store has run."""
    engine = make_engine(database_url())
    summary = export_store(engine=engine, out=out)
    engine.dispose()
    period = summary["period"]
    typer.echo(f"wrote {out}: {period['start']} → {period['end']}, {summary['actions']}")


@db.command("book")
def book_command() -> None:
    """Book every account's ledger with the active policy set (after `db import --no-book`);
    what is booked already is left alone, what changed is corrected by reversal."""
    engine = make_engine(database_url())
    with sessions(engine).begin() as session:
        _, policies = active(session=session)
        added = rebook_all(session=session, policies=policies, now=datetime.now(tz=UTC))
    refresh_statistics(engine)
    engine.dispose()
    typer.echo(f"booked {added} ledger postings")
