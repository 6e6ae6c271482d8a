"""Recorded days in the store: a company's runs, and writing one decided day in one
transaction (the run row, its actions and protection events, and an outbox order for every
action; a company that requires approval gets its enforcement orders `held`). A day another
process wrote meanwhile is left as it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import ENFORCEMENT_ACTIONS, as_utc
from sanbuting.engine.frames import RunTables
from sanbuting.store.database import sessions
from sanbuting.store.models import Account, Company, ProtectionEvent, Run, StoredAction
from sanbuting.store.outbox import order_row, queue
from sanbuting.store.policy_versions import InForce

ENFORCEMENT = frozenset(action.value for action in ENFORCEMENT_ACTIONS)


@dataclass(frozen=True)
class DayDone:
    company: str
    day: date
    actions: int
    protections: int
    orders: int
    already: bool = False
    """The day had been run before: nothing was written."""


def account_keys(session: Session, company: Company, account_ids: set[str]) -> dict[str, int]:
    """The store ids of these accounts of the company (the day's acting ones: a handful)."""
    keys: dict[str, int] = {}
    listed = sorted(account_ids)
    for offset in range(0, len(listed), 5_000):
        chunk = listed[offset : offset + 5_000]
        keys.update(
            session.execute(
                select(Account.account_id, Account.id).where(
                    Account.company_id == company.id, Account.account_id.in_(chunk)
                )
            ).all()
        )
    return keys


def last_run_day(session: Session, company: Company) -> date | None:
    return session.scalar(select(func.max(Run.day)).where(Run.company_id == company.id))


def was_run(session: Session, company: Company, day: date) -> bool:
    query = select(Run.id).where(Run.company_id == company.id, Run.day == day)
    return session.scalar(query) is not None


def record_day(
    engine: Engine,
    company: Company,
    day: date,
    result: RunTables,
    sets: InForce,
    engine_name: str,
    now: datetime,
    then: Callable[[Session, int], None] | None = None,
) -> DayDone:
    """Write one day in one transaction; a day another process wrote meanwhile is left as is.
    `then(session, run_id)` writes more in the same transaction (the day's checkpoint)."""
    actions = result.actions.filter(pl.col("date") == day)
    protections = result.protections.filter(pl.col("date") == day)
    try:
        with sessions(engine).begin() as session:
            keys = account_keys(
                session,
                company,
                {*actions["account_id"].to_list(), *protections["account_id"].to_list()},
            )
            run = Run(
                company_id=company.id,
                day=day,
                policy_version=sets.deployment.id if sets.deployment else None,
                company_policy_version=sets.own.id if sets.own else None,
                engine=engine_name,
                finished_at=as_utc(now),
            )
            session.add(run)
            session.flush()
            action_rows = [
                {
                    "run": run.id,
                    "day": day,
                    "account": keys[r["account_id"]],
                    "action": str(r["action"]),
                    "step": r["step"],
                    "bill_id": r["bill_id"] or "",
                    "policy_id": r["policy_id"] or "",
                }
                for r in actions.iter_rows(named=True)
            ]
            if action_rows:
                session.execute(insert(StoredAction), action_rows)
            protection_rows = [
                {
                    "run": run.id,
                    "day": day,
                    "account": keys[r["account_id"]],
                    "policy_id": r["policy_id"],
                    "kind": r["kind"],
                    "prevented_action": str(r["prevented_action"]),
                    "deferred_to": r["deferred_to"],
                }
                for r in protections.iter_rows(named=True)
            ]
            if protection_rows:
                session.execute(insert(ProtectionEvent), protection_rows)
            orders = queue(
                session,
                [
                    order_row(
                        company=company,
                        account=keys[r["account_id"]],
                        account_id=r["account_id"],
                        day=day,
                        action=str(r["action"]),
                        step=r["step"],
                        bill_id=r["bill_id"] or "",
                        policy_id=r["policy_id"] or "",
                        now=now,
                        held=company.requires_approval and str(r["action"]) in ENFORCEMENT,
                    )
                    for r in actions.iter_rows(named=True)
                ],
            )
            if then is not None:
                then(session, run.id)
    except IntegrityError:
        with sessions(engine).begin() as session:
            if last_run_day(session, company) is None or not was_run(session, company, day):
                raise
        return DayDone(company.code, day, 0, 0, 0, already=True)
    return DayDone(company.code, day, len(action_rows), len(protection_rows), orders)
