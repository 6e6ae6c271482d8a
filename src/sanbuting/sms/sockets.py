"""TCP_NODELAY for smpp34's client sockets, which its Python API does not offer.

smpp34 1.5.0 leaves Nagle's algorithm on. With delivery receipts coming in, the client's
`deliver_sm_resp` stays unacknowledged for the SMSC's delayed ACK (up to 40 ms on Linux) and
holds back the next `submit_sm`: a window of one then sends some 40 messages a second instead of
a thousand or more (docs/performance.md). After a bind, `set_nodelay` finds this process's TCP
sockets connected to the SMSC (Linux: /proc/self/fd) and sets the option on them; elsewhere it
does nothing. Setting it on a duplicate descriptor sets it on the socket itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

FDS = Path("/proc/self/fd")


def set_nodelay(host: str, port: int) -> int:
    """Set TCP_NODELAY on every TCP socket of this process connected to `host`:`port`; how
    many there were (0 where /proc is not there)."""
    if not FDS.is_dir():
        return 0
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return 0
    addresses = {str(info[4][0]) for info in found}
    done = 0
    for entry in FDS.iterdir():
        try:
            target = str(entry.readlink())
        except OSError:
            continue
        if not target.startswith("socket:"):
            continue
        try:
            duplicate = socket.socket(fileno=os.dup(int(entry.name)))
        except OSError:
            continue
        with duplicate, contextlib.suppress(OSError):  # closes the duplicate only
            if duplicate.type != socket.SOCK_STREAM or duplicate.family not in (
                socket.AF_INET,
                socket.AF_INET6,
            ):
                continue
            peer = duplicate.getpeername()
            if peer[1] == port and peer[0] in addresses:
                duplicate.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
    return done
