"""`sanbuting orders …`: a company's approval of its enforcement orders. With approval on, the
daily run writes notices, suspensions, cut-offs and terminations `held`; `orders release`
lets a day's held orders go to the dispatcher (audited), `orders held` lists them."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.domain import parse_date
from sanbuting.jobs.releases import held_days, release_day
from sanbuting.staff.service import audit
from sanbuting.store.companies import companies, company_by_code
from sanbuting.store.database import database_url, make_engine, sessions

orders_app = typer.Typer(
    help="Approval of enforcement orders: held until a supervisor releases them.",
    no_args_is_help=True,
)
app.add_typer(orders_app, name="orders")

CompanyOption = Annotated[
    str | None, typer.Option("--company", help="One company (default: every company).")
]


@orders_app.command("approval")
def approval_command(
    company: Annotated[str, typer.Option("--company", help="The company.")],
    on: Annotated[bool, typer.Option("--on/--off", help="Require approval, or not.")] = True,
) -> None:
    """Require (or stop requiring) a supervisor's release of the company's enforcement
    orders before they are sent."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            found = company_by_code(session, company)
            found.requires_approval = on
            audit(
                session=session,
                staff=None,
                actor=f"{getpass.getuser()} (command line)",
                company_id=found.id,
                action="require_approval" if on else "stop_requiring_approval",
                target=found.code,
                detail={},
                now=datetime.now(tz=UTC),
            )
    finally:
        engine.dispose()
    state = "now wait for a release" if on else "go out as decided"
    typer.echo(f"{company}: enforcement orders {state}")


@orders_app.command("held")
def held_command(company: CompanyOption = None) -> None:
    """The days with held orders, and how many of each action."""
    engine = make_engine(database_url())
    lines: list[str] = []
    try:
        with sessions(engine).begin() as session:
            listed = [company_by_code(session, company)] if company else companies(session)
            for member in listed:
                for held in held_days(session=session, company=member):
                    counts = ", ".join(f"{k} {v}" for k, v in sorted(held.counts.items()))
                    lines.append(f"{member.code} {held.day}: {held.total} held ({counts})")
    finally:
        engine.dispose()
    typer.echo("\n".join(lines) if lines else "no orders are held")


@orders_app.command("release")
def release_command(
    date: Annotated[str, typer.Option("--date", help="The day whose held orders go out.")],
    company: CompanyOption = None,
    by: Annotated[
        str | None, typer.Option(help="Who releases (default: the user running the command).")
    ] = None,
) -> None:
    """Release a day's held orders to the dispatcher (each is re-checked before it is sent);
    written in the company's audit log."""
    day = parse_date(date)
    who = f"{by or getpass.getuser()} (command line)"
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            listed = [company_by_code(session, company)] if company else companies(session)
            released = {
                member.code: release_day(
                    session=session, company=member, day=day, now=datetime.now(tz=UTC), actor=who
                )
                for member in listed
            }
    finally:
        engine.dispose()
    for code, count in released.items():
        typer.echo(f"{code} {day}: {count} orders released")
