"""The sender's transactions on `sms_messages`: `recover` (rows left `sending` by a sender
that died become `unknown`), and `step`, one transaction a round: `record_in` (submit results
and delivery receipts), then `claim_in` (due `queued` rows become `sending`, committed before
any is submitted).

Claims take the most urgent first: sign-in codes, then emergencies, essential notices, and
the rest, each in id order. A claim locks its rows with `FOR UPDATE SKIP LOCKED` on
PostgreSQL; on SQLite its transaction holds the database's write lock (`BEGIN IMMEDIATE`).
Every time written is UTC (`domain.as_utc`), as the SQLite comparisons need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, case, or_, select, text, update
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.sms.transport import TRANSIENT_STATUSES, Outgoing, Receipt, SubmitResult
from sanbuting.store.sms_models import (
    DELIVERED,
    FAILED,
    QUEUED,
    SENDING,
    SENT,
    UNKNOWN,
    SmsMessage,
)

STOPPED_WHILE_SENDING = (
    "the sender stopped while submitting it: the SMSC may or may not have it, and it is never "
    "submitted twice"
)
URGENCY = case(
    {"sign_in": 0, "emergency": 1, "essential": 2},
    value=SmsMessage.category,
    else_=3,
)
MAX_DELAY = timedelta(hours=1)
ERROR_LENGTH = 500


@dataclass(frozen=True)
class Claimed:
    """A claimed row: what to submit, and how many times it has been claimed (this time
    included)."""

    message: Outgoing
    attempts: int


@dataclass(frozen=True)
class Recorded:
    """What `record` did: rows sent, failed, unknown (in doubt) and queued again; receipts
    applied; and the receipts that matched no sent row (yet)."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0
    requeued: int = 0
    delivered: int = 0
    undelivered: int = 0
    unmatched: tuple[Receipt, ...] = ()


def recover(engine: Engine) -> int:
    """Mark every `sending` row `unknown` (see the module); how many there were. Call it only
    as the one sender (`sender.sole_sender`)."""
    with Session(engine) as session, session.begin():
        _write_lock(session)
        result = session.execute(
            update(SmsMessage)
            .where(SmsMessage.status == SENDING)
            .values(status=UNKNOWN, error=STOPPED_WHILE_SENDING)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def step(
    engine: Engine,
    results: Sequence[tuple[Claimed, SubmitResult]],
    receipts: Sequence[Receipt],
    limit: int,
    now: datetime,
    *,
    max_attempts: int,
    base_delay: timedelta,
) -> tuple[Recorded, list[Claimed]]:
    """Record `results` and `receipts` (`record_in`), then claim up to `limit` due rows
    (`claim_in`), in one transaction: one commit a round, however many rows."""
    moment = as_utc(now)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        _write_lock(session)
        recorded = record_in(
            session, results, receipts, moment, max_attempts=max_attempts, base_delay=base_delay
        )
        claimed = claim_in(session, limit, moment) if limit > 0 else []
    return recorded, claimed


def claim_in(session: Session, limit: int, moment: datetime) -> list[Claimed]:
    """Up to `limit` due `queued` rows, most urgent first, marked `sending` (committed by the
    caller before any is submitted)."""
    rows = session.execute(
        select(SmsMessage.id, SmsMessage.key, SmsMessage.phone, SmsMessage.text)
        .add_columns(SmsMessage.attempts)
        .where(SmsMessage.status == QUEUED, SmsMessage.not_before <= moment)
        .order_by(URGENCY, SmsMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    session.execute(
        update(SmsMessage)
        .where(SmsMessage.id.in_([row.id for row in rows]))
        .values(status=SENDING, attempts=SmsMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return [
        Claimed(Outgoing(row.id, row.key, row.phone, row.text), row.attempts + 1) for row in rows
    ]


def record_in(
    session: Session,
    results: Sequence[tuple[Claimed, SubmitResult]],
    receipts: Sequence[Receipt],
    moment: datetime,
    *,
    max_attempts: int,
    base_delay: timedelta,
) -> Recorded:
    """Record submit results, then receipts.

    `sent` → status sent with the SMSC's id; `in_doubt` → unknown; `refused` with nothing
    accepted and a transient status → queued again after a back-off (failed after
    `max_attempts` claims); any other refusal → failed. A final receipt makes a sent row
    delivered (DELIVRD) or failed (others); an intermediate one only sets `receipt_status`.
    Rows are written in batches of one statement (executemany) per shape of change.
    """
    counts = {"sent": 0, "failed": 0, "unknown": 0, "requeued": 0}
    changes: list[dict[str, object]] = []
    for claimed, result in results:
        settled, outcome = _settled(claimed, result, moment, max_attempts, base_delay)
        counts[outcome] += 1
        changes.append({"id": claimed.message.id, **settled})
    _update_many(session, changes, (SENDING,))
    matched = _ids_of(session, [receipt.message_id for receipt in receipts])
    delivered = undelivered = 0
    unmatched: list[Receipt] = []
    changes = []
    for receipt in receipts:
        ids = matched.get(receipt.message_id, [])
        if not ids:
            unmatched.append(receipt)
            continue
        values: dict[str, object] = {"receipt_status": receipt.stat[:16]}
        if receipt.final:
            values["status"] = DELIVERED if receipt.delivered else FAILED
            if receipt.delivered:
                values["delivered_at"] = moment
                delivered += 1
            else:
                values["error"] = f"receipt: {receipt.stat} err:{receipt.error or '-'}"
                undelivered += 1
        changes.extend({"id": row_id, **values} for row_id in ids)
    _update_many(session, changes, (SENT, DELIVERED, FAILED))
    return Recorded(
        **counts, delivered=delivered, undelivered=undelivered, unmatched=tuple(unmatched)
    )


def _ids_of(session: Session, message_ids: Sequence[str]) -> dict[str, list[int]]:
    """The rows carrying each SMSC message id."""
    found: dict[str, list[int]] = {}
    unique = sorted(set(message_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        for smsc_id, row_id in session.execute(
            select(SmsMessage.smsc_message_id, SmsMessage.id).where(
                SmsMessage.smsc_message_id.in_(chunk)
            )
        ):
            found.setdefault(str(smsc_id), []).append(row_id)
    return found


def _update_many(
    session: Session, changes: Sequence[dict[str, object]], statuses: tuple[str, ...]
) -> None:
    """Apply each change (`id` and new values) to its row if its status is one of
    `statuses`: one executemany per set of columns changed."""
    shapes: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for change in changes:
        columns = tuple(sorted(name for name in change if name != "id"))
        shapes.setdefault(columns, []).append(
            {"row_id": change["id"], **{f"new_{name}": change[name] for name in columns}}
        )
    table = SmsMessage.__table__
    for columns, params in shapes.items():
        statement = (
            table.update()  # type: ignore[attr-defined]
            .where(
                table.c.id == bindparam("row_id"),
                or_(*(table.c.status == status for status in statuses)),  # not IN: executemany
            )
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        session.execute(statement, params)


def _settled(
    claimed: Claimed,
    result: SubmitResult,
    moment: datetime,
    max_attempts: int,
    base_delay: timedelta,
) -> tuple[dict[str, object], str]:
    """The row's new values for `result`, and which count it adds to."""
    error = (result.error or "")[:ERROR_LENGTH] or None
    if result.outcome == "sent":
        values: dict[str, object] = {
            "status": SENT,
            "smsc_message_id": result.message_id,
            "sent_at": moment,
            "error": None,
        }
        return values, "sent"
    if result.outcome == "in_doubt":
        return {"status": UNKNOWN, "smsc_message_id": result.message_id, "error": error}, "unknown"
    transient = result.command_status in TRANSIENT_STATUSES or result.command_status is None
    if result.segments_sent == 0 and transient and claimed.attempts < max_attempts:
        delay = min(base_delay * 2 ** (claimed.attempts - 1), MAX_DELAY)
        return {"status": QUEUED, "not_before": moment + delay, "error": error}, "requeued"
    return {"status": FAILED, "smsc_message_id": result.message_id, "error": error}, "failed"


def requeue(engine: Engine, ids: Sequence[int]) -> None:
    """Put claimed rows that were never submitted back in the queue (the sender stopping)."""
    if not ids:
        return
    with Session(engine) as session, session.begin():
        _write_lock(session)
        session.execute(
            update(SmsMessage)
            .where(SmsMessage.id.in_(list(ids)), SmsMessage.status == SENDING)
            .values(status=QUEUED, attempts=SmsMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )


def _write_lock(session: Session) -> None:
    """On SQLite, begin with the write lock unless the engine already does (`make_engine`)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    driver = session.connection().connection.dbapi_connection
    if not getattr(driver, "in_transaction", False):
        session.execute(text("BEGIN IMMEDIATE"))
