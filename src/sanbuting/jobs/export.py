"""`sanbuting db export DIR`: the contract's output folder for everything the store has run.

`actions.csv` and `protections.csv` are the rows the daily runs recorded. `late_fees.csv`,
`states.csv` and the summary's protected days and arrears are as of each company's last run
day, from the engine over the store with the policy set that day used (the same computation
the daily run made). `summary.json` names the imported files and the policy files used, by
hash, as `sanbuting run` does; its period runs from the first company's origin to the last
day run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.engine.frames import (
    ACTION_RANK,
    ACTIONS_SCHEMA,
    PROTECTIONS_SCHEMA,
    RunFrames,
    concat,
)
from sanbuting.engine.relief_column import outcomes
from sanbuting.engine.summary import summarize
from sanbuting.errors import SanbutingError
from sanbuting.io.holds import has_holds_file
from sanbuting.io.outputs import write_outputs
from sanbuting.jobs.daily import decide
from sanbuting.policy import Policy
from sanbuting.rules import rulesets_by_utility
from sanbuting.store.companies import companies
from sanbuting.store.database import sessions
from sanbuting.store.held_frames import load_run_frames
from sanbuting.store.models import (
    Account,
    Company,
    ImportedFile,
    PolicyVersion,
    ProtectionEvent,
    Run,
    StoredAction,
)
from sanbuting.store.policy_versions import parsed


def export_store(*, engine: Engine, out: Path, engine_name: str = "fast") -> dict[str, Any]:
    """Write the output folder `out`; returns its summary."""
    parts: list[RunFrames] = []
    origins: list[date] = []
    ends: list[date] = []
    used: dict[str, str] = {}
    reliefs: list[pl.DataFrame] = []
    with sessions(engine).begin() as session:
        for company in companies(session):
            last = session.scalar(select(func.max(Run.day)).where(Run.company_id == company.id))
            if last is None or company.origin is None:
                continue
            policies = [p for v in _versions_of(session, company, last) for p in parsed(v)]
            for v in _versions_used(session, company):
                used[v.file_name] = v.sha256
            rulesets = rulesets_by_utility({Utility(company.utility): company.ruleset})
            frames = load_run_frames(session, [company.id], rulesets)
            result = decide(frames, policies, company, last, engine_name, None)
            reliefs.append(outcomes(frames[0], last))
            parts.append(
                RunFrames(
                    actions=_stored_actions(session, company, policies),
                    protections=_stored_protections(session, company),
                    fees=result.fees,
                    states=result.states,
                    protected=result.protected,
                    accounts=result.accounts,
                )
            )
            origins.append(company.origin)
            ends.append(last)
        inputs, rejects = _imported(session)
    if not parts:
        raise SanbutingError("the store has not run any day yet: run `sanbuting daily` first")
    merged = concat(parts)
    relief = pl.concat(reliefs).sort("hold_id") if has_holds_file(inputs) else None
    summary = summarize(
        merged,
        start=min(origins).isoformat(),
        end=max(ends).isoformat(),
        inputs=inputs,
        policies=used,
        rejects=rejects,
        relief=relief,
    )
    write_outputs(out, merged, summary, relief)
    return summary


def _versions_of(session: Session, company: Company, day: date) -> list[PolicyVersion]:
    """The sets the run of `day` used: the deployment-wide one, then the company's own."""
    row = session.execute(
        select(Run.policy_version, Run.company_policy_version).where(
            Run.company_id == company.id, Run.day == day
        )
    ).one()
    found = [session.get(PolicyVersion, version_id) for version_id in row if version_id]
    return [version for version in found if version is not None]


def _versions_used(session: Session, company: Company) -> list[PolicyVersion]:
    runs = select(Run).where(Run.company_id == company.id).subquery()
    ids = select(runs.c.policy_version).union(select(runs.c.company_policy_version))
    return list(
        session.scalars(
            select(PolicyVersion).where(PolicyVersion.id.in_(ids)).order_by(PolicyVersion.version)
        )
    )


def _stored_actions(session: Session, company: Company, policies: list[Policy]) -> pl.DataFrame:
    ranks = {policy.id: rank for rank, policy in enumerate(policies)}
    rows = session.execute(
        select(
            StoredAction.day,
            Account.account_id,
            StoredAction.action,
            StoredAction.step,
            StoredAction.bill_id,
            StoredAction.policy_id,
        )
        .join(Account, Account.id == StoredAction.account)
        .join(Run, Run.id == StoredAction.run)
        .where(Run.company_id == company.id)
        .order_by(StoredAction.day, Account.account_id, StoredAction.id)
    ).all()
    frame = pl.DataFrame(
        [(*r, ranks.get(r[5], -1) if r[5] else -1) for r in rows],
        orient="row",
        schema={**ACTIONS_SCHEMA, "action": pl.String()},
    )
    return frame.with_columns(pl.col("action").cast(ACTION_RANK))


def _stored_protections(session: Session, company: Company) -> pl.DataFrame:
    rows = session.execute(
        select(
            ProtectionEvent.day,
            Account.account_id,
            ProtectionEvent.policy_id,
            ProtectionEvent.kind,
            ProtectionEvent.prevented_action,
            ProtectionEvent.deferred_to,
        )
        .join(Account, Account.id == ProtectionEvent.account)
        .join(Run, Run.id == ProtectionEvent.run)
        .where(Run.company_id == company.id)
        .order_by(ProtectionEvent.day, Account.account_id, ProtectionEvent.id)
    ).all()
    frame = pl.DataFrame(
        rows, orient="row", schema={**PROTECTIONS_SCHEMA, "prevented_action": pl.String()}
    )
    return frame.with_columns(pl.col("prevented_action").cast(ACTION_RANK))


def _imported(session: Session) -> tuple[dict[str, str], int]:
    """{file name: sha256} of the files imported (the latest of each name) and their rejects."""
    latest: dict[str, tuple[str, int]] = {}
    for record in session.scalars(select(ImportedFile).order_by(ImportedFile.id)):
        latest[record.file_name] = (record.sha256, record.rejects)
    return {name: digest for name, (digest, _) in latest.items()}, sum(
        count for _, count in latest.values()
    )
