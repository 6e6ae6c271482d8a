"""The ledger's postpaid day loop passes over quiet days (`ledger.entries.postpaid_days`,
`engine.billbook.BillBook.next_busy`) and derives what the loop over every day derives: the
same entries, and the same book at the end of every day.

The standard is written out here: `BillBook.money_day` for each day from the first row to the
end, as the loop was before it learnt to pass days over.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings

from sanbuting.domain import BillingMode, date_range
from sanbuting.engine.billbook import BillAccount, BillBook
from sanbuting.engine.records import Account
from sanbuting.engine.relief import AccountRelief, relief_for
from sanbuting.engine.simulate import accounts_from_frames
from sanbuting.fees.latefee import rates_for
from sanbuting.ledger.entries import Entry, _opening, account_entries, booked, by_day
from sanbuting.ledger.open_items import OpenBook, open_book_of
from sanbuting.rules import rulesets_by_utility
from strategies import Universe, universes

RULESETS = rulesets_by_utility()


def every_day(
    account: Account, relief: AccountRelief, origin: date, through: date
) -> tuple[list[Entry], list[OpenBook]]:
    """The entries of every day, and the book at the end of each."""
    rates = rates_for(RULESETS[account.utility], account.customer_class)
    book = BillBook(
        [BillAccount(b, rates, relief.waiver_windows(b), b.amount_fen) for b in account.bills]
    )
    payments = by_day(account.payments)
    first = min([b.issued_on for b in account.bills] + list(payments) + [origin])
    entries: list[Entry | None] = []
    books: list[OpenBook] = []
    for day in date_range(first, through):
        if day == origin:
            entries.append(_opening(account, day, book.credit))
            book.credit = account.balance_fen
        paid = [(p.payment_id, p.amount_fen) for p in payments.get(day, ())]
        for event in book.money_day(day, paid):
            entries.extend(booked(event))
        books.append(open_book_of(book, day, ""))
    return [e for e in entries if e is not None], books


@settings(deadline=None)
@given(universe=universes(max_each_policy=2))
def test_passing_over_quiet_days_derives_what_every_day_derives(universe: Universe) -> None:
    for account in accounts_from_frames(*universe.frames):
        if account.billing_mode is not BillingMode.POSTPAID:
            continue
        relief = relief_for(account, universe.policies)
        books: list[OpenBook] = []
        entries = account_entries(
            account,
            RULESETS[account.utility],
            relief,
            universe.start,
            universe.end,
            at_end_of=lambda day, book, into=books: into.append(open_book_of(book, day, "")),
        )
        assert (entries, books) == every_day(account, relief, universe.start, universe.end)
