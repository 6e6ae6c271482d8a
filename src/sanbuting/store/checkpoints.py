"""Checkpoints in the store: the engine's state after a recorded day, kept as two Arrow IPC
tables (zstd) in the `checkpoints` table, written in the same transaction as the day's run, so
that a crash never leaves a checkpoint without its day or a day without what follows it.

A checkpoint stands for one company and day with the policies and rules it was made with
(`engine.fast.checkpoint.fingerprint`); another policy set makes it useless and the next run
starts from the origin again. Rows that arrive dated on or before a checkpoint's day (a
back-dated payment, an import of old bills or usage, a new account) make their accounts
*dirty*: the next run derives those accounts again from the newest older checkpoint that is
not stale for them (no mark for a row dated on or before its day was made after it was saved),
from the origin when none is, and the others from the checkpoint (accounts are independent).
Writers mark what they change (`mark_dirty`) while holding the company's row in share mode,
and a checkpoint is saved holding it exclusively, so a payment is either seen by the run that
writes the checkpoint or sees the checkpoint and marks its account. The last `KEEP`
checkpoints of a company are kept.

Keyword-only where it writes; the caller owns the transaction.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.engine.fast.checkpoint import Checkpoint
from sanbuting.store.models import Checkpoint as StoredCheckpoint
from sanbuting.store.models import CheckpointDirty, Company

KEEP = 3
"""Checkpoints kept per company (the newest)."""


def _blob(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="zstd")
    return buffer.getvalue()


def _frame(blob: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(blob))


def lock_company(session: Session, company_id: int, *, exclusive: bool) -> None:
    """Hold the company's row: shared by writers of rows, exclusive while saving a
    checkpoint (PostgreSQL; SQLite's single writer orders them anyway)."""
    query = select(Company.id).where(Company.id == company_id)
    session.execute(query.with_for_update(read=not exclusive)).all()


def latest_day(session: Session, company_id: int) -> date | None:
    """The day of the company's newest checkpoint."""
    return session.scalar(
        select(func.max(StoredCheckpoint.day)).where(StoredCheckpoint.company_id == company_id)
    )


def load(session: Session, company_id: int, day: date) -> Checkpoint | None:
    """The company's checkpoint of `day`, if there is one."""
    stored = session.scalar(
        select(StoredCheckpoint).where(
            StoredCheckpoint.company_id == company_id, StoredCheckpoint.day == day
        )
    )
    if stored is None:
        return None
    return Checkpoint(stored.day, stored.fingerprint, _frame(stored.accounts), _frame(stored.bills))


def save(
    *, session: Session, company_id: int, run: int, checkpoint: Checkpoint, now: datetime
) -> None:
    """Keep `checkpoint` (tied to the run row of its day) and drop all but the newest `KEEP`."""
    marks = select(func.coalesce(func.max(CheckpointDirty.id), 0)).where(
        CheckpointDirty.company_id == company_id
    )
    session.add(
        StoredCheckpoint(
            company_id=company_id,
            day=checkpoint.day,
            run=run,
            fingerprint=checkpoint.fingerprint,
            accounts=_blob(checkpoint.accounts),
            bills=_blob(checkpoint.bills),
            created_at=as_utc(now),
            marks_through=int(session.scalar(marks) or 0),
        )
    )
    session.flush()
    mine = select(StoredCheckpoint.id).where(StoredCheckpoint.company_id == company_id)
    newest = mine.order_by(StoredCheckpoint.day.desc()).limit(KEEP)
    session.execute(
        delete(StoredCheckpoint).where(
            StoredCheckpoint.company_id == company_id,
            StoredCheckpoint.id.not_in(newest.scalar_subquery()),
        )
    )
    oldest = select(func.min(StoredCheckpoint.marks_through)).where(
        StoredCheckpoint.company_id == company_id
    )
    session.execute(  # cleared marks no kept checkpoint is older than
        delete(CheckpointDirty).where(
            CheckpointDirty.company_id == company_id,
            CheckpointDirty.cleared.is_(True),
            CheckpointDirty.id <= oldest.scalar_subquery(),
        )
    )


def mark_dirty(*, session: Session, company_id: int, accounts: Iterable[tuple[str, date]]) -> int:
    """Mark accounts whose rows dated `since` arrived after the company's newest checkpoint
    of a day on or after `since` (nothing to mark without one). The caller holds the company
    row shared (`lock_company`). Returns the accounts marked."""
    return insert_marks(
        session=session,
        company_id=company_id,
        newest=latest_day(session, company_id),
        accounts=accounts,
    )


def insert_marks(
    *,
    session: Session,
    company_id: int,
    newest: date | None,
    accounts: Iterable[tuple[str, date]],
) -> int:
    """`mark_dirty` when the day of the company's newest checkpoint is known (read under the
    company row held shared)."""
    if newest is None:
        return 0
    rows = [
        {"company_id": company_id, "account_id": account_id, "since": since}
        for account_id, since in accounts
        if since <= newest
    ]
    if rows:
        session.execute(insert(CheckpointDirty), rows)
    return len(rows)


def dirty(session: Session, company_id: int) -> tuple[list[int], set[str]]:
    """The company's dirty marks not yet derived again: their row ids (to clear exactly
    these) and accounts."""
    found = session.execute(
        select(CheckpointDirty.id, CheckpointDirty.account_id).where(
            CheckpointDirty.company_id == company_id, CheckpointDirty.cleared.is_(False)
        )
    ).all()
    return [row_id for row_id, _ in found], {account for _, account in found}


def clear_dirty(session: Session, ids: Sequence[int]) -> None:
    """Clear the marks a run has derived again (marks made meanwhile stay). A cleared mark is
    kept while a checkpoint older than it is kept: it still says that checkpoint is stale."""
    for offset in range(0, len(ids), 5_000):
        chunk = list(ids[offset : offset + 5_000])
        session.execute(
            update(CheckpointDirty).where(CheckpointDirty.id.in_(chunk)).values(cleared=True)
        )


@dataclass(frozen=True, slots=True)
class Kept:
    """A kept checkpoint, without its tables."""

    day: date
    fingerprint: str
    marks_through: int


def kept(session: Session, company_id: int) -> list[Kept]:
    """The company's kept checkpoints, newest first."""
    rows = session.execute(
        select(StoredCheckpoint.day, StoredCheckpoint.fingerprint, StoredCheckpoint.marks_through)
        .where(StoredCheckpoint.company_id == company_id)
        .order_by(StoredCheckpoint.day.desc())
    ).all()
    return [Kept(day, fingerprint, marks) for day, fingerprint, marks in rows]


def stale_in(session: Session, company_id: int, checkpoint: Kept) -> set[str]:
    """The accounts `checkpoint` is stale for: marked, after it was saved, for rows dated on
    or before its day (cleared or not)."""
    return set(
        session.scalars(
            select(CheckpointDirty.account_id).where(
                CheckpointDirty.company_id == company_id,
                CheckpointDirty.id > checkpoint.marks_through,
                CheckpointDirty.since <= checkpoint.day,
            )
        )
    )
