"""`sanbuting policy …`: the relief-policy sets in the store, one per company and one for the
whole deployment (`store.policy_versions`, activated by `jobs.activation`). The command says
which: `--company C`, `--deployment`, or, without either, the only company there is (an empty
store: the deployment)."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from sanbuting.cli.app import app
from sanbuting.domain import SHANGHAI, read_utc
from sanbuting.errors import SanbutingError
from sanbuting.jobs.activation import activate, scope_name
from sanbuting.store.companies import companies, company_by_code
from sanbuting.store.database import database_url, make_engine, sessions
from sanbuting.store.models import Company, PolicyVersion
from sanbuting.store.policy_versions import in_force, latest_version, parsed

policy = typer.Typer(help="Relief-policy sets in the store.", no_args_is_help=True)
app.add_typer(policy, name="policy")

CompanyOption = Annotated[
    str | None, typer.Option("--company", help="The company whose own set this is.")
]
DeploymentOption = Annotated[
    bool,
    typer.Option(
        "--deployment",
        help="The deployment-wide set (a government's or regulator's announcement), which "
        "covers every company.",
    ),
]


def chosen_scope(session: Session, company: str | None, deployment: bool) -> Company | None:
    """The company named, None for the deployment, or the only company (see the module)."""
    if company is not None and deployment:
        raise SanbutingError("give --company or --deployment, not both")
    if deployment:
        return None
    if company is not None:
        return company_by_code(session, company)
    listed = companies(session)
    if len(listed) == 1:
        return listed[0]
    if not listed:
        return None
    codes = ", ".join(c.code for c in listed)
    raise SanbutingError(
        f"the store has several companies ({codes}): name one with --company, or use "
        "--deployment for a set that covers them all"
    )


@policy.command("activate")
def activate_command(
    file: Annotated[
        Path, typer.Argument(help="The relief-policy YAML file to activate.", dir_okay=False)
    ],
    company: CompanyOption = None,
    deployment: DeploymentOption = False,
    by: Annotated[
        str | None,
        typer.Option(help="Who activates it (recorded; default: the user running the command)."),
    ] = None,
) -> None:
    """Check a policy file and make it the set in force of a company (or of the deployment),
    as a new version with who and when; a file with any problem is refused whole and the sets
    in force stay as they were. Written in the audit log of every company it changes."""
    by = by or getpass.getuser()
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            scope = chosen_scope(session, company, deployment)
            empty = scope is None and not deployment and not companies(session)
            done = activate(
                session=session,
                path=file,
                by=f"{by} (command line)",
                at=datetime.now(tz=SHANGHAI),
                company=scope,
            )
            scope_text = scope_name(scope)
    finally:
        engine.dispose()
    if empty:
        typer.echo("the store has no company yet: the set covers the whole deployment")
    typer.echo(
        f"policy version {done.version} in force for {scope_text}: {done.policies} policies "
        f"from {file.name} (sha256 {done.sha256[:12]}…), by {by}"
    )
    if done.postings:
        typer.echo(f"the ledger was booked again with it: {done.postings} postings")


@policy.command("show")
def show_command(company: CompanyOption = None) -> None:
    """Print the sets in force: the deployment's, and each company's own (or one company's)."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            lines = [_describe("deployment", latest_version(session, None))]
            listed = [company_by_code(session, company)] if company else companies(session)
            for member in listed:
                lines.append(_describe(member.code, latest_version(session, member.id)))
                count = len(in_force(session=session, company_id=member.id).policies)
                lines.append(f"  {member.code}: {count} policies in force in all")
    finally:
        engine.dispose()
    typer.echo("\n".join(lines))


def _describe(scope: str, version: PolicyVersion | None) -> str:
    if version is None:
        return f"{scope}: no set activated"
    at = read_utc(version.activated_at).astimezone(SHANGHAI).isoformat(timespec="seconds")
    return (
        f"{scope}: version {version.version}, {version.file_name}, {len(parsed(version))} "
        f"policies, activated by {version.activated_by} at {at}"
    )
