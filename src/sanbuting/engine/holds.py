"""Account relief (docs/account-relief.md): locks, promises to pay and instalment plans of one
account, compiled from its `holds` rows and its payments into what every engine needs.

Whether a promise is kept or a plan broken depends only on the account's payments, never on
its ladder, so both engines take the same compiled `Relief` items: the days each acts on, the
steps it locks, the day it is broken (the ladder forgets its notice then) and the fees a kept
plan stops (a waiver window on the bills issued before the plan). `outcome` says how each
stands on a run's last day.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sanbuting.domain import Action
from sanbuting.policy.model import Window
from sanbuting.rules.schema import AccountRelief as AccountReliefRules

ONE_DAY = timedelta(days=1)
KINDS = ("hold", "promise", "instalments", "waive_fee")
POLICY_KINDS = frozenset({"exempt", "defer"})
"""Protection events of policies: the regulator's counts; the others are account relief."""
Kind = Literal["hold", "promise", "instalments", "waive_fee"]
MONEY_KINDS = ("instalments", "waive_fee")
"""The kinds that change late fees (`fee_pause`): the store's money paths read only these."""
FAR_PAST = date(1970, 1, 1)
"""Where a waiver's days without fees begin: every day a bill accrued."""
OUTCOMES = ("kept", "broken", "ended", "open", "not_started")
ENFORCEMENT = frozenset({Action.NOTICE, Action.SUSPEND, Action.DISCONNECT, Action.TERMINATE})


@dataclass(frozen=True, slots=True)
class Hold:
    """One row of the `holds` input, as loaded."""

    hold_id: str
    kind: Kind
    start: date
    """The `from` column: the first day it acts."""
    until: date | None
    notice_only: bool
    amount_fen: int | None
    instalments: int | None

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Hold:
        """A hold from a loaded row (the `holds` columns, `from` as a date)."""
        kind = row["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown hold kind {kind!r}")
        return cls(
            hold_id=row["hold_id"],
            kind=kind,
            start=row["from"],
            until=row["until"],
            notice_only=row.get("steps") == "notice",
            amount_fen=row["amount_fen"],
            instalments=row["instalments"],
        )


@dataclass(frozen=True, slots=True)
class Relief:
    """A hold compiled against the account's payments: it acts on `[start, stop)`."""

    hold_id: str
    kind: Kind
    start: date
    stop: date
    notice_only: bool
    kept_on: date | None
    broken_on: date | None
    """The day the ladder forgets its notice (a broken promise or plan)."""
    fee_pause: Window | None
    """Days on which the bills issued before `start` accrue no fee (a plan, fees stopped; a
    waiver: every day through its `until`)."""

    def locks(self, day: date, action: Action) -> bool:
        """True when this item keeps `action` from being carried out on `day`."""
        if not self.start <= day < self.stop or action not in ENFORCEMENT:
            return False
        return action is Action.NOTICE or not self.notice_only

    def row(self) -> dict[str, Any]:
        """As a struct of the accounts frame's `holds` column (`engine.relief_column`)."""
        pause = self.fee_pause
        return {
            "hold_id": self.hold_id,
            "kind": self.kind,
            "start": self.start,
            "stop": self.stop,
            "notice_only": self.notice_only,
            "kept_on": self.kept_on,
            "broken_on": self.broken_on,
            "pause_start": pause.start if pause else None,
            "pause_end": pause.end if pause else None,
        }

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Relief:
        pause = row["pause_start"], row["pause_end"]
        return cls(
            hold_id=row["hold_id"],
            kind=row["kind"],
            start=row["start"],
            stop=row["stop"],
            notice_only=row["notice_only"],
            kept_on=row["kept_on"],
            broken_on=row["broken_on"],
            fee_pause=Window(pause[0], pause[1]) if pause[0] is not None else None,
        )


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (the month's last day where it has none)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def schedule(hold: Hold) -> list[tuple[date, int]]:
    """An instalment plan's parts: (due day, amount), the last part taking the remainder."""
    assert hold.amount_fen is not None and hold.instalments is not None
    n, total = hold.instalments, hold.amount_fen
    part = total // n
    return [
        (add_months(hold.start, k), part + (total - part * n if k == n else 0))
        for k in range(1, n + 1)
    ]


def paid_days(payments: Iterable[tuple[date, int]], start: date) -> list[tuple[date, int]]:
    """(day, paid from `start` through that day) for each day with payments, in day order."""
    by_day: dict[date, int] = {}
    for day, amount in payments:
        if day >= start:
            by_day[day] = by_day.get(day, 0) + amount
    running, result = 0, []
    for day in sorted(by_day):
        running += by_day[day]
        result.append((day, running))
    return result


def compile_hold(
    hold: Hold, payments: Sequence[tuple[date, int]], grace_days: int, stop_fees: bool
) -> Relief:
    """The days `hold` acts on and how it ends, given the account's (day, amount) payments."""
    paid = paid_days(payments, hold.start)
    if hold.kind == "waive_fee":  # it holds no step: an empty span
        assert hold.until is not None
        waived = Window(start=FAR_PAST, end=hold.until + ONE_DAY)
        return Relief(hold.hold_id, "waive_fee", hold.start, hold.start, False, None, None, waived)
    if hold.kind == "hold":
        assert hold.until is not None
        return Relief(
            hold.hold_id, "hold", hold.start, hold.until + ONE_DAY, hold.notice_only,
            None, None, None,
        )  # fmt: skip
    assert hold.amount_fen is not None
    if hold.kind == "promise":
        assert hold.until is not None
        kept = next((d for d, p in paid if d <= hold.until and p >= hold.amount_fen), None)
        promised_stop = kept or hold.until + ONE_DAY
        return Relief(
            hold.hold_id, "promise", hold.start, promised_stop, False,
            kept, None if kept else promised_stop, None,
        )  # fmt: skip
    plan_kept, broken = _plan_end(schedule(hold), paid, hold.amount_fen, grace_days)
    stop = plan_kept or broken
    assert stop is not None  # a plan is kept or broken by its last part's grace
    pause = Window(start=hold.start, end=stop) if stop_fees else None
    return Relief(hold.hold_id, "instalments", hold.start, stop, False, plan_kept, broken, pause)


def _plan_end(
    parts: list[tuple[date, int]], paid: list[tuple[date, int]], total: int, grace_days: int
) -> tuple[date | None, date | None]:
    """(kept day, None) or (None, broken day) of a plan: kept the day paid reaches `total`;
    broken the first day paid is below what fell due (each part from its grace's end + 1)."""
    grace = timedelta(days=grace_days)
    kept = next((d for d, p in paid if p >= total), None)
    due_so_far = 0
    for due_day, amount in parts:
        due_so_far += amount
        check = due_day + grace + ONE_DAY  # the first day this part is late
        if kept is not None and kept <= check:
            return kept, None
        # paid through `check` (payments of that day count before the check)
        through = max((p for d, p in paid if d <= check), default=0)
        if through < due_so_far:
            return None, check
        # paid enough by `check`; later days stay covered until the next part is late
    assert kept is not None  # the last part checked paid the whole amount
    return kept, None


def compile_holds(
    holds: Sequence[Hold],
    payments: Sequence[tuple[date, int]],
    grace_days: int,
    stop_fees: bool,
) -> tuple[Relief, ...]:
    """Every hold of one account, in file order."""
    return tuple(compile_hold(h, payments, grace_days, stop_fees) for h in holds)


def outcome(item: Relief, end: date) -> tuple[str, date | None]:
    """How `item` stands at the end of day `end`: (outcome, its day or None)."""
    if item.start > end:
        return "not_started", None
    if item.kept_on is not None and item.kept_on <= end:
        return "kept", item.kept_on
    if item.broken_on is not None and item.broken_on <= end:
        return "broken", item.broken_on
    if item.kind == "hold" and item.stop <= end:
        return "ended", item.stop
    if item.kind == "waive_fee" and item.fee_pause is not None and item.fee_pause.end <= end:
        return "ended", item.fee_pause.end
    return "open", None


def relief_of(
    holds: Sequence[Hold], payments: Iterable[tuple[date, int]], rules: AccountReliefRules
) -> tuple[Relief, ...]:
    """An account's holds compiled against its payments under its ruleset's settings."""
    if not holds:
        return ()
    stop_fees = rules.instalment_fees == "stop"
    return compile_holds(holds, list(payments), rules.instalment_grace_days, stop_fees)
