"""Benchmark a month's bills imported into a store that holds the months before: the import's
booking from the postpaid accounts' open books (`jobs.books_forward.book_from_open_books`)
against the same import booked from every account's history, in the same process.

`sanbuting generate --seed 2020 --end 2020-12-31` data are split by date: the rows before
2020-12-01 are imported into two stores, then `accounts.csv` with December's bills alone is
imported into each, one booked from the open books, the other from the histories (the
standard). Both land the same postings; the times and their ratio are printed.

    python benchmarks/month_import_bench.py --accounts 2000
"""

from __future__ import annotations

import argparse
import csv
import shutil
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session
from store_bench import SEED, START, load

from sanbuting.generate import GenerateRequest, generate
from sanbuting.jobs import importing
from sanbuting.jobs.importing import import_and_book
from sanbuting.ledger.service import book_accounts
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company
from sanbuting.store.policy_versions import policies_for

END = date(2020, 12, 31)
MONTH = "2020-12-01"
DATED = {"bills.csv": "issued_on", "payments.csv": "paid_at", "usage.csv": "date"}


def split(source: Path, out: Path, keep: Callable[[str, str], bool]) -> None:
    """A copy of `source` with the accounts and the rows `keep(file, day)` keeps."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "accounts.csv", out / "accounts.csv")
    for name, column in DATED.items():
        with (
            (source / name).open(encoding="utf-8") as rows,
            (out / name).open("w", encoding="utf-8", newline="") as kept,
        ):
            reader = csv.DictReader(rows)
            writer = csv.DictWriter(kept, reader.fieldnames or [], lineterminator="\n")
            writer.writeheader()
            writer.writerows(row for row in reader if keep(name, row[column][:10]))


def from_history(
    session: Session, company: Company, ids: list[int], through: date | None, now: datetime
) -> tuple[int, int]:
    """The standard: the postpaid accounts booked from their histories."""
    policies = policies_for(session=session, company_id=company.id)
    added = book_accounts(
        session=session, company=company, accounts=ids, policies=policies, now=now,
        through=through, keep_books=True,
    )  # fmt: skip
    return len(ids), added


def timed_month(work: Path, label: str, before: Path, month: Path) -> tuple[float, int]:
    """A store of `before`, then `month` imported: its seconds and postings."""
    db = work / f"month-{label}.db"
    for leftover in (db, *(db.with_name(db.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    upgrade(url)
    rejects = work / "rejects.csv"
    common = {"start": START, "company": None, "by": "bench", "allow_rejects": False}
    import_and_book(data=before, rejects_file=rejects, url=url, **common)  # type: ignore[arg-type]
    began = time.perf_counter()
    outcome = import_and_book(data=month, rejects_file=rejects, url=url, **common)  # type: ignore[arg-type]
    return time.perf_counter() - began, outcome.postings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    source = args.work / f"g{args.accounts}-seed{SEED}-{END}"
    if not (source / "accounts.csv").exists():
        generate(GenerateRequest(accounts=args.accounts, out=source, seed=SEED, end=END))
    before, month = (
        source.with_name(source.name + "-before"),
        source.with_name(source.name + "-dec"),
    )
    split(source, before, lambda _, day: day < MONTH)
    split(source, month, lambda name, day: name == "bills.csv" and day >= MONTH)
    books, postings = timed_month(args.work, "books", before, month)
    real = importing.book_from_open_books
    importing.book_from_open_books = from_history  # type: ignore[assignment]
    try:
        history, standard = timed_month(args.work, "history", before, month)
    finally:
        importing.book_from_open_books = real  # type: ignore[assignment]
    assert postings == standard, (postings, standard)
    print(
        f"[sqlite] {args.accounts:,} accounts, eleven months stored, December's bills "
        f"({postings:,} postings; {load()}): from the open books {books:.2f} s, from the "
        f"histories {history:.2f} s = {history / books:.2f}x"
    )


if __name__ == "__main__":
    main()
