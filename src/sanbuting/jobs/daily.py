"""`sanbuting daily`: the engine over the store, one decided day at a time, at the cost of the
day rather than of the history.

For each company the days not yet recorded are decided exactly as `sanbuting run` over files
would decide them from the company's origin with the policies in force (the deployment-wide
set and its own, `store.policy_versions`), and each day is recorded in a transaction of its own
(`store.runs.record_day`): the run, its actions and protection events, an outbox order for
every action. A day already recorded is never decided again; a crash loses at most the day
being written, which the next run writes. Orders are re-checked when dispatched, so a payment
that lands after the run's read is never cut off.

**Checkpoints.** The last day a run records is written with a checkpoint of every account's
state (`engine.fast.checkpoint`, `store.checkpoints`). The next run resumes from it: it reads
the checkpoint and only the rows dated after its day, and decides the new days. Accounts
whose earlier rows changed since (a back-dated payment, an import) are derived again, alone,
from the newest older checkpoint that does not depend on the change, or from the origin (and
new accounts from the origin); another policy set, or a company too large or too odd
for one run (amounts near the 64-bit limit), runs from the origin. Either way the decisions
are those of the run from the origin (`tests/test_checkpoints.py`, `tests/test_store_export.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import polars as pl
from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import Utility, as_utc, local_date, local_midnight, read_utc
from sanbuting.engine.buckets import Frames
from sanbuting.engine.fast import _max_ppm, _risky_accounts
from sanbuting.engine.fast.checkpoint import Advanced, Checkpoint, fingerprint
from sanbuting.engine.frames import RunTables
from sanbuting.engine.registry import Options, engine_named
from sanbuting.errors import SanbutingError
from sanbuting.jobs.books_forward import Forwarded, bring_forward
from sanbuting.jobs.rederive import derived_again
from sanbuting.policy import Policy
from sanbuting.rules import rulesets_by_utility
from sanbuting.rules.schema import Ruleset
from sanbuting.store import checkpoints
from sanbuting.store.companies import companies
from sanbuting.store.database import sessions
from sanbuting.store.held_frames import load_run_frames
from sanbuting.store.models import Account, Bill, Company, Payment, Usage
from sanbuting.store.policy_versions import in_force
from sanbuting.store.runs import DayDone, last_run_day, record_day

ONE_DAY = timedelta(days=1)
ONE_RUN_ACCOUNTS = 2_000_000
"""Above this many accounts a company runs from the origin bucket by bucket, unchecked."""
REDERIVE_SHARE = 0.3
"""When more than this share of the accounts is dirty, one run from the origin is cheaper."""


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
    buckets: int | None = None,
    work: Path | None = None,
    on_forward: Callable[[Forwarded], None] | None = None,
    forwarding: Callable[[str, int, int], None] | None = None,
) -> list[DayDone]:
    """Run every company through `through` (see the module docstring); `workers`, `buckets`
    and `work` as the engine's `Options` say (`work`: on Spark, storage every executor
    reads). After a company's days are recorded, its stale open books are brought forward
    (`jobs.books_forward`; `forwarding` hears the company, the accounts done and in all as it
    goes, `on_forward` what was done)."""
    options = Options(workers=workers, buckets=buckets, work=work)
    with sessions(engine).begin() as session:
        listed = companies(session)
    if not listed:
        raise SanbutingError("the store has no accounts yet: run `sanbuting db import DIR` first")
    done: list[DayDone] = []
    for company in listed:
        mine = _company(engine, company, through, single, now, engine_name, options, on_day)
        done.extend(mine)
        recorded = [d.day for d in mine if not d.already]
        if recorded:
            forwarded = bring_forward(
                engine=engine,
                company=company,
                last=max(recorded),
                now=now,
                on_chunk=None if forwarding is None else partial(forwarding, company.code),
            )
            if on_forward is not None:
                on_forward(forwarded)
    return done


@dataclass
class _Seen:
    """The rows a run read dated after `base` (all, when `base` is None) and on or before the
    day its checkpoint is of: looked for again when the checkpoint is saved, since rows that
    arrived meanwhile are not in it."""

    base: date | None
    payments: set[str]
    bills: set[str]
    usage: set[tuple[str, date]]

    @classmethod
    def of(cls, base: date | None, frames: Frames, last: date) -> _Seen:
        _, bills, payments, usage = frames
        return cls(
            base,
            set(payments.filter(pl.col("paid_on") <= last)["payment_id"].to_list()),
            set(bills.filter(pl.col("issued_on") <= last)["bill_id"].to_list()),
            set(usage.filter(pl.col("date") <= last).select("account_id", "date").iter_rows()),
        )


@dataclass
class Plan:
    """A run that will leave a checkpoint: where it goes on from (a checkpoint, or the origin
    when None), the rows it reads, what it read, and the dirty marks it derived again."""

    saved: Checkpoint | None
    frames: Frames
    seen: _Seen
    dirty_ids: list[int]

    def advance(
        self,
        company: Company,
        policies: list[Policy],
        rulesets: dict[Utility, Ruleset],
        through: date,
        engine_name: str,
        options: Options,
    ) -> Advanced:
        """The engine's advance through `through` (`engine.registry`: one door)."""
        assert company.origin is not None
        chosen = engine_named(engine_name)
        return chosen.advance(
            self.saved, self.frames, policies, rulesets, company.origin, through, options
        )


def _company(
    engine: Engine,
    company: Company,
    through: date,
    single: bool,
    now: Callable[[], datetime],
    engine_name: str,
    options: Options,
    on_day: Callable[[DayDone], None] | None,
) -> list[DayDone]:
    assert company.origin is not None
    resumes = engine_named(engine_name).resumes
    with sessions(engine).begin() as session:
        last = last_run_day(session, company)
        days = days_to_run(company, last, through, single=single)
        if not days:
            return [DayDone(company.code, through, 0, 0, 0, already=True)]
        sets = in_force(session=session, company_id=company.id)
        policies = list(sets.policies)
        rulesets = rulesets_by_utility({Utility(company.utility): company.ruleset})
        plan = None
        if resumes and last is not None:
            plan = resumed_plan(session, company, last, days[-1], policies, rulesets)
        frames = (
            None
            if plan is not None
            else load_run_frames(session, [company.id], rulesets, until=days[-1])
        )
    if plan is None and frames is not None and resumes:
        plan = _from_origin(company, frames, policies, rulesets, days[-1], engine_name)
    made = None
    if plan is not None:
        advanced = plan.advance(company, policies, rulesets, days[-1], engine_name, options)
        result: RunTables = advanced.tables
        made = advanced.checkpoint
    else:
        assert frames is not None
        result = decide(frames, policies, company, days[-1], engine_name, options)
    done = []
    for day in days:
        then = None
        if plan is not None and made is not None and day == days[-1]:
            then = _saver(company, plan, made, day, now())
        recorded = record_day(engine, company, day, result, sets, engine_name, now(), then=then)
        done.append(recorded)
        if on_day is not None:
            on_day(recorded)
    return done


def _from_origin(
    company: Company,
    frames: Frames,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    through: date,
    engine_name: str,
) -> Plan | None:
    """A run from the origin that will leave a checkpoint, if the company suits one (on Spark
    any size does: every bucket is a task)."""
    accounts = frames[0]
    too_odd = _risky_accounts(frames, through, _max_ppm(rulesets)).len() > 0
    too_large = accounts.height > ONE_RUN_ACCOUNTS and engine_name != "spark"
    if too_large or too_odd or len(policies) > 62:
        return None
    return Plan(None, frames, _Seen.of(None, frames, through), [])


def resumed_plan(
    session: Session,
    company: Company,
    last: date,
    through: date,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
) -> Plan | None:
    """A run resumed from the checkpoint of `last`, with its dirty and new accounts derived
    again; None when there is no such checkpoint for these policies."""
    saved = checkpoints.load(session, company.id, last)
    if saved is None or saved.fingerprint != fingerprint(policies, rulesets):
        return None
    dirty_ids, again = checkpoints.dirty(session, company.id)
    stored = session.scalar(
        select(func.count()).select_from(Account).where(Account.company_id == company.id)
    )
    if stored != saved.accounts.height:  # accounts are never removed: new ones came
        every = session.scalars(select(Account.account_id).where(Account.company_id == company.id))
        again |= set(every) - set(saved.accounts["account_id"].to_list())
    if len(again) > REDERIVE_SHARE * max(saved.accounts.height, 1):
        return None
    if again:
        saved = derived_again(session, company, saved, again, policies, rulesets, last)
    later = load_run_frames(session, [company.id], rulesets, after=last, until=through)
    return Plan(saved, later, _Seen.of(last, later, through), dirty_ids)


def _saver(
    company: Company, plan: Plan, made: Checkpoint, day: date, now: datetime
) -> Callable[[Session, int], None]:
    """Write the checkpoint of `day` in that day's transaction, holding the company's row, and
    mark the accounts of rows dated on or before `day` that the run did not read."""

    def save(session: Session, run_id: int) -> None:
        checkpoints.lock_company(session, company.id, exclusive=True)
        checkpoints.save(
            session=session, company_id=company.id, run=run_id, checkpoint=made, now=now
        )
        unseen = _unseen(session, company, plan.seen, day)
        if unseen:
            checkpoints.mark_dirty(session=session, company_id=company.id, accounts=unseen)
        checkpoints.clear_dirty(session, plan.dirty_ids)

    return save


def _unseen(session: Session, company: Company, seen: _Seen, day: date) -> list[tuple[str, date]]:
    """Accounts with rows dated (after `seen.base` and) on or before `day` that the run did
    not read (they arrived while it ran), with the day of each such row. Rows are never
    deleted, so a table whose count is what the run read has nothing new."""
    first = seen.base + ONE_DAY if seen.base is not None else None
    found: list[tuple[str, date]] = []
    paid = [
        Payment.company_id == company.id,
        Payment.paid_at < as_utc(local_midnight(day + ONE_DAY)),
    ]
    if first is not None:
        paid.append(Payment.paid_at >= as_utc(local_midnight(first)))
    if _count(session, Payment, paid) != len(seen.payments):
        payments = session.execute(
            select(Payment.key, Account.account_id, Payment.paid_at)
            .join(Account, Account.id == Payment.account)
            .where(*paid)
        ).all()
        found.extend(
            (a, local_date(read_utc(at))) for k, a, at in payments if k not in seen.payments
        )
    issued = [Bill.company_id == company.id, Bill.issued_on <= day]
    if first is not None:
        issued.append(Bill.issued_on >= first)
    if _count(session, Bill, issued) != len(seen.bills):
        bills = session.execute(
            select(Bill.bill_id, Account.account_id, Bill.issued_on)
            .join(Account, Account.id == Bill.account)
            .where(*issued)
        ).all()
        found.extend((a, on) for b, a, on in bills if b not in seen.bills)
    used = [Usage.company_id == company.id, Usage.day <= day]
    if first is not None:
        used.append(Usage.day >= first)
    if _count(session, Usage, used) != len(seen.usage):
        usage = session.execute(
            select(Account.account_id, Usage.day)
            .join(Account, Account.id == Usage.account)
            .where(*used)
        ).all()
        found.extend((a, on) for a, on in usage if (a, on) not in seen.usage)
    return found


def _count(
    session: Session,
    model: type[Payment] | type[Bill] | type[Usage],
    conditions: list[ColumnElement[bool]],
) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def decide(
    frames: Frames,
    policies: list[Policy],
    company: Company,
    through: date,
    engine_name: str,
    options: Options | None = None,
) -> RunTables:
    """The engine's decisions for the company's accounts from its origin through `through`."""
    assert company.origin is not None
    rulesets = rulesets_by_utility({Utility(company.utility): company.ruleset})
    chosen = engine_named(engine_name)
    return chosen.run(frames, policies, rulesets, company.origin, through, options or Options())
