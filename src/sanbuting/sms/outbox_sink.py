"""The dispatcher's SMS sink: an outbox order of kind `sms` (a sign-in code, or any text a
decision queued as an order: payload `{"phone", "text", "purpose"}`) goes into the SMS queue
(`sms.queue.enqueue`) under the order's own key, in the dispatcher's transaction for that row,
so the order is marked done and the message queued together or not at all. Other orders go to
the sink it wraps. `sanbuting sms send` then submits the queue to the SMSC."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import object_session

from sanbuting.dispatch.sinks import Sink
from sanbuting.sms.queue import enqueue
from sanbuting.store.models import OutboxItem

SMS_KIND = "sms"
CATEGORY_OF = {"signin": "sign_in", "sign_in": "sign_in", "emergency": "emergency"}
"""The queue category of an `sms` order's `purpose` (essential when it names none of these)."""


class SmsQueueSink:
    """A `Sink` that queues `sms` orders (see the module) and passes the rest to `other`.

    It deduplicates when `other` does: queueing a key twice queues it once."""

    def __init__(
        self, other: Sink, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.other = other
        self.now = now
        self.deduplicates = other.deduplicates

    def send(self, item: OutboxItem) -> None:
        if item.kind != SMS_KIND:
            self.other.send(item)
            return
        session = object_session(item)
        if session is None:
            raise RuntimeError("an sms order is queued in the dispatcher's transaction: none")
        payload = json.loads(item.payload)
        enqueue(
            session,
            company_id=item.company_id,
            key=item.key,
            phone=str(payload["phone"]),
            text=str(payload["text"]),
            category=CATEGORY_OF.get(str(payload.get("purpose", "")), "essential"),
            now=self.now(),
        )
