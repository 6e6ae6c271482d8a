"""A small SMSC for the SMS tests and benchmark, on `smpp34`'s codec over asyncio TCP on
127.0.0.1 (smpp34's own `Server` accepts any password and cannot drop a connection at a chosen
submit, so the sessions are written here; the PDUs are decoded and encoded by smpp34).

It binds transceivers with a password (a wrong one gets ESME_RINVPASWD), answers enquire_link
(and sends its own: `probe`),
logs every submit_sm it accepts (`Received`: the key from the `KEY_TLV`, the destination, the
coding, the UDH and the payload) and answers it with a message id, then sends a delivery
receipt (`deliver_sm`, esm_class 0x04, `id:... stat:DELIVRD ...` with the receipted_message_id
and message_state TLVs). It can be told to throttle (ESME_RTHROTTLED) the next N submits or
any above a rate, to drop the connection on the K-th submit (logged: it arrived, but is never
answered), to answer late, to refuse some keys with an error status, and to report some keys
UNDELIV.

`SmscThread` runs one in a thread of its own (for code that runs its own event loop, or for a
sender in another process).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import smpp34

from sanbuting.sms.gateway import KEY_TLV

BIND_TRANSCEIVER, SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK = 0x09, 0x04, 0x05, 0x06, 0x15
GENERIC_NACK, RESP = 0x80000000, 0x80000000
ESME_RINVPASWD, ESME_RTHROTTLED, ESME_RINVCMDID = 0x0E, 0x58, 0x03


@dataclass(frozen=True)
class Received:
    """A submit_sm the SMSC accepted (or, `message_id` None, took and never answered)."""

    session: int
    key: str | None
    destination: str
    data_coding: int
    esm_class: int
    payload: bytes
    message_id: str | None

    @property
    def udh(self) -> tuple[int, int, int] | None:
        """(reference, total, index) of an 8-bit concatenation header, if any."""
        if not self.esm_class & 0x40:
            return None
        return self.payload[3], self.payload[4], self.payload[5]

    @property
    def body(self) -> bytes:
        return self.payload[6:] if self.udh else self.payload


@dataclass
class Smsc:
    """The SMSC (see the module). Start it in a running loop with `start`."""

    system_id: str = "sanbuting"
    password: str = "secret"
    throttle_next: int = 0
    """Answer this many of the next submits with ESME_RTHROTTLED."""
    max_rate: float | None = None
    """Throttle submits beyond this many in any second."""
    drop_at: int | None = None
    """Drop the connection on this submit (counted over all sessions, once)."""
    answer_delay: float = 0.0
    receipts: bool = True
    undelivered: frozenset[str] = frozenset()
    """Keys whose receipts say UNDELIV."""
    refuse: dict[str, int] = field(default_factory=dict)
    """Keys whose submits are answered with this error status."""
    refused: list[tuple[str | None, int]] = field(default_factory=list)
    port: int = 0
    log: list[Received] = field(default_factory=list)
    throttled: int = 0
    binds: list[tuple[str, str, bool]] = field(default_factory=list)
    enquire_links: int = 0
    """enquire_link received (the ESME's keep-alive)."""
    enquire_link_answers: int = 0
    """enquire_link_resp received (answers to `probe`)."""
    sessions: int = 0
    _server: asyncio.Server | None = None
    _submits: int = 0
    _recent: collections.deque[float] = field(default_factory=collections.deque)
    _ids: int = 0
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def probe(self) -> None:
        """Send enquire_link on every open session (an SMSC's own keep-alive)."""
        for number, writer in enumerate(list(self._writers)):
            await _write(writer, asyncio.Lock(), _pdu(ENQUIRE_LINK, 0, 0x7F00_0000 + number))

    def keys(self) -> list[str | None]:
        """The key of every accepted (or taken and unanswered) submit, in order."""
        return [received.key for received in self.log]

    def texts(self) -> dict[str, str]:
        """Each key's text, its segments reassembled in UDH order and decoded."""
        parts: dict[str, dict[int, Received]] = collections.defaultdict(dict)
        for received in self.log:
            udh = received.udh
            parts[received.key or ""][udh[2] if udh else 1] = received
        texts = {}
        for key, segments in parts.items():
            ordered = [segments[index] for index in sorted(segments)]
            body = b"".join(segment.body for segment in ordered)
            coding = ordered[0].data_coding
            texts[key] = body.decode("utf-16-be") if coding == 0x08 else body.decode("ascii")
        return texts

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        number = self.sessions
        self._writers.add(writer)
        lock = asyncio.Lock()
        sequence = [0x7000_0000]
        bound = False
        try:
            while True:
                head = await reader.readexactly(16)
                length, command, _status, seq = struct.unpack(">IIII", head)
                body = await reader.readexactly(length - 16)
                if command == BIND_TRANSCEIVER:
                    system_id, password = (part.decode() for part in body.split(b"\0")[:2])
                    bound = system_id == self.system_id and password == self.password
                    self.binds.append((system_id, password, bound))
                    answer = self.system_id.encode() + b"\0" if bound else b""
                    status = 0 if bound else ESME_RINVPASWD
                    await _write(writer, lock, _pdu(BIND_TRANSCEIVER | RESP, status, seq, answer))
                elif command == ENQUIRE_LINK:
                    self.enquire_links += 1
                    await _write(writer, lock, _pdu(ENQUIRE_LINK | RESP, 0, seq))
                elif command == UNBIND:
                    await _write(writer, lock, _pdu(UNBIND | RESP, 0, seq))
                    return
                elif command == SUBMIT_SM and bound:
                    if not await self._submit(number, head + body, seq, writer, lock, sequence):
                        return
                elif command == ENQUIRE_LINK | RESP:
                    self.enquire_link_answers += 1
                elif command & RESP:
                    continue  # deliver_sm_resp
                else:
                    await _write(writer, lock, _pdu(GENERIC_NACK, ESME_RINVCMDID, seq))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _submit(
        self,
        number: int,
        data: bytes,
        seq: int,
        writer: asyncio.StreamWriter,
        lock: asyncio.Lock,
        sequence: list[int],
    ) -> bool:
        """Take one submit_sm; False when the connection is to be dropped."""
        pdu = smpp34.decode(data)
        assert isinstance(pdu, smpp34.SubmitSm)
        key = next((t.value.decode() for t in pdu.tlvs if t.tag == KEY_TLV), None)
        self._submits += 1
        if self.drop_at is not None and self._submits >= self.drop_at:
            self.drop_at = None
            self.log.append(self._received(number, pdu, key, None))
            return False
        if key in self.refuse:
            self.refused.append((key, self.refuse[key]))
            await _write(writer, lock, _pdu(SUBMIT_SM | RESP, self.refuse[key], seq, b"\0"))
            return True
        if self._throttling():
            self.throttled += 1
            await _write(writer, lock, _pdu(SUBMIT_SM | RESP, ESME_RTHROTTLED, seq, b"\0"))
            return True
        self._ids += 1
        message_id = f"{self._ids:010X}"
        self.log.append(self._received(number, pdu, key, message_id))
        work = self._answer(pdu, key, message_id, seq, writer, lock, sequence)
        if self.answer_delay:
            task = asyncio.create_task(work)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            await work
        return True

    def _throttling(self) -> bool:
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return True
        if self.max_rate is None:
            return False
        now = time.monotonic()
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.max_rate:
            return True
        self._recent.append(now)
        return False

    def _received(
        self, number: int, pdu: smpp34.SubmitSm, key: str | None, message_id: str | None
    ) -> Received:
        return Received(
            session=number,
            key=key,
            destination=pdu.destination_addr,
            data_coding=pdu.data_coding,
            esm_class=pdu.esm_class,
            payload=pdu.short_message,
            message_id=message_id,
        )

    async def _answer(
        self,
        pdu: smpp34.SubmitSm,
        key: str | None,
        message_id: str,
        seq: int,
        writer: asyncio.StreamWriter,
        lock: asyncio.Lock,
        sequence: list[int],
    ) -> None:
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        try:
            answer = _pdu(SUBMIT_SM | RESP, 0, seq, message_id.encode() + b"\0")
            await _write(writer, lock, answer)
            if not (self.receipts and pdu.registered_delivery & 0x01):
                return
            stat, state = ("UNDELIV", 5) if key in self.undelivered else ("DELIVRD", 2)
            moment = datetime.now(UTC).strftime("%y%m%d%H%M")
            text = (
                f"id:{message_id} sub:001 dlvrd:{'001' if state == 2 else '000'} "
                f"submit date:{moment} done date:{moment} stat:{stat} err:000 text:"
            )
            sequence[0] += 1
            receipt = smpp34.DeliverSm(
                pdu.destination_addr,
                pdu.source_addr,
                text.encode("ascii"),
                esm_class=0x04,
                tlvs=[
                    smpp34.Tlv(0x001E, message_id.encode() + b"\0"),
                    smpp34.Tlv(0x0427, bytes([state])),
                ],
                sequence_number=sequence[0],
            )
            await _write(writer, lock, receipt.encode())
        except (ConnectionError, RuntimeError):
            return


def _pdu(command: int, status: int, seq: int, body: bytes = b"") -> bytes:
    return struct.pack(">IIII", 16 + len(body), command, status, seq) + body


async def _write(writer: asyncio.StreamWriter, lock: asyncio.Lock, data: bytes) -> None:
    if writer.is_closing():
        raise ConnectionResetError("the ESME is gone")
    async with lock:
        writer.write(data)
        await writer.drain()


class SmscThread:
    """An `Smsc` serving from a thread of its own, as a context manager."""

    def __init__(self, smsc: Smsc | None = None) -> None:
        self.smsc = smsc if smsc is not None else Smsc()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> Smsc:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.smsc.start(), self._loop).result(10)
        return self.smsc

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.smsc.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextlib.contextmanager
def serving(**options: object) -> Iterator[Smsc]:
    """`with serving(throttle_next=3) as smsc:` an SMSC in a thread."""
    with SmscThread(Smsc(**options)) as smsc:  # type: ignore[arg-type]
        yield smsc


def main() -> None:
    """`python tests/smsc.py [--answer-delay S]`: serve on a free port of 127.0.0.1 until
    stdin ends; print the port, then answer each line read (`count`) with the number of
    submits logged and the number of distinct keys."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--answer-delay", type=float, default=0.0)
    options = parser.parse_args()
    with SmscThread(Smsc(answer_delay=options.answer_delay)) as smsc:
        print(smsc.port, flush=True)
        for _line in sys.stdin:
            keys = smsc.keys()
            print(len(keys), len(set(keys)), flush=True)


if __name__ == "__main__":
    main()
