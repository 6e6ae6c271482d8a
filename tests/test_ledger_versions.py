"""The ledger's correction rule on literal postings: an entry that changes is reversed and
posted again under the key's next version; one that vanishes is reversed; one that comes back
after a reversal takes a version never used, so no key is ever posted twice."""

from __future__ import annotations

from datetime import date

from sanbuting.ledger.difference import Posted, difference
from sanbuting.ledger.entries import Entry, Line

DAY = date(2020, 2, 3)
PAY = Entry("pay:K1", "payment", DAY, (Line("cash", 500), Line("principal", -500, "B1")))
CREDIT = Entry(
    "credit:B2", "credit_applied", DAY, (Line("credit", 80), Line("principal", -80, "B2"))
)


def posted(pid: int, key: str, lines: list[tuple[str, int, str | None]]) -> Posted:
    return Posted(pid, key, DAY, tuple(sorted(lines)))


def test_an_unchanged_entry_posts_nothing() -> None:
    current = {"pay:K1": posted(1, "pay:K1", [("cash", 500, None), ("principal", -500, "B1")])}
    assert difference([PAY], current, {"pay:K1": 1}) == ([], [])


def test_a_changed_entry_is_reversed_and_posted_as_the_next_version() -> None:
    old = posted(1, "pay:K1", [("cash", 500, None), ("principal", -400, "B1"), ("fee", -100, "B1")])
    new, undo = difference([PAY], {"pay:K1": old}, {"pay:K1": 1})
    assert [e.key for e in new] == ["pay:K1#2"]
    assert undo == [old]


def test_a_vanished_entry_is_reversed() -> None:
    old = posted(7, "credit:B2", [("credit", 80, None), ("principal", -80, "B2")])
    assert difference([], {"credit:B2": old}, {"credit:B2": 1}) == ([], [old])


def test_an_entry_back_after_its_reversal_takes_an_unused_version() -> None:
    # credit:B2 was posted (version 1), reversed, posted as #2, reversed again: none current.
    new, undo = difference([CREDIT], {}, {"credit:B2": 2})
    assert [e.key for e in new] == ["credit:B2#3"]
    assert undo == []


def test_a_new_entry_keeps_its_bare_key() -> None:
    new, _ = difference([CREDIT], {}, {})
    assert [e.key for e in new] == ["credit:B2"]
