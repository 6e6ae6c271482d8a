"""How large a request body may be: `max_body_bytes` (1 MB by default), and for the console's
policy upload the policy cap plus room for the rest of its multipart form (the handler checks
the file itself).

A body declared larger (`Content-Length`) is refused before a byte of it is read. A body sent
without a length (chunked) is counted as the application reads it, and refused as soon as it
passes the limit: reading it raises `BodyTooLarge`, an HTTP 413 that FastAPI's body parsing lets
through to the application's handler of it, and that this middleware answers itself if it gets
this far. The refusal is a problem for programs and the error page for people
(`failures.too_large`)."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanbuting.web import failures

POLICY_UPLOAD = ("POST", "/console/policies/what-if")
MULTIPART_ALLOWANCE = 64 * 1024
"""Room in the policy upload for the multipart framing, the file's headers and the CSRF field."""


class BodyTooLarge(HTTPException):
    """The request's body passed its limit while being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body is larger than {limit} bytes")
        self.limit = limit


class BodyLimit:
    """ASGI middleware: request bodies of at most `max_bytes` (`policy_bytes` plus the
    multipart allowance for the policy upload)."""

    def __init__(self, app: ASGIApp, max_bytes: int, policy_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.policy_bytes = policy_bytes + MULTIPART_ALLOWANCE

    def limit_of(self, scope: Scope) -> int:
        """The largest body this request may send."""
        if (scope.get("method"), scope.get("path")) == POLICY_UPLOAD:
            return max(self.policy_bytes, self.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await failures.too_large(Request(scope), limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:
            if started:
                raise
            await failures.too_large(Request(scope), limit)(scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    """The body's `Content-Length`, if it has a valid one (the server refuses a wrong one)."""
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isascii() and value.isdigit() else None
