"""The open-item sub-ledger of a postpaid account: each bill still open (principal or a
finalized fee unpaid) with its principal, fee units and days as of the end of a day, and the
credit on hand; what FI-CA calls open items.

A payment starts from the account's open items instead of its history: the book as it stood
at the end of `as_of` (`OpenBook`), the bills issued and payments made after it, and the days
from `as_of` + 1 to the payment's day, walked by the same day loop as the whole history
(`ledger.entries.postpaid_days`). The entries and arrears are those of the replay from the
origin (`tests/test_open_items.py` holds the two equal).

An open book is only good for the rules and relief it was made with: its `fingerprint` is the
account's late-fee rates and the fee waivers in its scope, everything the book's state
depends on besides the rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sanbuting.domain import BillingMode
from sanbuting.engine.billbook import BillAccount, BillBook
from sanbuting.engine.records import Account, Bill
from sanbuting.engine.relief import AccountRelief
from sanbuting.fees.latefee import Rates
from sanbuting.ledger.entries import Entry, by_day, postpaid_days
from sanbuting.policy import WaiverPolicy
from sanbuting.policy.model import Window

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One bill's running account at the end of a day (`engine.billbook.BillAccount`)."""

    bill: Bill
    principal: int
    accrued_units: int
    waived_units: int
    days: int
    waived_days: int
    charged: int | None
    fee_paid: int


@dataclass(frozen=True, slots=True)
class OpenBook:
    """A postpaid account's open items and credit on hand at the end of `as_of`."""

    as_of: date
    credit: int
    items: tuple[OpenItem, ...]
    fingerprint: str


def book_fingerprint(rates: Rates, relief: AccountRelief) -> str:
    """What an open book's state depends on besides the rows: the rates, the waivers and an
    instalment plan's pause of fees (`store.plans`; left out when there is none, so a book
    made before plans existed keeps its fingerprint)."""
    return _fingerprint(rates, relief.waivers, relief.fee_pauses)


@lru_cache(maxsize=1_024)
def _fingerprint(
    rates: Rates, waivers: tuple[WaiverPolicy, ...], pauses: tuple[tuple[date, Window], ...]
) -> str:
    """Accounts share a few combinations of rates and waivers: each is digested once."""
    text = repr(rates) + repr(waivers) + (repr(pauses) if pauses else "")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def open_book_of(book: BillBook, day: date, fingerprint: str) -> OpenBook:
    """The open items of `book` standing at the end of `day` (settled bills are left out:
    nothing can happen to them any more)."""
    items = tuple(
        OpenItem(
            b.bill,
            b.principal,
            b.accrued_units,
            b.waived_units,
            b.days,
            b.waived_days,
            b.charged,
            b.fee_paid,
        )
        for b in book.opened(day)
        if b.principal > 0 or b.charged is None or b.fee_owed > 0
    )
    return OpenBook(day, book.credit, items, fingerprint)


def keeper(
    record: Account, rates: Rates, relief: AccountRelief, day: date, into: list[OpenBook]
) -> Callable[[date, BillBook], None] | None:
    """An `at_end_of` hook for the replay of a postpaid `record` (None for a prepaid one) that
    keeps in `into` its open book standing at the end of `day`."""
    if record.billing_mode is not BillingMode.POSTPAID:
        return None
    fingerprint = book_fingerprint(rates, relief)

    def keep(at: date, book: BillBook) -> None:
        if at == day:
            into.append(open_book_of(book, day, fingerprint))

    return keep


def _bill_account(item: OpenItem, rates: Rates, relief: AccountRelief) -> BillAccount:
    return BillAccount(
        item.bill,
        rates,
        relief.waiver_windows(item.bill),
        item.principal,
        item.accrued_units,
        item.waived_units,
        item.days,
        item.waived_days,
        item.charged,
        item.fee_paid,
    )


@dataclass(frozen=True, slots=True)
class Walked:
    """The days after an open book, walked: their entries, the arrears at the end of the last
    day, the book at the end of the day before it, and every bill's order."""

    entries: list[Entry]
    arrears: int
    kept: OpenBook
    order: dict[str, tuple[date, date, str]]


def walk(
    saved: OpenBook,
    later: Account,
    rates: Rates,
    relief: AccountRelief,
    origin: date,
    through: date,
) -> Walked:
    """Walk the days `saved.as_of` + 1 .. `through` (after the origin) over the bills issued
    and payments made after `saved.as_of` (`later`'s rows)."""
    assert origin <= saved.as_of < through
    entries, book, kept = _walked(saved, later, rates, relief, origin, through, through - ONE_DAY)
    order = {b.bill.bill_id: b.bill.order for b in book.bills}
    return Walked(entries, book.arrears(through), kept, order)


def forward(
    saved: OpenBook,
    later: Account,
    rates: Rates,
    relief: AccountRelief,
    origin: date,
    through: date,
) -> tuple[list[Entry], OpenBook]:
    """The days `saved.as_of` + 1 .. `through` walked as `walk` walks them, with no payment
    of the account's own: their entries, and the book standing at the end of `through` (the
    open book brought forward, `jobs.books_forward`)."""
    assert origin <= saved.as_of < through
    entries, _, kept = _walked(saved, later, rates, relief, origin, through, through)
    return entries, kept


def _walked(
    saved: OpenBook,
    later: Account,
    rates: Rates,
    relief: AccountRelief,
    origin: date,
    through: date,
    keep_at: date,
) -> tuple[list[Entry], BillBook, OpenBook]:
    """The days after `saved` through `through`, walked: their entries, the book at the end,
    and the open book standing at the end of `keep_at` (`saved.as_of` or one of the days)."""
    opened = [_bill_account(item, rates, relief) for item in saved.items]
    to_issue = [
        BillAccount(bill, rates, relief.waiver_windows(bill), bill.amount_fen)
        for bill in later.bills
    ]
    book = BillBook.resumed(opened, to_issue, saved.credit)
    kept: list[OpenBook] = [saved] if keep_at == saved.as_of else []

    def keep(day: date, at_end: BillBook) -> None:
        if day == keep_at:
            kept.append(open_book_of(at_end, day, saved.fingerprint))

    made = postpaid_days(
        later,
        book,
        by_day(later.payments),
        origin,
        saved.as_of + ONE_DAY,
        through,
        at_end_of=keep,
    )
    return [e for e in made if e is not None], book, kept[0]
