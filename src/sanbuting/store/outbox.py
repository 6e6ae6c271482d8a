"""Orders in the outbox: the row of one action (its key names it for good, so the daily run,
a payment and a retry never make two), and adding rows whose keys are not there yet."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc
from sanbuting.store.models import HELD, PENDING, Company, OutboxItem


def order_key(company: str, action: str, account_id: str, day: date, bill_id: str = "") -> str:
    parts = [company, action, account_id, day.isoformat()]
    return ":".join([*parts, bill_id] if bill_id else parts)


def order_row(
    *,
    company: Company,
    account: int,
    account_id: str,
    day: date,
    action: str,
    step: str,
    bill_id: str = "",
    policy_id: str = "",
    now: datetime,
    source: str = "daily",
    held: bool = False,
) -> dict[str, Any]:
    """An outbox row for one action (`held`: waiting for a supervisor's release)."""
    payload = {
        "company": company.code,
        "account_id": account_id,
        "day": day.isoformat(),
        "action": action,
        "step": step,
        "bill_id": bill_id,
        "policy_id": policy_id,
        "source": source,
    }
    return {
        "company_id": company.id,
        "key": order_key(company.code, action, account_id, day, bill_id),
        "kind": action,
        "account": account,
        "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
        "status": HELD if held else PENDING,
        "attempts": 0,
        "next_attempt_at": as_utc(now),
        "created_at": as_utc(now),
        "day": day,
    }


def queue(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Add the outbox rows whose keys are not there yet (a concurrent writer's row with the
    same key wins quietly); returns how many this call found missing."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    added = 0
    for offset in range(0, len(rows), 5_000):
        chunk = list(rows[offset : offset + 5_000])
        keys = [row["key"] for row in chunk]
        present = set(session.scalars(select(OutboxItem.key).where(OutboxItem.key.in_(keys))))
        missing = [row for row in chunk if row["key"] not in present]
        if missing:
            statement = build(OutboxItem).on_conflict_do_nothing(index_elements=["key"])
            session.execute(statement, missing)
        added += len(missing)
    return added
