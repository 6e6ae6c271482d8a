"""What the sender hands a transport and gets back: `Outgoing` (one queued message),
`SubmitResult` (what became of its submit), `Receipt` (a delivery receipt, parsed from the
SMSC's `deliver_sm`), and the `Transport` protocol that the SMPP gateway and the file sink
both follow.

A transport's `submit` never raises for a message: it answers `sent` (the SMSC accepted every
segment and gave a message id), `refused` (the SMSC answered with an error status, so it holds
nothing of the segments not accepted: `segments_sent` says how many were) or `in_doubt` (a
submit got no answer: the connection dropped or the answer timed out, and the SMSC may or may
not have the message). Only `refused` with no segment sent may be sent again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

SENT_OUTCOME: Literal["sent"] = "sent"
REFUSED_OUTCOME: Literal["refused"] = "refused"
IN_DOUBT_OUTCOME: Literal["in_doubt"] = "in_doubt"
Outcome = Literal["sent", "refused", "in_doubt"]

ESME_ROK = 0x00
ESME_RSYSERR = 0x08
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RSUBMITFAIL = 0x45
STATUS_NAMES = {
    0x00: "ESME_ROK",
    0x01: "ESME_RINVMSGLEN",
    0x02: "ESME_RINVCMDLEN",
    0x03: "ESME_RINVCMDID",
    0x04: "ESME_RINVBNDSTS",
    0x05: "ESME_RALYBND",
    0x08: "ESME_RSYSERR",
    0x0A: "ESME_RINVSRCADR",
    0x0B: "ESME_RINVDSTADR",
    0x0C: "ESME_RINVMSGID",
    0x0D: "ESME_RBINDFAIL",
    0x0E: "ESME_RINVPASWD",
    0x0F: "ESME_RINVSYSID",
    0x14: "ESME_RMSGQFUL",
    0x45: "ESME_RSUBMITFAIL",
    0x58: "ESME_RTHROTTLED",
    0x61: "ESME_RINVSCHED",
    0x62: "ESME_RINVEXPIRY",
    0xFF: "ESME_RUNKNOWNERR",
}
TRANSIENT_STATUSES = frozenset({ESME_RSYSERR, ESME_RMSGQFUL, ESME_RTHROTTLED, ESME_RSUBMITFAIL})
"""Refusals worth another try later (the SMSC is busy or failing, not the message wrong)."""


def status_name(status: int) -> str:
    """`ESME_RTHROTTLED (0x58)` for 0x58."""
    return f"{STATUS_NAMES.get(status, 'status')} (0x{status:02x})"


@dataclass(frozen=True)
class Outgoing:
    """A message to submit: the queue row's id (its low byte is the concatenation
    reference), idempotency key (sent along in a TLV), phone and text."""

    id: int
    key: str
    phone: str
    text: str


@dataclass(frozen=True)
class SubmitResult:
    """What became of one message's submit (see the module)."""

    outcome: Outcome
    message_id: str | None = None
    """The SMSC's id of the first segment (the receipts name it)."""
    segments_sent: int = 0
    segment_ids: tuple[str, ...] = ()
    """The SMSC's ids of the segments it accepted, in order (a receipt comes for each)."""
    command_status: int | None = None
    error: str | None = None


FINAL_STATES = frozenset({"DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "REJECTD", "UNKNOWN"})
"""A receipt's `stat` values after which nothing more will come for the message."""
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
"""The `message_state` TLV's values as receipt `stat` words (SMPP 3.4 §5.3.2.35)."""
RECEIPT_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Receipt:
    """An SMSC delivery receipt: the message id it is for, its `stat` (DELIVRD, UNDELIV, ...)
    and `err` code."""

    message_id: str
    stat: str
    error: str | None = None

    @property
    def final(self) -> bool:
        return self.stat in FINAL_STATES

    @property
    def delivered(self) -> bool:
        return self.stat == "DELIVRD"


def parse_receipt(
    short_message: bytes,
    receipted_message_id: str | None = None,
    message_state: int | None = None,
) -> Receipt | None:
    """A receipt from a `deliver_sm`'s text (`id:... sub:... dlvrd:... submit date:...
    done date:... stat:DELIVRD err:000 text:...`) and its TLVs, which win where both are
    given; None when it names no message or no state."""
    fields: dict[str, str] = {}
    text = short_message.decode("latin-1")
    for name, value in RECEIPT_FIELD.findall(text.split(" text:")[0]):
        fields.setdefault(name.lower(), value)
    message_id = receipted_message_id or fields.get("id")
    stat = MESSAGE_STATES.get(message_state or 0) or fields.get("stat", "").upper()
    if not message_id or not stat:
        return None
    return Receipt(message_id=message_id, stat=stat, error=fields.get("err"))


OnReceipt = Callable[[Receipt], None]


class Transport(Protocol):
    """Where the sender submits messages: `start` connects (and may raise when it cannot),
    `submit` sends one (see the module), `close` lets go. Receipts go to the callback the
    transport was made with."""

    async def start(self) -> None: ...

    async def submit(self, message: Outgoing) -> SubmitResult: ...

    async def close(self) -> None: ...
