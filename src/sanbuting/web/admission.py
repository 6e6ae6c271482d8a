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

Writes have a bound of their own. SQLite has one writer: forty threads that each wait for its
lock (the driver sleeps and retries) leave it idle between them, and payments offered faster
than it posts them fell from 60 a second to 25. So on SQLite a worker lets one writing request
(any method but GET and HEAD) in at a time; the others wait their turn here.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

READS = ("GET", "HEAD")


class Admission:
    """ASGI middleware: at most `limit` HTTP requests in `app` at a time, of which at most
    `writes` are not GET or HEAD."""

    def __init__(self, app: ASGIApp, limit: int, writes: int | None = None) -> None:
        writes = limit if writes is None else writes
        if min(limit, writes) < 1:
            raise ValueError(f"the admission limits must be at least 1, not {limit}, {writes}")
        self.app, self.limit, self.writes = app, limit, writes
        self._gates: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore, asyncio.Semaphore] | None
        self._gates = None

    def gate(self, reads: bool = True) -> asyncio.Semaphore:
        """This event loop's semaphore for all requests, or for writing ones (a test client
        may run the app in several loops)."""
        loop = asyncio.get_running_loop()
        if self._gates is None or self._gates[0] is not loop:
            self._gates = (loop, asyncio.Semaphore(self.limit), asyncio.Semaphore(self.writes))
        return self._gates[1] if reads else self._gates[2]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gates = [self.gate()]
        if scope.get("method", "GET") not in READS:
            gates.insert(0, self.gate(reads=False))  # the writers' turn first, then a place
        for gate in gates:
            await gate.acquire()
        inside = True

        def leave() -> None:
            nonlocal inside
            if inside:
                inside = False
                for gate in gates:
                    gate.release()

        async def sending(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                leave()

        try:
            await self.app(scope, receive, sending)
        finally:
            leave()
