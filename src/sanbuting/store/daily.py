"""`sanbuting daily`: the engine over the store, one decided day at a time.

For each company the engine runs over the store's accounts, bills, payments and usage from the
company's origin through the requested day, with the policies in force for the company (the
deployment-wide set and its own, `relief.policies`), exactly as `sanbuting
run` runs over files (so the decisions of a day never depend on how the days were batched).
Each day not yet run is then recorded in a transaction of its own: the run, its actions and
protection events, and an order in the outbox for every action. A day already recorded is
never decided again: re-running it changes nothing, and a crash loses at most the day being
written, which the next run writes. Orders are re-checked when dispatched
(`payments.recheck`), so a payment that lands after the run's read is never cut off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import ENFORCEMENT_ACTIONS, Utility, as_utc
from sanbuting.engine.buckets import Frames, automatic_buckets, run_in_buckets
from sanbuting.engine.fast import run_fast
from sanbuting.engine.frames import RunFrames, RunTables
from sanbuting.engine.parallel import default_workers, run_parallel
from sanbuting.errors import SanbutingError
from sanbuting.payments.orders import order_row, queue
from sanbuting.policy import Policy
from sanbuting.relief.policies import InForce, in_force
from sanbuting.rules import rulesets_by_utility
from sanbuting.store.companies import companies
from sanbuting.store.database import sessions
from sanbuting.store.frames import load_frames
from sanbuting.store.models import Account, Company, ProtectionEvent, Run, StoredAction

ONE_DAY = timedelta(days=1)
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


def last_run_day(session: Session, company: Company) -> date | None:
    return session.scalar(select(func.max(Run.day)).where(Run.company_id == company.id))


def _was_run(session: Session, company: Company, day: date) -> bool:
    query = select(Run.id).where(Run.company_id == company.id, Run.day == day)
    return session.scalar(query) is not None


def days_to_run(company: Company, last: date | None, through: date, *, single: bool) -> list[date]:
    """The days a run through `through` records (`single`: only `through`, which must be the
    next day, or a day run before)."""
    assert company.origin is not None
    first = company.origin if last is None else last + ONE_DAY
    if single:
        if last is not None and through <= last:
            return []
        if through != first:
            what = "its first day" if last is None else f"the next day after {last}"
            raise SanbutingError(
                f"{company.code}: {through} is not {what} ({first}); run "
                f"`sanbuting daily --through {through}` to run every day up to it"
            )
    if through < first:
        return []
    return [first + timedelta(days=n) for n in range((through - first).days + 1)]


def run_daily(
    *,
    engine: Engine,
    through: date,
    single: bool,
    now: Callable[[], datetime],
    engine_name: str = "fast",
    workers: int | None = None,
    on_day: Callable[[DayDone], None] | None = None,
) -> list[DayDone]:
    """Run every company through `through` (see the module docstring)."""
    done: list[DayDone] = []
    with sessions(engine).begin() as session:
        listed = companies(session)
    if not listed:
        raise SanbutingError("the store has no accounts yet: run `sanbuting db import DIR` first")
    for company in listed:
        with sessions(engine).begin() as session:
            last = last_run_day(session, company)
            days = days_to_run(company, last, through, single=single)
            if not days:
                done.append(DayDone(company.code, through, 0, 0, 0, already=True))
                continue
            frames = load_frames(session, [company.id])
            sets = in_force(session=session, company_id=company.id)
            found = session.execute(
                select(Account.account_id, Account.id).where(Account.company_id == company.id)
            )
            keys: dict[str, int] = dict(found.all())
        assert company.origin is not None
        result = decide(frames, list(sets.policies), company, days[-1], engine_name, workers)
        for day in days:
            recorded = _record_day(engine, company, day, result, keys, sets, engine_name, now())
            done.append(recorded)
            if on_day is not None:
                on_day(recorded)
    return done


def decide(
    frames: Frames,
    policies: list[Policy],
    company: Company,
    through: date,
    engine_name: str,
    workers: int | None,
) -> RunFrames:
    """The engine's decisions for the company's accounts from its origin through `through`."""
    assert company.origin is not None
    rulesets = rulesets_by_utility({Utility(company.utility): company.ruleset})
    if engine_name == "reference":
        return run_parallel(frames, policies, rulesets, company.origin, through, workers=workers)
    if engine_name != "fast":
        raise SanbutingError(f"engine {engine_name!r}: daily runs use fast or reference")
    threads = workers or default_workers()
    origin = company.origin
    return run_in_buckets(
        frames,
        automatic_buckets(frames[0].height),
        lambda bucket: run_fast(bucket, policies, rulesets, origin, through, threads),
    )


def _record_day(
    engine: Engine,
    company: Company,
    day: date,
    result: RunTables,
    keys: dict[str, int],
    sets: InForce,
    engine_name: str,
    now: datetime,
) -> DayDone:
    """Write one day in one transaction; a day another process wrote meanwhile is left as is."""
    actions = result.actions.filter(pl.col("date") == day)
    protections = result.protections.filter(pl.col("date") == day)
    try:
        with sessions(engine).begin() as session:
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
    except IntegrityError:
        with sessions(engine).begin() as session:
            if last_run_day(session, company) is None or not _was_run(session, company, day):
                raise
        return DayDone(company.code, day, 0, 0, 0, already=True)
    return DayDone(company.code, day, len(action_rows), len(protection_rows), orders)
