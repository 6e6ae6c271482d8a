"""`sanbuting staff add`: a member of staff of one company, with a role and a password (read
from a prompt, or from a file so that scripts never put it on a command line)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app, fail
from sanbuting.errors import SanbutingError
from sanbuting.staff.service import ROLES, add_staff
from sanbuting.store.companies import company_by_code
from sanbuting.store.database import database_url, make_engine, sessions

staff_app = typer.Typer(help="Staff of the console (roles: " + ", ".join(ROLES) + ").")
app.add_typer(staff_app, name="staff")


@staff_app.command("add")
def add_command(
    username: Annotated[str, typer.Argument(help="The sign-in name (lowercase).")],
    company: Annotated[str, typer.Option("--company", help="The company code, e.g. power.")],
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
