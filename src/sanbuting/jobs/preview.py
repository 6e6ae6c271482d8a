"""The dunning proposal: what a day's run would record, before anything is recorded.

For each company whose day `day` is not recorded yet, the engine the daily run uses decides
the company's accounts through `day` with the policies in force, from the checkpoint of its
last recorded day as the daily run resumes (from the origin when it would), exactly what
`daily` would decide for that day if nothing else arrives meanwhile; and every action dated
`day` becomes a proposed row: `account_id, action, step, bill_id, policy_id, reason`, and the
company. The reason is the sentence `sanbuting explain` tells for that action (its bill, how
long overdue, the notice served…), in Chinese or English. Nothing is written.

The reasons come from the reference engine's story of each acting account (the engines are
held equal by the property tests): a handful of milliseconds per account, so a day of a few
thousand actions is told in seconds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.engine.frames import RunTables
from sanbuting.engine.registry import Options, engine_named
from sanbuting.engine.simulate import accounts_from_frames
from sanbuting.explain.account import Acting, acting_on
from sanbuting.explain.catalogue import TEXT, Lang
from sanbuting.jobs.daily import decide, resumed_plan
from sanbuting.rules import rulesets_by_utility
from sanbuting.store.companies import companies
from sanbuting.store.database import sessions
from sanbuting.store.held_frames import load_run_frames
from sanbuting.store.models import Company
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.runs import account_keys, last_run_day

COLUMNS = ("account_id", "action", "step", "bill_id", "policy_id", "reason", "company")


@dataclass(frozen=True, slots=True)
class Proposed:
    account_id: str
    action: str
    step: str
    bill_id: str
    policy_id: str
    reason: str
    company: str
    arrears_fen: int = 0
    """The account's arrears at the end of the day (not in the CSV: for worklists)."""
    days_overdue: int | None = None
    """How long the row's bill, or the ladder's oldest open overdue bill, is overdue."""


@dataclass(frozen=True)
class Proposal:
    day: date
    rows: list[Proposed]
    recorded: list[str]
    """Companies whose day `day` is recorded already (nothing proposed for them)."""

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in self.rows:
            writer.writerow([getattr(row, column) for column in COLUMNS])
        return out.getvalue()

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.csv(), encoding="utf-8")


def preview(
    *,
    engine: Engine,
    day: date,
    lang: Lang = "zh",
    engine_name: str = "fast",
    company_ids: list[int] | None = None,
    on_company: Callable[[str, int], None] | None = None,
) -> Proposal:
    """The proposal for `day` over every company, or those of `company_ids` (see the module
    docstring)."""
    rows: list[Proposed] = []
    recorded: list[str] = []
    with sessions(engine).begin() as session:
        for company in companies(session):
            if company_ids is not None and company.id not in company_ids:
                continue
            last = last_run_day(session, company)
            if company.origin is None or day < company.origin or (last and day <= last):
                recorded.append(company.code)
                continue
            found = _company(session, company, last, day, lang, engine_name)
            rows.extend(found)
            if on_company is not None:
                on_company(company.code, len(found))
    return Proposal(day, rows, recorded)


def _company(
    session: Session,
    company: Company,
    last: date | None,
    day: date,
    lang: Lang,
    engine_name: str,
) -> list[Proposed]:
    assert company.origin is not None
    policies = policies_for(session=session, company_id=company.id)
    rulesets = rulesets_by_utility({Utility(company.utility): company.ruleset})
    plan = None
    if engine_named(engine_name).resumes and last is not None:
        plan = resumed_plan(session, company, last, day, policies, rulesets)
    if plan is not None:
        result: RunTables = plan.advance(
            company, policies, rulesets, day, engine_name, Options(keep_checkpoint=False)
        ).tables
    else:
        frames = load_run_frames(session, [company.id], rulesets, until=day)
        result = decide(frames, policies, company, day, engine_name, None)
    acting = result.actions.filter(pl.col("date") == day)
    if acting.height == 0:
        return []
    ids = acting["account_id"].unique().to_list()
    keys = account_keys(session, company, set(ids))
    frames = load_run_frames(session, [company.id], rulesets, [keys[i] for i in ids], until=day)
    said: dict[str, Acting] = {
        record.account_id: acting_on(record, policies, rulesets, company.origin, day, lang)
        for record in accounts_from_frames(*frames)
    }
    unknown = TEXT[lang]["why.unknown"]
    nobody = Acting({}, 0, None, {})
    rows = []
    for row in acting.iter_rows(named=True):
        told = said.get(row["account_id"], nobody)
        bill_id = row["bill_id"] or ""
        rows.append(
            Proposed(
                account_id=row["account_id"],
                action=str(row["action"]),
                step=row["step"],
                bill_id=bill_id,
                policy_id=row["policy_id"] or "",
                reason=told.reasons.get((str(row["action"]), bill_id), unknown),
                company=company.code,
                arrears_fen=told.arrears_fen,
                days_overdue=told.days_overdue(day, bill_id),
            )
        )
    return rows
