"""`sanbuting serve`: the portal, the console and the API on one port (in demo mode also the
sandbox payment provider and the SMS inbox); `X-Forwarded-For` believed only from the proxies
in `SANBUTING_TRUSTED_PROXIES`."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from sanbuting.cli.app import app
from sanbuting.domain import parse_date
from sanbuting.settings import Settings
from sanbuting.web.serving import TODAY_ENV, NoDelayH11Protocol, proxy_options, served_app


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            help="Demo mode: the sandbox payment provider and an SMS inbox showing the codes "
            "sent (never in production)."
        ),
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(help="Business day to show (default: the real date), e.g. 2020-03-10."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (one per core for throughput; set SANBUTING_SECRET_KEY so "
            "that they share sessions).",
        ),
    ] = 1,
) -> None:
    """Serve the customer portal (/), the staff console (/console) and the API (/docs) over
    the store (SANBUTING_DATABASE_URL)."""
    if today is not None:
        parse_date(today)  # refused here, not in every worker
    settings = Settings(demo=demo) if demo else Settings()
    proxies = proxy_options(settings)
    if workers == 1:
        web = served_app(settings, today)
        uvicorn.run(web, host=host, port=port, log_level="info", http=NoDelayH11Protocol, **proxies)
        return
    if "SANBUTING_SECRET_KEY" not in os.environ:
        typer.echo("note: SANBUTING_SECRET_KEY is not set: each worker signs its own sessions")
    if demo:
        os.environ["SANBUTING_DEMO"] = "true"
    if today is not None:
        os.environ[TODAY_ENV] = today
    uvicorn.run(
        "sanbuting.web.serving:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        http=NoDelayH11Protocol,
        **proxies,
    )
