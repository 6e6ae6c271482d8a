"""A postpaid book's day as typed money events (`BillBook.money_day`), the one day loop of a
bill's money that the reference engine narrates and the ledger books (`ledger.entries.booked`).

The scenario: bill B1 (100 yuan, due 2020-01-20) is issued with 30 yuan of credit on hand; 70
yuan stays open and accrues 1 per mille a day from 2020-01-21. On 2020-02-01 bill B2 (50 yuan)
is issued and 80 yuan paid: the day accrues first (12 days x 7 fen = 84 fen), B1's principal
closes (its fee finalized at 84 fen and paid), and the rest pays B2.
"""

from __future__ import annotations

from datetime import date

from sanbuting.domain import date_range
from sanbuting.engine.billbook import BillAccount, BillBook
from sanbuting.engine.money import BillEvent, Charged, FeeFinalized, Paid
from sanbuting.engine.records import Bill
from sanbuting.fees.latefee import Rates
from sanbuting.ledger.entries import Line, booked

RATES = Rates(same_year_ppm=1_000, later_year_ppm=3_000, minimum_fen=0)
B1 = Bill("B1", "2019-12", date(2020, 1, 1), date(2020, 1, 20), 10_000)
B2 = Bill("B2", "2020-01", date(2020, 2, 1), date(2020, 2, 20), 5_000)
PAY_DAY = date(2020, 2, 1)


def events() -> tuple[list[BillEvent], BillBook]:
    book = BillBook(
        [BillAccount(B1, RATES, (), 10_000), BillAccount(B2, RATES, (), 5_000)], credit=3_000
    )
    made: list[BillEvent] = []
    for day in date_range(date(2020, 1, 1), PAY_DAY):
        made += book.money_day(day, [("P1", 8_000)] if day == PAY_DAY else [])
    return made, book


def test_a_day_of_money_is_typed_events_in_the_contracts_order() -> None:
    made, book = events()
    assert made == [
        Charged(date(2020, 1, 1), B1, applied_fen=3_000),
        Charged(PAY_DAY, B2, applied_fen=0),
        FeeFinalized(PAY_DAY, "B1", charged_fen=84, waived_fen=0),
        Paid(PAY_DAY, "P1", 8_000, (("B1", 7_000, 84), ("B2", 916, 0)), credit_fen=0),
    ]
    assert (book.credit, book.arrears(PAY_DAY)) == (0, 0)


def test_the_ledger_books_the_events() -> None:
    made, _ = events()
    entries = [e for event in made for e in booked(event) if e is not None]
    assert [(e.key, e.kind, e.effective_on, e.lines) for e in entries] == [
        (
            "charge:B1",
            "charge",
            date(2020, 1, 1),
            (Line("principal", 10_000, "B1"), Line("sales", -10_000)),
        ),
        (
            "credit:B1",
            "credit_applied",
            date(2020, 1, 1),
            (Line("credit", 3_000), Line("principal", -3_000, "B1")),
        ),
        ("charge:B2", "charge", PAY_DAY, (Line("principal", 5_000, "B2"), Line("sales", -5_000))),
        ("fee:B1", "late_fee", PAY_DAY, (Line("fee", 84, "B1"), Line("fee_income", -84))),
        (
            "pay:P1",
            "payment",
            PAY_DAY,
            (
                Line("cash", 8_000),
                Line("principal", -7_000, "B1"),
                Line("fee", -84, "B1"),
                Line("principal", -916, "B2"),
            ),
        ),
    ]
