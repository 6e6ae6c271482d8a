"""Accounts of a checkpoint derived again, alone, when rows dated on or before its day arrived
after it was made (a back-dated payment, an import; `store.checkpoints` marks them): each from
the newest older checkpoint that is not stale for it, resumed over its rows dated after that
checkpoint's day; from the origin when none serves (and new accounts from the origin).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.engine.fast import FastRun
from sanbuting.engine.fast.checkpoint import BILL_FACTS, Checkpoint, checkpoint_of, resume
from sanbuting.policy import Policy
from sanbuting.rules.schema import Ruleset
from sanbuting.store import checkpoints
from sanbuting.store.held_frames import load_run_frames
from sanbuting.store.models import Company
from sanbuting.store.runs import account_keys


def derived_again(
    session: Session,
    company: Company,
    saved: Checkpoint,
    again: set[str],
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    last: date,
) -> Checkpoint:
    """`saved` with the accounts of `again` derived again through `last` on every row they
    have: each from the newest older checkpoint not stale for it, else from the origin (their
    rows dated after `last` go to the resumed run, as everyone's do)."""
    assert company.origin is not None
    left = set(again)
    parts: list[Checkpoint] = []
    for older in checkpoints.kept(session, company.id):
        if not left:
            break
        if older.day >= last or older.fingerprint != saved.fingerprint:
            continue
        usable = left - checkpoints.stale_in(session, company.id, older)
        found = checkpoints.load(session, company.id, older.day) if usable else None
        if found is None:
            continue
        usable &= set(found.accounts["account_id"].to_list())
        if usable:
            parts.append(_advanced(session, company, found, usable, policies, rulesets, last))
            left -= usable
    if left:
        keys = account_keys(session, company, left)
        frames = load_run_frames(
            session, [company.id], rulesets, [keys[a] for a in sorted(keys)], until=last
        )
        run = FastRun(frames, policies, rulesets, company.origin, threads=1)
        run.advance(last, snapshot=False)
        parts.append(checkpoint_of(run, frames[0], frames[1], policies))
    keep = ~pl.col("account_id").is_in(sorted(again))
    return Checkpoint(
        saved.day,
        saved.fingerprint,
        pl.concat(
            [saved.accounts.filter(keep), *(part.accounts for part in parts)],
            how="vertical_relaxed",
        ).sort("account_id"),
        pl.concat(
            [saved.bills.filter(keep), *(part.bills for part in parts)],
            how="vertical_relaxed",
        ),
    )


def _advanced(
    session: Session,
    company: Company,
    older: Checkpoint,
    accounts: set[str],
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    last: date,
) -> Checkpoint:
    """The checkpoint of `last` of `accounts`, resumed from `older` over their rows dated
    after its day."""
    mine = pl.col("account_id").is_in(sorted(accounts))
    start = Checkpoint(
        older.day, older.fingerprint, older.accounts.filter(mine), older.bills.filter(mine)
    )
    keys = account_keys(session, company, accounts)
    later = load_run_frames(
        session,
        [company.id],
        rulesets,
        [keys[a] for a in sorted(keys)],
        after=older.day,
        until=last,
    )
    run = resume(start, later, policies, rulesets, threads=1)
    run.advance(last, snapshot=False)
    bills = pl.concat(
        [start.bills.select(BILL_FACTS), later[1].select(BILL_FACTS)], how="vertical_relaxed"
    )
    return checkpoint_of(run, start.accounts, bills, policies)
