"""Admission: at most so many requests inside the application at once.

The handlers and dependencies are synchronous: each step of a request runs on one of the
server's threads (AnyIO's 40), and a request holds its database connection from its first
query until its handler returns. Without a bound, a burst admits hundreds of requests; each
takes a connection in its first dependency and then waits for a thread to run its handler,
while the threads are busy waiting for connections the waiting requests hold: every request
stalls until the pool's timeout. So requests beyond the bound wait here, in the event loop,
holding neither a thread nor a connection, and go in as others finish. A request's place is
given back as soon as its answer has been sent (work it does after, such as the sandbox
provider's notification, does not hold it).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Admission:
    """ASGI middleware: at most `limit` HTTP requests in `app` at a time."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the admission limit must be at least 1, not {limit}")
        self.app, self.limit = app, limit
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def gate(self) -> asyncio.Semaphore:
        """This event loop's semaphore (a test client may run the app in several loops)."""
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(self.limit))
        return self._gate[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gate = self.gate()
        await gate.acquire()
        inside = True

        def leave() -> None:
            nonlocal inside
            if inside:
                inside = False
                gate.release()

        async def sending(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                leave()

        try:
            await self.app(scope, receive, sending)
        finally:
            leave()
