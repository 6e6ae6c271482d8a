"""`sanbuting serve`: the portal, the console and the API on one port."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from sanbuting.cli.app import app
from sanbuting.web.app import create_app
from sanbuting.web.settings import WebSettings


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Demo mode: a sandbox SMS inbox shows the codes sent.")
    ] = False,
) -> None:
    """Serve the customer portal (/), the staff console (/console) and the API (/docs) over
    the store (SANBUTING_DATABASE_URL)."""
    settings = WebSettings(demo=demo) if demo else WebSettings()
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
