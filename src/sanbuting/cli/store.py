"""`sanbuting db …`: the store's database (SANBUTING_DATABASE_URL, SQLite by default)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.domain import parse_date
from sanbuting.jobs.export import export_store
from sanbuting.jobs.importing import import_and_book
from sanbuting.ledger.service import rebook_company
from sanbuting.store.companies import companies
from sanbuting.store.database import database_url, make_engine, refresh_statistics, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.policy_versions import policies_for

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
    company_name: Annotated[
        str | None,
        typer.Option(
            help="The company's name, e.g. 国网湖北省电力有限公司 (with --company; shown in "
            "reports instead of its code)."
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            help="The company's corporate group, e.g. 国家电网 or 中国电信 (with --company; "
            "reports roll up by it)."
        ),
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
    encoding: Annotated[
        str,
        typer.Option(
            help="The text encoding of the CSV files: utf-8 (the default) or gbk / gb18030 "
            "(exports of billing systems that write it)."
        ),
    ] = "utf-8",
) -> None:
    """Import the contract's input files into the store and book their ledger. Rows already
    stored alike are skipped (importing the same files again adds nothing); rejected rows go
    to --rejects, and then nothing is imported unless --allow-rejects. Columns the contract
    does not have are named in a warning (stderr) and ignored. --company-name and --group
    name the --company (created by the import if new)."""
    outcome = import_and_book(
        data=data,
        start=parse_date(start) if start else None,
        company=company,
        by=getpass.getuser(),
        allow_rejects=allow_rejects,
        rejects_file=rejects,
        book=book,
        encoding=encoding,
        company_name=company_name,
        group=group,
    )
    for warning in outcome.imported.warnings:
        typer.echo(f"warning: {warning}", err=True)
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
    added = 0
    with sessions(engine).begin() as session:
        for company in companies(session):
            added += rebook_company(
                session=session,
                company=company,
                policies=policies_for(session=session, company_id=company.id),
                now=datetime.now(tz=UTC),
            )
    refresh_statistics(engine)
    engine.dispose()
    typer.echo(f"booked {added} ledger postings")
