"""`sanbuting serve` with several workers: uvicorn hands its workers a socket whose protocol
number is 0, so asyncio leaves Nagle's algorithm on for the connections they accept and every
keep-alive request waited about 40 ms. `NoDelayH11Protocol` turns it off on each connection:
shown on such a socket (a real one, accepted from a listener made as uvicorn makes it)."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.config import Config
from uvicorn.server import ServerState

from helpers_async import run_apart
from sanbuting.web.serving import NoDelayH11Protocol, served_app


class Transport(asyncio.Transport):
    """What the protocol reads of its transport: the accepted socket and its addresses."""

    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self.connection = connection

    def get_extra_info(self, name: str, default: object = None) -> object:
        extra = {
            "socket": self.connection,
            "sockname": self.connection.getsockname(),
            "peername": self.connection.getpeername(),
        }
        return extra.get(name, default)


def test_connections_get_tcp_nodelay() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as uvicorn binds for workers
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        assert accepted.proto == 0  # asyncio would not set TCP_NODELAY on this one
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        config = Config(app=served_app, factory=True)
        config.load()

        async def made() -> None:
            protocol = NoDelayH11Protocol(config=config, server_state=ServerState(), app_state={})
            protocol.connection_made(Transport(accepted))

        run_apart(made())
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        for each in (client, accepted, listener):
            each.close()
