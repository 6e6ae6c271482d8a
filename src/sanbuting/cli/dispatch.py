"""`sanbuting dispatch`: send the outbox's orders to a sink, re-checking each enforcement order
against the account's arrears first; each order sent writes its field work order (a cut-off,
a reconnection) and queues the customer's text message (`sms.notices`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from sanbuting.cli.app import app
from sanbuting.dispatch import ConsoleSink, FileSink, Sink, run_dispatcher
from sanbuting.field import orders as field_orders
from sanbuting.payments.recheck import make_recheck
from sanbuting.sms import notices
from sanbuting.sms.outbox_sink import SmsQueueSink
from sanbuting.sms.templates import configured
from sanbuting.store.database import database_url, make_engine
from sanbuting.store.models import OutboxItem


def _now() -> datetime:
    return datetime.now(tz=UTC)


def on_sent(session: Session, item: OutboxItem, moment: datetime) -> None:
    """What an order sent does besides: its field work order, and its text message."""
    field_orders.on_sent(session, item, moment)
    notices.on_sent(session, item, moment)


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
    sms_queue: Annotated[
        bool,
        typer.Option(
            help="Queue `sms` orders (sign-in codes) for `sanbuting sms send` instead of "
            "sending them to the file or console."
        ),
    ] = True,
) -> None:
    """Send pending outbox orders (notices, cut-offs, reconnections, …) with retries; a cut-off
    for an account that has paid since is cancelled, not sent. A cut-off, reconnection or
    meter closing sent gets its field work order (the console's /console/field), and each
    order that reaches a customer queues its text message (checked templates:
    SANBUTING_SMS_TEMPLATES, else the shipped ones)."""
    configured()  # refuse bad templates before sending anything
    engine = make_engine(database_url())
    try:
        sink: Sink = FileSink(to) if to is not None else ConsoleSink()
        if sms_queue:
            sink = SmsQueueSink(sink)
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
