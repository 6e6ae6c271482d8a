"""An import as one transaction: the rows (`store.imports`), then the ledger of every account
they touched (`ledger.service`), committed together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode
from sanbuting.errors import SanbutingError
from sanbuting.io.rejects import write_rejects
from sanbuting.jobs.books_forward import book_from_open_books
from sanbuting.ledger.service import book_accounts
from sanbuting.store import checkpoints, open_items
from sanbuting.store.companies import name_company
from sanbuting.store.database import database_url, make_engine, refresh_statistics, sessions
from sanbuting.store.imports import Imported, import_folder
from sanbuting.store.models import Account, Company
from sanbuting.store.policy_versions import policies_for

CHUNK = 5_000
"""Accounts read by one query (SQLite allows 32,766 bound values)."""


@dataclass(frozen=True)
class ImportOutcome:
    imported: Imported
    refused: bool
    """Rows were rejected and not allowed: nothing was written."""
    postings: int
    rejects_file: Path

    def __str__(self) -> str:
        added = ", ".join(
            f"{n} {table}"
            for table, n in self.imported.added.items()
            if table != "holds" or n or self.imported.unchanged.get("holds")
        )  # holds only when the folder has some (an optional file most imports lack)
        same = sum(self.imported.unchanged.values())
        lines = [f"added {added}; {same} rows were already in the store"]
        if self.postings:
            lines.append(f"booked {self.postings} ledger postings")
        if self.imported.rejects:
            verdict = "nothing imported" if self.refused else "the other rows imported"
            lines.append(
                f"{len(self.imported.rejects)} rows rejected (see {self.rejects_file}); {verdict}"
                + ("; fix them or import with --allow-rejects" if self.refused else "")
            )
        return "\n".join(lines)


def import_and_book(
    *,
    data: Path,
    start: date | None,
    company: str | None,
    by: str,
    allow_rejects: bool,
    rejects_file: Path,
    url: str | None = None,
    book: bool = True,
    encoding: str | None = None,
    company_name: str | None = None,
    group: str | None = None,
) -> ImportOutcome:
    """Import `data` (its CSV files text of `encoding`, by default UTF-8) and book the ledger
    of the accounts it touched, in one transaction; `company_name` and `group` name the
    company `company` (created by the import if new)."""
    if (company_name is not None or group is not None) and company is None:
        raise SanbutingError(
            "--company-name and --group name one company: give its code with --company"
        )
    engine = make_engine(url or database_url())
    now = datetime.now(tz=UTC)
    postings = 0
    try:
        with sessions(engine)() as session, session.begin():
            imported = import_folder(
                session=session,
                folder=data,
                start=start,
                company_code=company,
                by=by,
                at=now,
                encoding=encoding,
            )
            if company is not None and (company_name is not None or group is not None):
                name_company(session=session, code=company, name=company_name, group=group)
            if imported.rejects:
                write_rejects(rejects_file, imported.rejects)
                if not allow_rejects:
                    raise _Refused
            _mark_dirty(session, imported)
            if book:
                postings = _book(session, imported, now)
        refresh_statistics(engine)
    except _Refused:
        return ImportOutcome(imported, True, 0, rejects_file)
    finally:
        engine.dispose()
    return ImportOutcome(imported, False, postings, rejects_file)


class _Refused(Exception):
    """Rows were rejected and not allowed: roll the import back."""


def _mark_dirty(session: Session, imported: Imported) -> None:
    """Accounts given rows dated on or before a company's newest checkpoint are derived again
    by the next run (`store.checkpoints`), and by their next payment if on or before their
    open book (`store.open_items`)."""
    if not imported.earliest:
        return
    open_items.forget(session, imported.earliest.items())
    touched = sorted(imported.earliest)
    found = [
        row
        for offset in range(0, len(touched), CHUNK)
        for row in session.execute(
            select(Account.id, Account.account_id, Account.company_id).where(
                Account.id.in_(touched[offset : offset + CHUNK])
            )
        )
    ]
    by_company: dict[int, list[tuple[str, date]]] = {}
    for pk, account_id, company_id in found:
        by_company.setdefault(company_id, []).append((account_id, imported.earliest[pk]))
    for company_id, accounts in by_company.items():
        checkpoints.lock_company(session, company_id, exclusive=False)
        checkpoints.mark_dirty(session=session, company_id=company_id, accounts=accounts)


def _book(session: Session, imported: Imported, now: datetime) -> int:
    """Book the ledger of every account the import touched: a postpaid account from its open
    book where it has one that vouches for its days (the rows the import added are all dated
    after it: the import forgot the others), so that a month's bills cost the month, not the
    history (`jobs.books_forward.book_from_open_books`); the others from their history."""
    touched = set(imported.accounts_touched)
    postings = 0
    for code in imported.companies:
        company = session.scalar(select(Company).where(Company.code == code))
        assert company is not None
        mine = session.execute(
            select(Account.id, Account.billing_mode).where(Account.company_id == company.id)
        ).all()
        postpaid = [pk for pk, mode in mine if pk in touched and mode == BillingMode.POSTPAID.value]
        others = [pk for pk, mode in mine if pk in touched and mode != BillingMode.POSTPAID.value]
        booked = 0
        for offset in range(0, len(postpaid), CHUNK):
            chunk = postpaid[offset : offset + CHUNK]
            booked += book_from_open_books(session, company, chunk, None, now)[1]
        postings += booked + book_accounts(
            session=session,
            company=company,
            accounts=others,
            policies=policies_for(session=session, company_id=company.id),
            now=now,
            keep_books=True,
        )
    return postings
