"""How the sandbox provider delivers its asynchronous notifications to the merchant's
endpoint (`POST /sandbox-pay/notify`): over HTTP into this same application (an in-process
ASGI transport, so it passes the middleware and the endpoint exactly as a provider's call
would), from a background task that starts once the browser has been sent back, retried on a
server error.

Real providers notify twice, late, or before the browser returns; so does this one. The buyer
may choose on the checkout page (once, twice, late), and tests set `behaviour(app)`: `repeat`
notifications per payment, or `hold` them in `held` for the test to deliver itself, when it
wants (e.g. after the return page has already asked the provider)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp

NOTIFY_PATH = "/sandbox-pay/notify"
TRIES = 3
LATE_SECONDS = 3.0


@dataclass
class Behaviour:
    """The provider's delivery settings of one application (for tests and the demo)."""

    repeat: int = 1
    """Notifications sent for each payment, at least (duplicates, as real providers send)."""
    hold: bool = False
    """Keep notifications in `held` instead of sending them."""
    held: list[dict[str, str]] = field(default_factory=list)


def behaviour(app: FastAPI) -> Behaviour:
    """The provider's delivery settings on `app` (made on first use)."""
    found = getattr(app.state, "sandbox_pay", None)
    if not isinstance(found, Behaviour):
        found = Behaviour()
        app.state.sandbox_pay = found
    return found


async def deliver(app: ASGIApp, fields: dict[str, str], delay: float = 0.0) -> bool:
    """POST one notification to the merchant; True when it answered `success`."""
    if delay:
        await asyncio.sleep(delay)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox-pay") as client:
        for attempt in range(TRIES):
            answer = await client.post(NOTIFY_PATH, data=fields)
            if answer.status_code == 200 and answer.text == "success":
                return True
            if answer.status_code < 500:
                return False
            await asyncio.sleep(0.2 * (attempt + 1))
    return False


async def deliver_all(app: ASGIApp, notes: list[dict[str, str]], delay: float) -> None:
    """Deliver `notes` one after another (the background task of a confirmed payment)."""
    for note in notes:
        await deliver(app, note, delay)
