"""`sanbuting sms send`: submit the SMS queue through the transport the settings choose (the
SMPP gateway, or the file sink), record ids and receipts; docs/sms.md."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from sanbuting.cli.app import app
from sanbuting.settings import Settings
from sanbuting.sms.gateway import GatewayError
from sanbuting.sms.sender import Sender, SenderBusy, SendReport
from sanbuting.sms.transport import OnReceipt, Transport
from sanbuting.sms.transports import transport_for
from sanbuting.store.database import make_engine

BIND_ATTEMPTS = 5
"""Binds tried, with back-off, before a one-off `sms send` gives up (`--forever` never does)."""

sms_app = typer.Typer(help="Text messages: send the queue (SMPP or a file).", no_args_is_help=True)
app.add_typer(sms_app, name="sms")


@sms_app.command("send")
def send_command(
    forever: Annotated[
        bool, typer.Option(help="Keep polling for new messages instead of stopping when idle.")
    ] = False,
    poll: Annotated[float, typer.Option(min=0.1, help="Seconds between polls when idle.")] = 1.0,
    receipt_wait: Annotated[
        float,
        typer.Option(min=0.0, help="Seconds to wait for delivery receipts before stopping."),
    ] = 0.0,
) -> None:
    """Send the queued text messages that are due (at most once each: a message in flight
    when a sender died is marked unknown, never sent again). SANBUTING_SMS_SINK chooses
    `file` (SANBUTING_SMS_FILE) or `smpp` (SANBUTING_SMPP_HOST, _PORT, _SYSTEM_ID,
    _PASSWORD, _SOURCE_ADDR, _WINDOW, _RATE). Without --forever it gives up after 5 binds
    refused or unanswered; with it, it keeps trying (back-off up to 30 s)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    window = settings.smpp_window if settings.sms_sink == "smpp" else 10
    attempts = None if forever else BIND_ATTEMPTS  # a service waits for its SMSC

    def transport(receipts: OnReceipt) -> Transport:
        return transport_for(settings, receipts, attempts)

    sender = Sender(engine, transport, window=window)
    try:
        report = asyncio.run(_run(sender, forever, poll, receipt_wait))
    except (GatewayError, SenderBusy) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(report.line(), err=True)


async def _run(sender: Sender, forever: bool, poll: float, receipt_wait: float) -> SendReport:
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, sender.stop)
    return await sender.run(stop_when_idle=not forever, poll=poll, receipt_wait=receipt_wait)
