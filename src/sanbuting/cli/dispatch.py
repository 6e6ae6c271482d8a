"""`sanbuting dispatch`: send the outbox's orders to a sink, re-checking each enforcement order
against the account's arrears first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.dispatch import ConsoleSink, FileSink, Sink, run_dispatcher
from sanbuting.field.orders import on_sent
from sanbuting.payments.recheck import make_recheck
from sanbuting.store.database import database_url, make_engine


def _now() -> datetime:
    return datetime.now(tz=UTC)


@app.command("dispatch")
def dispatch_command(
    to: Annotated[
        Path | None,
        typer.Option(
            help="Append orders to this JSON-lines file (it skips keys already in it); "
            "default: print them.",
            dir_okay=False,
        ),
    ] = None,
    forever: Annotated[
        bool, typer.Option(help="Keep polling for new orders instead of stopping when idle.")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Orders per pass.")] = 100,
    max_attempts: Annotated[
        int, typer.Option(min=1, max=100, help="Failed sends before an order is dead.")
    ] = 8,
    poll: Annotated[float, typer.Option(min=0.1, help="Seconds between polls when idle.")] = 5.0,
) -> None:
    """Send pending outbox orders (notices, cut-offs, reconnections, …) with retries; a cut-off
    for an account that has paid since is cancelled, not sent. A cut-off, reconnection or
    meter closing sent gets its field work order (the console's /console/field)."""
    engine = make_engine(database_url())
    try:
        sink: Sink = FileSink(to) if to is not None else ConsoleSink()
        report = run_dispatcher(
            engine=engine,
            sink=sink,
            recheck=make_recheck(_now),
            batch=batch,
            max_attempts=max_attempts,
            base_delay=timedelta(seconds=5),
            poll=poll,
            stop_when_idle=not forever,
            now=_now,
            on_sent=on_sent,
        )
    finally:
        engine.dispose()
    typer.echo(
        f"sent {report.sent}, cancelled {report.cancelled}, retried {report.retried}, "
        f"dead {report.dead}",
        err=to is None,
    )
