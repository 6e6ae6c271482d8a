"""An SMPP 3.4 gateway to an SMSC on `smpp34`'s asyncio client: one transceiver bind, a window
of submit_sm outstanding at once, a rate limit, long texts cut into concatenated segments, and
delivery receipts handed to a callback.

- Bind: `bind_transceiver` with the configured system_id, password and system_type. smpp34
  reports a refused bind (a wrong password) as "bind timed out" after the connect timeout; it
  keeps the session alive itself with `enquire_link` every 30 seconds and ends it when the
  SMSC stops answering. The gateway turns Nagle's algorithm off on the session's socket
  (`sockets.set_nodelay`), which smpp34 leaves on.
- Window: at most `window` submit_sm unanswered at once (each segment is one), so every
  submit that starts is written to the wire at once; the rate limit (`ratelimit.TokenBucket`)
  spaces them, halves on ESME_RTHROTTLED and recovers slowly. A throttled segment is submitted
  again (the SMSC refused it, so it holds nothing of it), as often as it takes.
- Text: `encoding` picks GSM-7 or UCS-2 and cuts long texts; segments carry a UDH
  (`esm_class` 0x40) and go in order. Every segment carries the message's key in the vendor
  TLV `KEY_TLV` (an SMSC that deduplicates can use it; others ignore it) and asks for a
  delivery receipt (`registered_delivery` 1).
- Connection: when the session ends (the SMSC dropped it, or a submit got no answer) the
  gateway binds again with exponential back-off (`backoff` doubling up to `backoff_max`,
  jittered) and messages wait for the new session. A submit in flight when the session ended
  is `in_doubt` (the SMSC may have it); one not yet started waits and goes on the new session.
- Receipts: several readers take the session's inbound traffic (`_readers`); a `deliver_sm`
  whose `esm_class` says "SMSC delivery receipt" is parsed (`transport.parse_receipt`) and
  handed to `on_receipt`; other inbound messages (replies from
  handsets) are counted and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import smpp34

from sanbuting.sms.encoding import ESM_CLASS_UDHI, encode, with_udh
from sanbuting.sms.ratelimit import TokenBucket
from sanbuting.sms.sockets import set_nodelay
from sanbuting.sms.transport import (
    ESME_RTHROTTLED,
    OnReceipt,
    Outgoing,
    SubmitResult,
    parse_receipt,
    status_name,
)

log = logging.getLogger(__name__)

KEY_TLV = 0x1501
"""The vendor-specific TLV (0x1400-0x3FFF) that carries a message's idempotency key, UTF-8."""
INBOUND_CAPACITY = 8192
"""Inbound PDUs (receipts) smpp34 buffers before it NAKs them with ESME_RMSGQFUL (at least 64
a window). Kept large, and drained by several readers at once: smpp34 1.5.0 writes such a NAK
(`deliver_sm_resp`) one byte longer than its command_length says, which desynchronises the
SMSC's reading of the stream (docs/sms.md)."""
ESM_CLASS_RECEIPT = 0x04
ESM_CLASS_TYPE_MASK = 0x3C
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427


class GatewayError(Exception):
    """The gateway could not bind (after its attempts) or was closed."""


@dataclass(frozen=True)
class GatewayConfig:
    """Where the SMSC is and how to talk to it (`Settings.smpp_*` make one)."""

    host: str
    port: int
    system_id: str
    password: str
    source_addr: str
    system_type: str = ""
    window: int = 10
    rate: float = 100.0
    """submit_sm a second at most (each segment is one)."""
    connect_timeout: float = 5.0
    """Seconds to connect and bind (a refused bind shows as this timing out)."""
    response_timeout: float = 30.0
    """Seconds to wait for a submit_sm_resp before the submit is in doubt."""
    backoff: float = 0.5
    backoff_max: float = 30.0
    nodelay: bool = True
    """Set TCP_NODELAY on the session's socket (`sockets.set_nodelay`)."""
    connect_attempts: int | None = None
    """Binds tried by `start` before it gives up (None: forever); reconnects always retry."""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 1
    dest_addr_npi: int = 1


@dataclass
class GatewayStats:
    """What the gateway has done since it was made."""

    binds: int = 0
    bind_failures: int = 0
    submits: int = 0
    throttled: int = 0
    in_doubt: int = 0
    receipts: int = 0
    inbound_other: int = 0
    last_error: str | None = None
    statuses: dict[int, int] = field(default_factory=dict)


class _Session:
    """One bound connection: its client, its SMSC handle and its number."""

    def __init__(self, number: int, client: smpp34.Client, smsc: smpp34.Smsc) -> None:
        self.number = number
        self.client = client
        self.smsc = smsc
        self.alive = True
        self.readers: list[asyncio.Task[None]] = []


class SmppGateway:
    """A `Transport` over SMPP 3.4 (see the module)."""

    def __init__(self, config: GatewayConfig, on_receipt: OnReceipt | None = None) -> None:
        if config.window < 1:
            raise ValueError(f"an SMPP window of at least 1, not {config.window}")
        self.config = config
        self.on_receipt = on_receipt
        self.stats = GatewayStats()
        self.bucket = TokenBucket(config.rate, burst=float(config.window))
        self._window = asyncio.Semaphore(config.window)
        self._session: _Session | None = None
        self._bound = asyncio.Event()
        self._numbers = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    async def start(self) -> None:
        """Bind, trying `connect_attempts` times with back-off; GatewayError if none took."""
        await self._connect(self.config.connect_attempts)

    async def close(self) -> None:
        """Unbind and let go; submits waiting for a session get GatewayError."""
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        session, self._session = self._session, None
        self._bound.set()  # wake the waiters, who find the gateway closed
        if session is not None:
            session.alive = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.smsc.unbind(), 2.0)
            await _stop(session.client)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def submit(self, message: Outgoing) -> SubmitResult:
        """Submit every segment of `message` in order (see `transport` for the outcomes)."""
        encoded = encode(message.text)
        payloads = with_udh(message.id, encoded.parts)
        esm_class = ESM_CLASS_UDHI if len(payloads) > 1 else 0
        tlvs = [smpp34.Tlv(KEY_TLV, message.key.encode("utf-8"))]
        ids: list[str] = []
        for index, payload in enumerate(payloads):
            while True:
                await self.bucket.take()
                async with self._window:
                    session = await self._live_session()
                    try:
                        async with asyncio.timeout(self.config.response_timeout):
                            response = await session.smsc.submit_sm(
                                message.phone,
                                payload,
                                source_addr=self.config.source_addr,
                                source_addr_ton=self.config.source_addr_ton,
                                source_addr_npi=self.config.source_addr_npi,
                                dest_addr_ton=self.config.dest_addr_ton,
                                dest_addr_npi=self.config.dest_addr_npi,
                                esm_class=esm_class,
                                registered_delivery=1,
                                data_coding=encoded.data_coding,
                                tlvs=tlvs,
                            )
                    except (smpp34.SmppError, TimeoutError) as error:
                        self.stats.in_doubt += 1
                        await self._lost(session, error)
                        return SubmitResult(
                            "in_doubt",
                            message_id=ids[0] if ids else None,
                            segments_sent=index,
                            segment_ids=tuple(ids),
                            error=f"no answer to segment {index + 1}: {_describe(error)}",
                        )
                self.stats.submits += 1
                status = response.command_status
                self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
                if response.is_success:
                    ids.append(response.message_id or "")
                    break
                if status == ESME_RTHROTTLED:
                    self.stats.throttled += 1
                    self.bucket.throttled()
                    continue
                return SubmitResult(
                    "refused",
                    message_id=ids[0] if ids else None,
                    segments_sent=index,
                    segment_ids=tuple(ids),
                    command_status=status,
                    error=f"segment {index + 1} of {len(payloads)}: {status_name(status)}",
                )
        return SubmitResult(
            "sent", message_id=ids[0], segments_sent=len(payloads), segment_ids=tuple(ids)
        )

    async def _live_session(self) -> _Session:
        """The bound session, waiting for a reconnect when there is none."""
        while True:
            if self._closed:
                raise GatewayError("the SMPP gateway is closed")
            session = self._session
            if session is not None and session.alive:
                return session
            self._bound.clear()
            await self._bound.wait()

    async def _connect(self, attempts: int | None) -> None:
        """Bind (again) with exponential back-off; GatewayError after `attempts` failures."""
        delay = self.config.backoff
        tried = 0
        while not self._closed:
            tried += 1
            client = smpp34.Client(
                self.config.host,
                self.config.port,
                self.config.system_id,
                self.config.password,
                bind_type="TRX",
                system_type=self.config.system_type,
                window_size=self.config.window,
                inbound_capacity=max(INBOUND_CAPACITY, 64 * self.config.window),
                connect_timeout_ms=int(self.config.connect_timeout * 1000),
            )
            try:
                smsc = await client.connect()
            except smpp34.SmppError as error:
                await _stop(client)
                self.stats.bind_failures += 1
                self.stats.last_error = _describe(error)
                log.warning("SMPP bind to %s:%s failed: %s", *self._where(), error)
                if attempts is not None and tried >= attempts:
                    raise GatewayError(
                        f"could not bind to the SMSC at {self.config.host}:{self.config.port} "
                        f"as {self.config.system_id!r}: {_describe(error)} (check the host, "
                        "port, system_id and password: SANBUTING_SMPP_*)"
                    ) from error
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.config.backoff_max)
                continue
            if self._closed:
                await _stop(client)
                return
            if self.config.nodelay:
                set_nodelay(self.config.host, self.config.port)
            self._numbers += 1
            session = _Session(self._numbers, client, smsc)
            self._session = session
            self.stats.binds += 1
            session.readers = [self._spawn(self._read(session)) for _ in range(self._readers())]
            self._bound.set()
            return

    async def _read(self, session: _Session) -> None:
        """Take the session's inbound traffic (receipts) until it ends, then reconnect."""
        while session.alive:
            try:
                event = await session.smsc.next()
            except smpp34.SmppError as error:
                await self._lost(session, error)
                return
            if isinstance(event, smpp34.Disconnected):
                await self._lost(session, None)
                return
            self._inbound(event)

    def _inbound(self, event: smpp34.DeliverSmEvent) -> None:
        if event.esm_class & ESM_CLASS_TYPE_MASK != ESM_CLASS_RECEIPT:
            self.stats.inbound_other += 1
            return
        receipted: str | None = None
        state: int | None = None
        for tlv in event.tlvs:
            if tlv.tag == TLV_RECEIPTED_MESSAGE_ID:
                receipted = tlv.value.rstrip(b"\0").decode("latin-1") or None
            elif tlv.tag == TLV_MESSAGE_STATE:
                state = tlv.as_int()
        receipt = parse_receipt(event.short_message, receipted, state)
        if receipt is None:
            self.stats.inbound_other += 1
            return
        self.stats.receipts += 1
        if self.on_receipt is not None:
            self.on_receipt(receipt)

    async def _lost(self, session: _Session, error: BaseException | None) -> None:
        """The session ended (or a submit got no answer): drop it and bind again."""
        if not session.alive:
            return
        session.alive = False
        if self._session is session:
            self._session = None
            self._bound.clear()
        self.stats.last_error = _describe(error) if error is not None else "disconnected"
        log.warning("SMPP session %s to %s:%s ended: %s", session.number, *self._where(), error)
        current = asyncio.current_task()
        for reader in session.readers:
            if reader is not current:
                reader.cancel()
        await _stop(session.client)
        if not self._closed and (self._reconnecting is None or self._reconnecting.done()):
            self._reconnecting = self._spawn(self._connect(None))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _readers(self) -> int:
        """Receipt readers per session: each `next()` is one wake-up of the event loop, while
        a window of submits ends in one, so one reader falls behind a busy window."""
        return min(64, max(4, self.config.window // 2))

    def _where(self) -> tuple[str, int]:
        return self.config.host, self.config.port


async def _stop(client: smpp34.Client) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 2.0)


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
