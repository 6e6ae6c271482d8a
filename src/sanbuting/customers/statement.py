"""What a customer reads of their account's history: the ledger's postings as lines of a
statement (what each did to the amount owed), and a prepaid meter's recent daily usage."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.store.models import Account, Bill, LedgerLine, Posting, Usage

OWED_BOOKS = frozenset({"principal", "fee", "credit"})
"""The books whose sum is what the customer owes (credit held is negative)."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One posting: its day, kind, the bill it concerns, and its effect on what the customer
    owes (`owed_fen`: + owes more, − owes less), money received and fee waived."""

    day: date
    kind: str
    key: str
    bill_id: str
    owed_fen: int
    cash_fen: int
    waived_fen: int


def ledger_history(
    *, session: Session, account: Account, through: date, limit: int = 60
) -> list[StatementLine]:
    """The newest `limit` postings of `account` dated on or before `through`, newest first."""
    heads = session.execute(
        select(Posting.id, Posting.effective_on, Posting.kind, Posting.key)
        .where(Posting.account == account.id, Posting.effective_on <= through)
        .order_by(Posting.effective_on.desc(), Posting.id.desc())
        .limit(limit)
    ).all()
    if not heads:
        return []
    lines = session.execute(
        select(LedgerLine.posting, LedgerLine.book, LedgerLine.amount_fen, Bill.bill_id)
        .outerjoin(Bill, Bill.id == LedgerLine.bill)
        .where(LedgerLine.posting.in_([h.id for h in heads]))
    ).all()
    owed: dict[int, int] = defaultdict(int)
    cash: dict[int, int] = defaultdict(int)
    waived: dict[int, int] = defaultdict(int)
    bills: dict[int, str] = {}
    for posting, book, amount, bill_id in lines:
        if book in OWED_BOOKS:
            owed[posting] += amount
        elif book == "cash":
            cash[posting] += amount
        elif book in ("relief_cost", "bad_debt"):
            waived[posting] += amount
        if bill_id and posting not in bills:
            bills[posting] = bill_id
    return [
        StatementLine(
            day=h.effective_on,
            kind=h.kind,
            key=h.key,
            bill_id=bills.get(h.id, ""),
            owed_fen=owed[h.id],
            cash_fen=cash[h.id],
            waived_fen=waived[h.id],
        )
        for h in heads
    ]


def recent_usage(
    *, session: Session, account: Account, through: date, days: int = 31
) -> list[tuple[date, int]]:
    """A prepaid meter's usage (fen a day) over the `days` days through `through`, newest
    first."""
    rows = session.execute(
        select(Usage.day, Usage.amount_fen)
        .where(
            Usage.account == account.id,
            Usage.day <= through,
            Usage.day > through - timedelta(days=days),
        )
        .order_by(Usage.day.desc())
    ).all()
    return [(day, int(amount)) for day, amount in rows]
