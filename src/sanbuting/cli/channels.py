"""`sanbuting channel …`: the API keys of banks and collection agents that post payments to one
company's accounts (`payments.channels`). The key is printed once, when it is made; the store
keeps only its hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select

from sanbuting.cli.app import app
from sanbuting.domain import format_yuan, parse_yuan
from sanbuting.errors import SanbutingError
from sanbuting.payments.channels import KINDS, add_credential
from sanbuting.store.companies import company_by_code
from sanbuting.store.database import database_url, make_engine, sessions
from sanbuting.store.web_models import ChannelCredential

channel_app = typer.Typer(
    help="Banks' and agents' keys for posting payments (one company each).", no_args_is_help=True
)
app.add_typer(channel_app, name="channel")


@channel_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="A name for the channel, e.g. icbc-guangzhou.")],
    company: Annotated[str, typer.Option(help="The company whose accounts it pays into.")],
    kind: Annotated[str, typer.Option(help=" or ".join(KINDS) + ".")] = "bank",
    labels: Annotated[
        str, typer.Option(help="The channel labels it may post under, comma-separated.")
    ] = "bank",
    max_yuan: Annotated[
        str, typer.Option(help="The largest single payment it may post, in yuan.")
    ] = "50000",
) -> None:
    """Make a channel's API key (printed once: give it to the bank, it is not stored)."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            credential, key = add_credential(
                session=session,
                company=company_by_code(session, company),
                name=name,
                kind=kind,
                channels=labels.split(","),
                max_amount_fen=parse_yuan(max_yuan),
                now=datetime.now(tz=UTC),
            )
            shown = (credential.name, credential.channels, credential.max_amount_fen)
    finally:
        engine.dispose()
    typer.echo(
        f"channel {shown[0]} of {company}: labels {shown[1]}, at most "
        f"{format_yuan(shown[2])} yuan a payment"
    )
    typer.echo(f"its API key (shown only now): {key}")


@channel_app.command("list")
def list_command() -> None:
    """Every channel: company, kind, labels, limit, and whether it is active."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            rows = session.scalars(select(ChannelCredential).order_by(ChannelCredential.name))
            lines = [
                f"{c.name}: {c.kind}, labels {c.channels}, at most "
                f"{format_yuan(c.max_amount_fen)} yuan, {'active' if c.active else 'revoked'}"
                for c in rows
            ]
    finally:
        engine.dispose()
    typer.echo("\n".join(lines) if lines else "no channels yet")


@channel_app.command("revoke")
def revoke_command(name: Annotated[str, typer.Argument(help="The channel's name.")]) -> None:
    """Withdraw a channel's key at once (its past payments stay)."""
    engine = make_engine(database_url())
    try:
        with sessions(engine).begin() as session:
            credential = session.scalar(
                select(ChannelCredential).where(ChannelCredential.name == name)
            )
            if credential is None:
                raise SanbutingError(f"no channel {name!r}: `sanbuting channel list` shows them")
            credential.active = False
    finally:
        engine.dispose()
    typer.echo(f"channel {name} revoked: its key no longer posts")
