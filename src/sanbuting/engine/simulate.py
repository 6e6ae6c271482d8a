"""A run over every account: group the input frames into accounts, run each through the
reference engine with its ruleset and the policies in its scope, and sort what they wrote.

Accounts are independent, so the run is a loop (or, later, buckets and tasks) over them; the
result does not depend on the order they are run in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from sanbuting.domain import (
    ACTION_ORDER,
    AccountState,
    BillingMode,
    CustomerClass,
    Utility,
)
from sanbuting.engine.records import (
    Account,
    AccountResult,
    ActionRow,
    Bill,
    FeeRow,
    Payment,
    ProtectionRow,
    StateRow,
)
from sanbuting.engine.reference import run_account
from sanbuting.engine.relief import relief_for
from sanbuting.engine.story import SILENT, Story
from sanbuting.policy.model import Policy
from sanbuting.rules.schema import Ruleset


@dataclass(slots=True)
class RunResult:
    """Every row of a run, sorted as the contract says, and the figures for the summary."""

    actions: list[ActionRow] = field(default_factory=list)
    protections: list[ProtectionRow] = field(default_factory=list)
    fees: list[FeeRow] = field(default_factory=list)
    states: list[StateRow] = field(default_factory=list)
    protected_days: dict[str, int] = field(default_factory=dict)
    protected_arrears_fen: dict[str, int] = field(default_factory=dict)
    utilities: dict[str, Utility] = field(default_factory=dict)

    def add(self, account: Account, result: AccountResult) -> None:
        self.actions += result.actions
        self.protections += result.protections
        self.fees += result.fees
        if result.state is not None:
            self.states.append(result.state)
        self.utilities[account.account_id] = account.utility
        if result.protections:
            self.protected_days[account.account_id] = result.protected_days
            self.protected_arrears_fen[account.account_id] = result.protected_arrears_fen

    def sort(self) -> None:
        self.actions.sort(
            key=lambda r: (r.date, r.account_id, ACTION_ORDER[r.action], r.bill_id, r.policy_rank)
        )
        self.protections.sort(
            key=lambda r: (r.date, r.account_id, ACTION_ORDER[r.prevented_action])
        )
        self.fees.sort(key=lambda r: r.bill_id)
        self.states.sort(key=lambda r: r.account_id)


def _grouped(frame: pl.DataFrame, columns: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of `frame` by account id (the frames' types are the contract's)."""
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in frame.select(["account_id", *columns]).iter_rows():
        groups[str(row[0])].append(row[1:])
    return groups


def _sequence(paid_at: datetime, payment_id: str) -> str:
    return f"{paid_at.astimezone(UTC).isoformat()}|{payment_id}"


def accounts_from_frames(
    accounts: pl.DataFrame, bills: pl.DataFrame, payments: pl.DataFrame, usage: pl.DataFrame
) -> list[Account]:
    """One `Account` record per accounts row, with its bills, payments and usage, by id."""
    bills_of = _grouped(bills, ["bill_id", "period", "issued_on", "due_on", "amount_fen"])
    pays_of = _grouped(payments, ["payment_id", "paid_on", "paid_at", "amount_fen"])
    usage_of = _grouped(usage, ["date", "amount_fen"])
    records = []
    columns = [
        "account_id",
        "utility",
        "customer_class",
        "region",
        "billing_mode",
        "tags",
        "state",
        "balance_fen",
        "credit_limit_fen",
    ]
    for row in accounts.select(columns).sort("account_id").iter_rows(named=True):
        account_id = row["account_id"]
        records.append(
            Account(
                account_id=account_id,
                utility=Utility(row["utility"]),
                customer_class=CustomerClass(row["customer_class"]),
                region=row["region"],
                billing_mode=BillingMode(row["billing_mode"]),
                tags=frozenset(row["tags"] or ()),
                state=AccountState(row["state"]),
                balance_fen=row["balance_fen"],
                credit_limit_fen=row["credit_limit_fen"],
                bills=tuple(Bill(*b) for b in bills_of.get(account_id, ())),
                payments=tuple(
                    Payment(str(pid), on, _sequence(at, str(pid)), int(fen))
                    for pid, on, at, fen in pays_of.get(account_id, ())
                ),
                usage=tuple((d, int(fen)) for d, fen in usage_of.get(account_id, ())),
            )
        )
    return records


def simulate(
    accounts: Iterable[Account],
    policies: Sequence[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
    on_account: Callable[[], None] | None = None,
) -> RunResult:
    """Run every account from `start` through `end` with the reference engine."""
    result = RunResult()
    for account in accounts:
        relief = relief_for(account, policies)
        outcome = run_account(account, rulesets[account.utility], relief, start, end)
        result.add(account, outcome)
        if on_account is not None:
            on_account()
    result.sort()
    return result


def story_of(
    account: Account,
    policies: Sequence[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
) -> tuple[AccountResult, Story]:
    """One account's run with its story kept, for `sanbuting explain`."""
    story = Story()
    relief = relief_for(account, policies)
    result = run_account(account, rulesets[account.utility], relief, start, end, story)
    return result, story


__all__ = ["SILENT", "RunResult", "accounts_from_frames", "simulate", "story_of"]
