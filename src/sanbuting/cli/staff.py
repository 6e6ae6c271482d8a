"""`sanbuting staff add`: a member of staff of one company, with a role and a password (read
from a prompt, or from a file so that scripts never put it on a command line); `staff team`,
`staff join` and `staff teams`: the teams tickets are assigned to, their members and leads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from sanbuting.cli.app import app, fail
from sanbuting.errors import SanbutingError
from sanbuting.staff import teams as team_service
from sanbuting.staff.service import DEPLOYMENT_READERS, ROLES, add_staff
from sanbuting.store.companies import company_by_code
from sanbuting.store.database import database_url, make_engine, sessions
from sanbuting.store.web_models import Staff

staff_app = typer.Typer(help="Staff of the console (roles: " + ", ".join(ROLES) + ").")
app.add_typer(staff_app, name="staff")


@staff_app.command("add")
def add_command(
    username: Annotated[str, typer.Argument(help="The sign-in name (lowercase).")],
    company: Annotated[
        str,
        typer.Option(
            "--company",
            help="The company code, e.g. power (a deployment_regulator's: where its audit "
            "entries are kept; it reads every company).",
        ),
    ],
    role: Annotated[str, typer.Option("--role", help=", ".join(ROLES) + ".")],
    name: Annotated[str, typer.Option("--name", help="The person's name.")],
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="Read the password from the first line of this file (else you are asked).",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
) -> None:
    """Add a member of staff; the password is stored as an argon2 hash, never as text."""
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            found = company_by_code(session, company)
            member = add_staff(
                session=session,
                company=found,
                username=username,
                name=name,
                role=role,
                password=password,
            )
            shown = (member.username, member.role, found.code)
    except SanbutingError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"staff {shown[0]} added: {shown[1]} of {shown[2]}")
    if shown[1] in DEPLOYMENT_READERS:
        typer.echo(
            "  reads the figures of every company of the deployment (and nothing else); "
            f"{shown[2]} only keeps its audit entries"
        )


CompanyOption = Annotated[str, typer.Option("--company", help="The company code, e.g. power.")]


@staff_app.command("team")
def team_command(
    code: Annotated[str, typer.Argument(help="The team's code, e.g. repair-east.")],
    company: CompanyOption,
    name: Annotated[str, typer.Option("--name", help="The team's name, e.g. 城东抢修班.")],
) -> None:
    """Add a team of the company, which tickets can be assigned to."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            found = company_by_code(session, company)
            team = team_service.add_team(session=session, company=found, code=code, name=name)
            shown = (team.code, found.code)
    except SanbutingError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"team {shown[0]} added to {shown[1]}")


@staff_app.command("join")
def join_command(
    username: Annotated[str, typer.Argument(help="The member of staff (agent or supervisor).")],
    team: Annotated[str, typer.Option("--team", help="The team's code.")],
    lead: Annotated[bool, typer.Option("--lead", help="They lead the team.")] = False,
) -> None:
    """Put a member of staff in a team of their company (leaving any other), as a lead or not."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            wanted = username.strip().lower()
            member = session.scalar(select(Staff).where(Staff.username == wanted))
            if member is None:
                raise SanbutingError(f"no member of staff {wanted!r}: add them with staff add")
            found = team_service.team_by_code(
                session=session, company_id=member.company_id, code=team
            )
            team_service.join(session=session, team=found, member=member, lead=lead)
            shown = (member.username, found.code)
    except SanbutingError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"{shown[0]} is in team {shown[1]}" + (" and leads it" if lead else ""))


@staff_app.command("teams")
def teams_command(company: CompanyOption) -> None:
    """List the company's teams with their members (leads marked *)."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            found = company_by_code(session, company)
            lines = [
                f"{team.code}\t{team.name}\t"
                + " ".join(f"{m.username}{'*' if lead else ''}" for m, lead in members)
                for team, members in team_service.teams(session=session, company_id=found.id)
            ]
    except SanbutingError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(
        "\n".join(lines) if lines else f"{company} has no teams yet: add one with staff team"
    )
