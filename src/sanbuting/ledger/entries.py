"""An account's money as ledger entries, derived from its bills, payments and usage by the
engine's own books, so that the ledger and the engine never disagree.

Books (debit positive): `principal` and `fee` are what the customer owes on a bill (its
principal, its finalized late fee); `credit` is the customer's money we hold (a prepaid
balance or postpaid credit on hand, so it is negative while the customer is in credit);
`cash` is money received; `sales`, `fee_income`, `usage_sales` and `opening` are their
counterparts; a waiver records what relief cost (`relief_cost` against `fees_waived`).

Postpaid accounts follow `BillBook` (the reference engine's allocation: oldest bill's
principal, then its fee, then the next bill; the rest is credit, paid into each new bill on its
issue day; a fee finalized the day its principal reaches 0). Prepaid accounts book the money
events the reference engine's run emits (`engine.money`: top-ups, and usage charged only while
the meter is on). Before the company's
origin the books are replayed as the engine replays them; on the origin the credit is set to
the imported `balance_fen` by an `opening` entry. Every entry has a key that names it for good
(`charge:BILL`, `pay:KEY`, `fee:BILL`, …), so booking again adds only what is new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sanbuting.domain import BillingMode, date_range, is_write_off
from sanbuting.engine.billbook import ONE_DAY, BillAccount, BillBook
from sanbuting.engine.money import BillEvent, Charged, FeeFinalized, TopUp
from sanbuting.engine.records import Account, Payment
from sanbuting.engine.reference import PrepaidRun
from sanbuting.engine.relief import AccountRelief
from sanbuting.engine.story import SILENT
from sanbuting.fees.latefee import rates_for
from sanbuting.rules.schema import Ruleset


@dataclass(frozen=True, slots=True)
class Line:
    book: str
    amount_fen: int
    bill_id: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One posting: its lines sum to zero and none is zero."""

    key: str
    kind: str
    effective_on: date
    lines: tuple[Line, ...]


def _entry(key: str, kind: str, day: date, *lines: Line) -> Entry | None:
    kept = tuple(line for line in lines if line.amount_fen != 0)
    assert sum(line.amount_fen for line in kept) == 0, key
    return Entry(key, kind, day, kept) if kept else None


def _pair(
    key: str,
    kind: str,
    day: date,
    debit: str,
    credit: str,
    amount: int,
    debit_bill: str | None = None,
    credit_bill: str | None = None,
) -> Entry | None:
    """`_entry` of the two lines `debit` +amount and `credit` -amount (most entries are)."""
    if amount == 0:
        return None
    return Entry(
        key, kind, day, (Line(debit, amount, debit_bill), Line(credit, -amount, credit_bill))
    )


def account_entries(
    account: Account,
    ruleset: Ruleset,
    relief: AccountRelief,
    origin: date,
    through: date,
    *,
    at_end_of: Callable[[date, BillBook], None] | None = None,
) -> list[Entry]:
    """Every entry of `account` dated on or before `through`, in the order they happen
    (`at_end_of` sees a postpaid account's book at the end of each day)."""
    if account.billing_mode is BillingMode.PREPAID:
        entries = _prepaid(account, ruleset, relief, origin, through)
    else:
        entries = _postpaid(account, ruleset, relief, origin, through, at_end_of)
    return [e for e in entries if e is not None]


def by_day(payments: tuple[Payment, ...]) -> dict[date, list[Payment]]:
    days: dict[date, list[Payment]] = {}
    for payment in sorted(payments, key=lambda p: (p.paid_on, p.sequence)):
        days.setdefault(payment.paid_on, []).append(payment)
    return days


def _opening(account: Account, day: date, held: int) -> Entry | None:
    """Set the credit held (`held` before) to the imported balance on the origin day."""
    change = held - account.balance_fen
    return _pair(f"opening:{account.account_id}", "opening", day, "credit", "opening", change)


def _postpaid(
    account: Account,
    ruleset: Ruleset,
    relief: AccountRelief,
    origin: date,
    through: date,
    at_end_of: Callable[[date, BillBook], None] | None,
) -> list[Entry | None]:
    rates = rates_for(ruleset, account.customer_class)
    book = BillBook(
        [
            BillAccount(bill, rates, relief.waiver_windows(bill), bill.amount_fen)
            for bill in account.bills
        ]
    )
    payments = by_day(account.payments)
    first = min([b.issued_on for b in account.bills] + list(payments) + [origin])
    return postpaid_days(account, book, payments, origin, first, through, at_end_of=at_end_of)


def postpaid_days(
    account: Account,
    book: BillBook,
    payments: dict[date, list[Payment]],
    origin: date,
    first: date,
    through: date,
    *,
    at_end_of: Callable[[date, BillBook], None] | None = None,
) -> list[Entry | None]:
    """A postpaid account's entries of the days `first`..`through`, its `book` standing as at
    the end of the day before `first`: the book's money events of each day, booked
    (`at_end_of` sees the book at the end of each day). A day with no payment before the
    book's next busy day (`BillBook.next_busy`: a bill issued, a day accruing) moves nothing,
    and is passed over."""
    entries: list[Entry | None] = []
    busy = book.next_busy(first)
    for day in date_range(first, through):
        if day == origin:
            entries.append(_opening(account, day, book.credit))
            book.credit = account.balance_fen
        todays = payments.get(day)
        if todays or (busy is not None and busy <= day):
            paid = [(p.payment_id, p.amount_fen) for p in todays or ()]
            for event in book.money_day(day, paid):
                entries.extend(booked(event))
            busy = book.next_busy(day + ONE_DAY)
        if at_end_of is not None:
            at_end_of(day, book)
    return entries


def booked(event: BillEvent) -> list[Entry | None]:
    """The entries of one of a postpaid book's money events (`engine.money`)."""
    day = event.day
    if isinstance(event, Charged):
        bill_id, amount, applied = event.bill.bill_id, event.bill.amount_fen, event.applied_fen
        return [
            _pair(f"charge:{bill_id}", "charge", day, "principal", "sales", amount, bill_id),
            _pair(
                f"credit:{bill_id}",
                "credit_applied",
                day,
                "credit",
                "principal",
                applied,
                credit_bill=bill_id,
            ),
        ]
    if isinstance(event, FeeFinalized):
        bill_id = event.bill_id
        return [
            _pair(
                f"fee:{bill_id}", "late_fee", day, "fee", "fee_income", event.charged_fen, bill_id
            ),
            _pair(
                f"waiver:{bill_id}",
                "waiver",
                day,
                "relief_cost",
                "fees_waived",
                event.waived_fen,
                bill_id,
            ),
        ]
    written_off = is_write_off(event.payment_id)  # an approved write-off
    lines = [Line("bad_debt" if written_off else "cash", event.amount_fen)]
    for bill_id, to_principal, to_fee in event.parts:
        lines.append(Line("principal", -to_principal, bill_id))
        lines.append(Line("fee", -to_fee, bill_id))
    lines.append(Line("credit", -event.credit_fen))
    kind = "write_off" if written_off else "payment"
    return [_entry(f"pay:{event.payment_id}", kind, day, *lines)]


def _prepaid(
    account: Account, ruleset: Ruleset, relief: AccountRelief, origin: date, through: date
) -> list[Entry | None]:
    entries: list[Entry | None] = []
    payments = by_day(account.payments)
    held = 0
    for day in sorted(d for d in payments if d < origin):
        for payment in payments[day]:
            entries.append(top_up(payment, day))
            held -= payment.amount_fen
    entries.append(_opening(account, origin, -held))
    if through < origin:
        return entries
    run = PrepaidRun(account, ruleset, relief, SILENT)
    run.money = []
    run.run(origin, through)
    later = iter(p for d in sorted(payments) if d >= origin for p in payments[d])
    for event in run.money:
        if isinstance(event, TopUp):
            entries.append(top_up(next(later), event.day))
        else:
            entries.append(
                _pair(
                    f"usage:{account.account_id}:{event.day.isoformat()}",
                    "usage",
                    event.day,
                    "credit",
                    "usage_sales",
                    event.amount_fen,
                )
            )
    return entries


def top_up(payment: Payment, day: date) -> Entry | None:
    """A prepaid payment's entry: the cash received, credited to the balance."""
    return _pair(f"pay:{payment.payment_id}", "top_up", day, "cash", "credit", payment.amount_fen)
