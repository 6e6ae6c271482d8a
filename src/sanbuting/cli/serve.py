"""`sanbuting serve`: the portal, the console and the API on one port."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

import typer
import uvicorn

from sanbuting.cli.app import app
from sanbuting.domain import SHANGHAI, parse_date
from sanbuting.web import deps
from sanbuting.web.app import create_app
from sanbuting.web.settings import WebSettings


def business_clock(today: date) -> Callable[[], datetime]:
    """A clock on `today` at the real time of day (Asia/Shanghai): the pages show a stored
    quarter as if it were now, while codes and sessions still expire in real time."""

    def now() -> datetime:
        real = datetime.now(tz=SHANGHAI)
        moment = datetime.combine(today, real.timetz())
        return moment.astimezone(UTC)

    return now


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Demo mode: a sandbox SMS inbox shows the codes sent.")
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(help="Business day to show (default: the real date), e.g. 2020-03-10."),
    ] = None,
) -> None:
    """Serve the customer portal (/), the staff console (/console) and the API (/docs) over
    the store (SANBUTING_DATABASE_URL)."""
    settings = WebSettings(demo=demo) if demo else WebSettings()
    web = create_app(settings)
    if today is not None:
        web.dependency_overrides[deps.now] = business_clock(parse_date(today))
    uvicorn.run(web, host=host, port=port, log_level="info")
