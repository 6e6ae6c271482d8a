"""How `sanbuting serve` runs the application under uvicorn: the business clock, the
application built from the environment in each worker process, and the HTTP protocol.

With `--workers N` uvicorn binds the socket itself and hands it to its worker processes;
asyncio then does not turn Nagle's algorithm off on the connections it accepts (it does only
for sockets whose protocol number says TCP, and this one's says 0). A keep-alive client's
next request then waits for the delayed acknowledgement of the previous answer's last
segment: about 40 ms on every request (measured: 44 ms against 2 ms for a health check).
`NoDelayH11Protocol` sets TCP_NODELAY on every connection it is given.

Behind a reverse proxy the client's address comes from `X-Forwarded-For`, but only from the
proxies named in `SANBUTING_TRUSTED_PROXIES` (`proxy_options`): uvicorn would otherwise believe
the header from any local peer, and anyone could choose the address the per-address limits
count. With none named the header is ignored and the peer's own address counts.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from sanbuting.domain import SHANGHAI, parse_date
from sanbuting.settings import Settings
from sanbuting.web import deps
from sanbuting.web.app import create_app

TODAY_ENV = "SANBUTING_TODAY"
"""The business day a served application shows (`serve --today`), for its worker processes."""


def business_clock(today: date) -> Callable[[], datetime]:
    """A clock on `today` at the real time of day (Asia/Shanghai): the pages show a stored
    quarter as if it were now, while codes and sessions still expire in real time."""

    def now() -> datetime:
        real = datetime.now(tz=SHANGHAI)
        moment = datetime.combine(today, real.timetz())
        return moment.astimezone(UTC)

    return now


def served_app(settings: Settings | None = None, today: str | None = None) -> FastAPI:
    """The application as served: settings from the `SANBUTING_*` environment, the clock on
    `today` (or `SANBUTING_TODAY`) if given. uvicorn calls it in each worker process."""
    app = create_app(settings or Settings())
    day = today or os.environ.get(TODAY_ENV)
    if day:
        app.dependency_overrides[deps.now] = business_clock(parse_date(day))
    return app


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `X-Forwarded-For`: believed from the trusted proxies only."""
    proxies = [each.strip() for each in settings.trusted_proxies.split(",") if each.strip()]
    if not proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": proxies}


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with Nagle's algorithm off on every connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
