"""`sanbuting db import DIR`: the contract's input files into the store.

The folder is read and checked exactly as `validate` and `run` do (`io.readers`); a row already
in the store with the same content is skipped, so importing the same files again adds nothing;
a row whose id is in the store with other content is rejected (file, line, column, reason) and
the stored row stays as it was. With any rejected row nothing is written unless the caller
allows it. Accounts go to their utility's company (or to the one named); the import is one
transaction, so a crash leaves the store as it was before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.io.rejects import Reject, sorted_rejects
from sanbuting.store.bulk import bulk_insert
from sanbuting.store.companies import company_for
from sanbuting.store.import_rows import (
    RowConflicts,
    account_rows,
    bill_rows,
    hold_rows,
    payment_rows,
    split_new,
    usage_rows,
)
from sanbuting.store.models import (
    Account,
    AccountHold,
    Bill,
    Company,
    ImportedFile,
    Payment,
    Usage,
)
from sanbuting.store.plans import forget_books, open_plans

CHUNK = 20_000


@dataclass(frozen=True)
class Imported:
    """What an import did: rows added and already stored per table, and the rejects."""

    added: dict[str, int]
    unchanged: dict[str, int]
    rejects: list[Reject]
    companies: list[str]
    accounts_touched: list[int]
    """Store ids of the accounts whose bills, payments or usage changed (their ledger is
    booked again)."""
    warnings: tuple[str, ...] = ()
    """What the files held that was ignored (e.g. a column the contract does not have)."""
    earliest: dict[int, date] = field(default_factory=dict)
    """Per touched account (store id), the earliest day its new rows are dated: a checkpoint
    of that day or later no longer holds for it (`store.checkpoints`)."""


def import_folder(
    *,
    session: Session,
    folder: Path,
    start: date | None,
    company_code: str | None,
    by: str,
    at: datetime,
    encoding: str | None = None,
) -> Imported:
    """Import `folder` (its CSV files text of `encoding`, by default UTF-8) into the store
    (the caller owns the transaction and decides, from `rejects`, whether to commit)."""
    inputs = read_inputs(folder, encoding=encoding)
    conflicts = RowConflicts(folder, encoding)
    added: dict[str, int] = {}
    unchanged: dict[str, int] = {}
    companies = _companies(session, inputs, company_code, start, conflicts)
    accounts = _accounts_with_company(inputs.accounts, companies, company_code, conflicts)

    stored = _stored(session, Account, companies)
    new, same = split_new(accounts, stored, "accounts", conflicts)
    _insert(session, Account.__table__, new)
    added["accounts"], unchanged["accounts"] = new.height, same
    new_accounts = new.select("account_id")

    pk = _account_keys(session, companies)
    touched: set[int] = set()
    earliest: dict[int, date] = {}
    for name, model, rows, dated in (
        ("bills", Bill, bill_rows, pl.col("issued_on")),
        (
            "payments",
            Payment,
            payment_rows,
            pl.col("paid_at").dt.convert_time_zone("Asia/Shanghai").dt.date(),
        ),
        ("usage", Usage, usage_rows, pl.col("day")),
        ("holds", AccountHold, hold_rows, pl.col("start_on")),
    ):
        frame = rows(_with_account(getattr(inputs, name), pk, name, conflicts))
        new, same = split_new(frame, _stored(session, model, companies, frame), name, conflicts)
        if name == "holds":
            new = _one_plan_each(session, new, conflicts).with_columns(pl.lit(at).alias("set_at"))
            planned = new.filter(pl.col("kind") == "instalments").get_column("account")
            forget_books(session, planned.to_list())
        _insert(session, model.__table__, new)
        touched.update(new.get_column("account").to_list())
        for account, day in new.group_by("account").agg(dated.min().alias("d")).iter_rows():
            earliest[account] = min(day, earliest.get(account, day))
        added[name], unchanged[name] = new.height, same

    rejects = sorted_rejects([*inputs.rejects, *conflicts.rejects])
    _record_files(session, inputs, added, rejects, by, at)
    return Imported(
        added,
        unchanged,
        rejects,
        sorted(c.code for c in companies.values()),
        sorted(touched | set(_new_accounts(pk, new_accounts))),
        inputs.warnings,
        earliest,
    )


def _companies(
    session: Session,
    inputs: Inputs,
    code: str | None,
    start: date | None,
    conflicts: RowConflicts,
) -> dict[str, Company]:
    """The company each utility's accounts go to ({utility: company})."""
    present = sorted(set(inputs.accounts.get_column("utility").to_list()))
    if code is not None:
        stored = session.scalar(select(Company).where(Company.code == code))
        utility = Utility(stored.utility) if stored else Utility(present[0]) if present else None
        if utility is None:
            return {}
        return {
            utility.value: company_for(session=session, code=code, utility=utility, start=start)
        }
    return {
        u: company_for(session=session, code=None, utility=Utility(u), start=start) for u in present
    }


def _accounts_with_company(
    accounts: pl.DataFrame,
    companies: dict[str, Company],
    code: str | None,
    conflicts: RowConflicts,
) -> pl.DataFrame:
    """The accounts with their company's id; with a named company, accounts of another
    utility are rejected."""
    ids = pl.DataFrame(
        {"utility": list(companies), "company_id": [c.id for c in companies.values()]},
        schema={"utility": pl.String, "company_id": pl.Int64},
    )
    joined = accounts.join(ids, on="utility", how="left")
    refused = joined.filter(pl.col("company_id").is_null())
    for account_id, utility in refused.select("account_id", "utility").iter_rows():
        conflicts.refuse(
            "accounts",
            {"account_id": account_id},
            "utility",
            f"a {utility} account cannot go into company {code!r}",
        )
    return account_rows(joined.filter(pl.col("company_id").is_not_null()))


def _stored(
    session: Session, model: type, companies: dict[str, Company], new: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The rows of `model` stored for these companies; given the `new` rows, only those that
    can share a key with them (bills and payments by their ids, usage by the days the new rows
    span), so that an import reads what it brings, not the history."""
    ids = [c.id for c in companies.values()]
    table: Table = model.__table__  # type: ignore[attr-defined]
    query = select(table).where(table.c.company_id.in_(ids))
    if new is None:
        queries = [query]
    elif new.is_empty():
        queries = []
    elif "day" in new.columns:
        days = new.get_column("day")
        queries = [query.where(table.c.day >= days.min(), table.c.day <= days.max())]
    else:
        column = next(c for c in ("bill_id", "hold_id", "key") if c in new.columns)
        keys = new.get_column(column).unique().sort().to_list()
        queries = [
            query.where(table.c[column].in_(keys[offset : offset + CHUNK]))
            for offset in range(0, len(keys), CHUNK)
        ]
    rows = [dict(row._mapping) for q in queries for row in session.execute(q)]
    return pl.DataFrame(rows, infer_schema_length=None)


def _account_keys(session: Session, companies: dict[str, Company]) -> pl.DataFrame:
    """account_id → the store's id and company, for these companies' accounts."""
    ids = [c.id for c in companies.values()]
    rows = session.execute(
        select(Account.account_id, Account.id, Account.company_id).where(
            Account.company_id.in_(ids)
        )
    ).all()
    return pl.DataFrame(
        rows,
        schema={"account_id": pl.String, "account": pl.Int64, "company_id": pl.Int64},
        orient="row",
    )


def _with_account(
    frame: pl.DataFrame, keys: pl.DataFrame, name: str, conflicts: RowConflicts
) -> pl.DataFrame:
    """`frame` with its account's store id and company; rows of an account not in the store
    (its row was refused) are rejected."""
    joined = frame.join(keys, on="account_id", how="left")
    missing = joined.filter(pl.col("account").is_null())
    for account_id in missing.get_column("account_id").unique().to_list():
        conflicts.refuse(
            name, {"account_id": account_id}, "account_id", "its account was not imported"
        )
    return joined.filter(pl.col("account").is_not_null())


def _new_accounts(keys: pl.DataFrame, accounts: pl.DataFrame) -> list[int]:
    """The store ids (`keys`: `_account_keys`) of `accounts` (the ones this import added: an
    account already stored with no new rows has nothing new to book)."""
    return keys.join(accounts.select("account_id"), on="account_id").get_column("account").to_list()


def _insert(session: Session, table: object, rows: pl.DataFrame) -> None:
    target: Table = table  # type: ignore[assignment]
    columns = [c for c in rows.columns if c in target.c]
    if not rows.is_empty():
        bulk_insert(session, target, columns, rows.select(columns).iter_rows())


def _record_files(
    session: Session,
    inputs: Inputs,
    added: dict[str, int],
    rejects: list[Reject],
    by: str,
    at: datetime,
) -> None:
    for file_name, digest in inputs.files.items():
        table = file_name.rsplit(".", 1)[0]
        session.add(
            ImportedFile(
                file_name=file_name,
                sha256=digest,
                rows=inputs.rows_read.get(file_name, 0),
                added=added.get(table, 0),
                rejects=sum(1 for r in rejects if r.file == file_name),
                imported_by=by,
                imported_at=at,
            )
        )
    session.flush()


SECOND_PLAN = (
    "this account has an instalment plan in the store that is neither kept nor broken before "
    "this one starts: one plan at a time"
)


def _one_plan_each(session: Session, holds: pl.DataFrame, conflicts: RowConflicts) -> pl.DataFrame:
    """The new holds without the instalment plans of accounts whose stored plan is still open
    on the new one's first day (a file's own second plan is refused by `io.holds`)."""
    plans = holds.filter(pl.col("kind") == "instalments")
    if plans.is_empty():
        return holds
    starts = dict(plans.select("account", "start_on").iter_rows())
    stored = open_plans(session, starts)
    refused = plans.filter(pl.col("account").is_in(sorted(stored))).get_column("hold_id")
    for hold_id in refused.to_list():
        conflicts.refuse("holds", {"hold_id": hold_id}, "kind", SECOND_PLAN)
    return holds.filter(~pl.col("hold_id").is_in(refused.implode()))
