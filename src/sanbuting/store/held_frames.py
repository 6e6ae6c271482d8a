"""The store's frames with the accounts' own relief on them (docs/account-relief.md): the
locks, promises to pay and instalment plans of `account_holds`, compiled against every payment
of their accounts (`engine.relief_column`), so that a run over the store, from the origin or
resumed from a checkpoint, reads them as `sanbuting run` reads a `holds` file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.engine.buckets import Frames
from sanbuting.engine.relief_column import COLUMN, attach
from sanbuting.io.contract import HOLDS
from sanbuting.rules.schema import Ruleset
from sanbuting.store.frames import load_frames
from sanbuting.store.models import Account, AccountHold


def load_holds(
    session: Session, company_ids: Sequence[int], accounts: Sequence[int] | None = None
) -> pl.DataFrame:
    """The holds of these companies (or of the accounts with these store ids) as the `holds`
    input's frame, in the order they were set, with their account's store id (`account`)."""
    query = (
        select(
            AccountHold.hold_id,
            Account.account_id,
            AccountHold.kind,
            AccountHold.start_on,
            AccountHold.until_on,
            AccountHold.steps,
            AccountHold.amount_fen,
            AccountHold.instalments,
            AccountHold.reason,
            AccountHold.set_by,
            AccountHold.account,
        )
        .join(Account, Account.id == AccountHold.account)
        .order_by(AccountHold.id)
    )
    if accounts is not None:
        query = query.where(AccountHold.account.in_(list(accounts)))
    else:
        query = query.where(AccountHold.company_id.in_(list(company_ids)))
    schema = {**HOLDS.schema, "account": pl.Int64()}
    return pl.DataFrame(session.execute(query).all(), schema=schema, orient="row")


def load_run_frames(
    session: Session,
    company_ids: Sequence[int],
    rulesets: dict[Utility, Ruleset],
    accounts: Sequence[int] | None = None,
    *,
    after: date | None = None,
    until: date | None = None,
) -> Frames:
    """`store.frames.load_frames` with the holds of its accounts compiled onto the accounts
    frame. With `after` (a run resumed from a checkpoint, whose accounts come from it), the
    accounts frame holds only the accounts with holds: their id and `holds`."""
    frames = load_frames(session, company_ids, accounts, after=after, until=until)
    held = load_holds(session, company_ids, accounts)
    if held.is_empty():
        return frames
    if after is None:
        return (attach(frames[0], held, frames[2], rulesets), *frames[1:])
    own = load_frames(
        session, company_ids, held.get_column("account").unique().to_list(), until=until
    )
    column = attach(own[0], held, own[2], rulesets).select("account_id", COLUMN)
    return (column, frames[1], frames[2], frames[3])
