"""A run over every account: group the input frames into accounts, run each through the
reference engine with its ruleset and the policies in its scope, and sort what they wrote.

Accounts are independent, so the run is a loop (or, later, buckets and tasks) over them; the
result does not depend on the order they are run in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from sanbuting.domain import (
    ACTION_ORDER,
    AccountState,
    BillingMode,
    CustomerClass,
    Utility,
)
from sanbuting.engine.holds import POLICY_KINDS
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
from sanbuting.engine.relief_column import COLUMN, reliefs_in
from sanbuting.engine.story import Story
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
    provinces: dict[str, str] = field(default_factory=dict)
    """Each account's province (the first two digits of its region), for the reports."""

    def add(self, account: Account, result: AccountResult) -> None:
        self.actions += result.actions
        self.protections += result.protections
        self.fees += result.fees
        if result.state is not None:
            self.states.append(result.state)
        self.utilities[account.account_id] = account.utility
        self.provinces[account.account_id] = account.region[:2]
        if any(row.kind in POLICY_KINDS for row in result.protections):
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


def _lists(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """One row per account id with the list of each column's values."""
    return frame.group_by("account_id").agg(pl.col(name) for name in columns)


ACCOUNT_COLUMNS = (
    "account_id",
    "utility",
    "customer_class",
    "region",
    "billing_mode",
    "tags",
    "state",
    "balance_fen",
    "credit_limit_fen",
)


def accounts_from_frames(
    accounts: pl.DataFrame, bills: pl.DataFrame, payments: pl.DataFrame, usage: pl.DataFrame
) -> list[Account]:
    """One `Account` record per accounts row, with its bills, payments and usage, by id."""
    sequence = (
        pl.col("paid_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")
        + "|"
        + pl.col("payment_id")
    ).alias("sequence")
    bill_lists = _lists(bills, ["bill_id", "period", "issued_on", "due_on", "amount_fen"])
    pay_lists = _lists(
        payments.with_columns(sequence), ["payment_id", "paid_on", "sequence", "amount_fen"]
    )
    use_lists = _lists(usage.rename({"amount_fen": "used_fen"}), ["date", "used_fen"])
    held = (COLUMN,) if COLUMN in accounts.columns else ()
    joined = (
        accounts.select(*ACCOUNT_COLUMNS, *held)
        .join(bill_lists, on="account_id", how="left")
        .join(pay_lists.rename({"amount_fen": "paid_fen"}), on="account_id", how="left")
        .join(use_lists, on="account_id", how="left")
        .sort("account_id")
    )
    records = []
    for row in joined.iter_rows(named=True):
        bill_fields = (
            row["bill_id"],
            row["period"],
            row["issued_on"],
            row["due_on"],
            row["amount_fen"],
        )
        pay_fields = (row["payment_id"], row["paid_on"], row["sequence"], row["paid_fen"])
        records.append(
            Account(
                account_id=row["account_id"],
                utility=Utility(row["utility"]),
                customer_class=CustomerClass(row["customer_class"]),
                region=row["region"],
                billing_mode=BillingMode(row["billing_mode"]),
                tags=frozenset(row["tags"] or ()),
                state=AccountState(row["state"]),
                balance_fen=row["balance_fen"],
                credit_limit_fen=row["credit_limit_fen"],
                bills=tuple(Bill(*b) for b in zip(*bill_fields, strict=True))
                if row["bill_id"]
                else (),
                payments=(
                    tuple(Payment(*p) for p in zip(*pay_fields, strict=True))
                    if row["payment_id"]
                    else ()
                ),
                usage=tuple(zip(row["date"], row["used_fen"], strict=True)) if row["date"] else (),
                holds=reliefs_in(row.get(COLUMN)),
            )
        )
    return records


def simulate(
    accounts: Iterable[Account],
    policies: Sequence[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    end: date,
) -> RunResult:
    """Run every account from `start` through `end` with the reference engine."""
    result = RunResult()
    for account in accounts:
        relief = relief_for(account, policies)
        outcome = run_account(account, rulesets[account.utility], relief, start, end)
        result.add(account, outcome)
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


__all__ = ["RunResult", "accounts_from_frames", "simulate", "story_of"]
