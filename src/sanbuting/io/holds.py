"""The `holds` input's rules across its columns and rows (docs/account-relief.md), which the
per-column checks of `sanbuting.io.checks` cannot see: what each kind needs and forbids, one
instalment plan per account, no plan for a prepaid account, at most `MOST_PER_ACCOUNT` rows
of one account. They run on the file as read, before the column checks, and the rows they
refuse are taken out with a reject each; the column checks then refuse what else is wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

import polars as pl

from sanbuting.engine.holds import Hold, schedule
from sanbuting.io.reasons import STATUS, Accounts
from sanbuting.io.rejects import Reject, shown_value
from sanbuting.io.typed import LINE

MOST_PER_ACCOUNT = 30
MOST_INSTALMENTS = 60
NEEDS = {
    "hold": ("until",),
    "promise": ("until", "amount_fen"),
    "instalments": ("amount_fen", "instalments"),
    "waive_fee": ("until",),
}
FORBIDS = {
    "hold": ("amount_fen", "instalments"),
    "promise": ("instalments", "steps"),
    "instalments": ("steps",),
    "waive_fee": ("amount_fen", "instalments", "steps"),
}
WHAT = {
    "hold": "a lock",
    "promise": "a promise to pay",
    "instalments": "an instalment plan",
    "waive_fee": "a late-fee waiver",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _integer(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value is not None else None
    except ValueError:
        return None


def _row_problems(row: dict[str, str | None], prepaid: bool) -> list[tuple[str, str]]:
    """(column, reason) of each rule of its kind the row breaks."""
    kind = row.get("kind")
    if kind not in NEEDS:
        return []  # the column check refuses an unknown kind
    what = WHAT[kind]
    problems = [(name, f"{what} needs {name}") for name in NEEDS[kind] if row.get(name) is None]
    problems.extend(
        (name, f"{what} takes no {name}: leave it empty")
        for name in FORBIDS[kind]
        if row.get(name) is not None and not (name == "steps" and row.get(name) == "all")
    )
    if kind != "instalments" or problems:
        return problems
    if prepaid:
        return [("account_id", "an instalment plan is for a postpaid account's bills")]
    count, amount = _integer(row.get("instalments")), _integer(row.get("amount_fen"))
    if count is not None and count > MOST_INSTALMENTS:
        return [("instalments", f"at most {MOST_INSTALMENTS} instalments")]
    start, until = _day(row.get("from")), _day(row.get("until"))
    if None not in (count, amount, start, until) and amount is not None and amount > 0:
        assert start is not None and count is not None and count >= 2
        plan = Hold("", "instalments", start, None, False, amount, count)
        last = schedule(plan)[-1][0]
        if until != last:
            return [
                ("until", f"the last instalment falls due on {last}: give that or leave it empty")
            ]
    return []


def has_holds_file(files: Iterable[str]) -> bool:
    """Whether these input file names (`holds.csv`, `accounts.parquet`…) include a `holds`
    file: then `account_relief.csv` and the summary's `account_relief` are written."""
    return any(name.rsplit(".", 1)[0] == "holds" for name in files)


def check_holds(
    frame: pl.DataFrame, file: str, accounts: Accounts
) -> tuple[pl.DataFrame, list[Reject]]:
    """`frame` (the holds file as read, with `LINE`) without the rows that break the rules
    across columns and rows, and a reject for each such problem."""
    if frame.is_empty():
        return frame, []
    modes = dict(accounts.status.select("account_id", STATUS).iter_rows())
    names = [name for name in frame.columns if name != LINE]
    rejects: list[Reject] = []
    refused: set[int] = set()
    per_account: Counter[str] = Counter()
    plans: set[str] = set()
    for values in frame.iter_rows(named=True):
        row = {name: _text(values[name]) for name in names}
        line = int(values[LINE])
        account = row.get("account_id") or ""
        problems = _row_problems(row, modes.get(account) == "prepaid")
        if not problems and account:
            per_account[account] += 1
            if per_account[account] > MOST_PER_ACCOUNT:
                problems = [("account_id", f"at most {MOST_PER_ACCOUNT} holds for one account")]
            elif row.get("kind") == "instalments" and account in plans:
                problems = [("kind", "this account already has an instalment plan in this file")]
            elif row.get("kind") == "instalments":
                plans.add(account)
        for column, reason in problems:
            value = row.get(column) or ""
            rejects.append(Reject(file, line, column, shown_value(column, value), reason))
        if problems:
            refused.add(line)
    if not refused:
        return frame, rejects
    return frame.filter(~pl.col(LINE).is_in(sorted(refused))), rejects
