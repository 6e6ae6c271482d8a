"""`sanbuting sms templates`, `sms reminders` and `sms hotline`: what the text messages say
(checking a folder of templates), the messages of a recorded day that no order carries, and a
company's hotline (docs/sms.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from sanbuting.cli.app import fail
from sanbuting.cli.sms import sms_app
from sanbuting.domain import parse_date
from sanbuting.sms.reminders import queue_day
from sanbuting.sms.templates import HERE, check, hotline_of
from sanbuting.store.companies import company_by_code
from sanbuting.store.database import database_url, make_engine, sessions
from sanbuting.store.models import Company
from sanbuting.store.runs import last_run_day

HOTLINE = r"^[0-9][0-9-]{2,19}$"


@sms_app.command("templates")
def templates_command(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="A folder with zh-CN.yaml and en.yaml (default: the shipped templates).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Check a set of SMS templates: every problem with its file and line."""
    chosen = folder or HERE
    problems = check(chosen)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"the templates in {chosen} are fine")


@sms_app.command("reminders")
def reminders_command(
    date: Annotated[str, typer.Option("--date", help="A recorded day, YYYY-MM-DD.")],
    company: Annotated[
        str | None, typer.Option(help="Only this company (default: every company).")
    ] = None,
) -> None:
    """Queue a recorded day's messages that no order carries: relief granted and ending,
    promises to pay and instalments falling due (`sanbuting daily` does it for each day it
    records; running a day again queues nothing twice)."""
    day = parse_date(date)
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            chosen = (
                [company_by_code(session, company)]
                if company
                else list(session.scalars(select(Company).order_by(Company.id)))
            )
            for one in chosen:
                last = last_run_day(session, one)
                if last is None or day > last:
                    raise fail(f"{one.code} has not recorded {day} yet: run `sanbuting daily`")
                done = queue_day(session=session, company=one, day=day, now=datetime.now(UTC))
                typer.echo(done.line())
    finally:
        engine.dispose()


@sms_app.command("hotline")
def hotline_command(
    company: Annotated[str, typer.Option(help="The company's code.")],
    number: Annotated[
        str | None,
        typer.Argument(help="Its customer hotline, e.g. 95598 or 027-85778577 (none: show it)."),
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Go back to its group's or utility's hotline.")
    ] = False,
) -> None:
    """Show or set the hotline a company's text messages name."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            found = company_by_code(session, company)
            if default:
                found.hotline = None
            elif number is not None:
                if not re.match(HOTLINE, number.strip()):
                    raise fail(f"{number!r} is not a phone number: digits and dashes, e.g. 95598")
                found.hotline = number.strip()
            typer.echo(f"{found.code}: {hotline_of(found)}")
    finally:
        engine.dispose()
