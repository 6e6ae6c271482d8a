"""Instalment plans and late-fee waivers in the store's money paths (docs/account-relief.md).

A kept plan stops the late fees of the bills issued before it and a waiver takes them through
its last day, so every path that books or shows fees from the store compiles the account's
plans and waivers (`MONEY_KINDS`, called plans here) against its payments exactly as the
engines do (`engine.holds.relief_of`). Locks and promises never touch money.

Whether a plan is kept on a payment's day depends on that very payment, so an account with a
plan is booked from its history: `payments.booking.prepare` never walks it from an open book,
and the open book's fingerprint carries the plan's pause (`ledger.open_items.book_fingerprint`)
so that the set-based payment paths, which compile no plan, never match a book of it. A plan
set on an account forgets the open books made without it (`forget_books`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sanbuting.engine.holds import MONEY_KINDS, Hold, Kind, relief_of
from sanbuting.engine.records import Account as AccountRecord
from sanbuting.policy.model import Window
from sanbuting.rules import load_ruleset
from sanbuting.rules.schema import AccountRelief as AccountReliefRules
from sanbuting.store.models import Account, AccountHold, Company, OpenBookRow, OpenItemRow, Payment
from sanbuting.store.records import payment_record

CHUNK = 500


def plans_of(
    session: Session, accounts: Iterable[int], kinds: Sequence[str] = MONEY_KINDS
) -> dict[int, list[Hold]]:
    """The plans and waivers (`kinds`) of the accounts with these store ids, in the order they
    were set."""
    ids = sorted(set(accounts))
    found: dict[int, list[Hold]] = {}
    for offset in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(
                AccountHold.account,
                AccountHold.hold_id,
                AccountHold.kind,
                AccountHold.start_on,
                AccountHold.until_on,
                AccountHold.amount_fen,
                AccountHold.instalments,
            )
            .where(
                AccountHold.account.in_(ids[offset : offset + CHUNK]),
                AccountHold.kind.in_(list(kinds)),
            )
            .order_by(AccountHold.id)
        )
        for row in rows:
            kind: Kind = "waive_fee" if row.kind == "waive_fee" else "instalments"
            plan = Hold(
                row.hold_id, kind, row.start_on, row.until_on, False, row.amount_fen,
                row.instalments,
            )  # fmt: skip
            found.setdefault(row.account, []).append(plan)
    return found


def with_plans(
    record: AccountRecord, plans: Sequence[Hold], rules: AccountReliefRules
) -> AccountRecord:
    """`record` with its plans compiled against its own payments (unchanged without plans)."""
    if not plans:
        return record
    payments = [(p.paid_on, p.amount_fen) for p in record.payments]
    return replace(record, holds=relief_of(plans, payments, rules))


def records_with_plans(
    session: Session, records: Mapping[int, AccountRecord], rules: AccountReliefRules
) -> dict[int, AccountRecord]:
    """These records (by store id) each with its plans compiled (`with_plans`)."""
    plans = plans_of(session, records)
    return {pk: with_plans(record, plans.get(pk, ()), rules) for pk, record in records.items()}


def forget_books(session: Session, accounts: Iterable[int]) -> None:
    """Forget every open book of these accounts: they were made without the plan just set."""
    ids = sorted(set(accounts))
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        session.execute(delete(OpenItemRow).where(OpenItemRow.account.in_(chunk)))
        session.execute(delete(OpenBookRow).where(OpenBookRow.account.in_(chunk)))


def open_plans(session: Session, accounts: Mapping[int, date]) -> dict[int, str]:
    """Of these accounts (store id: a new plan's first day), those with a stored plan neither
    kept nor broken before that day, with its hold id: one plan at a time."""
    plans = plans_of(session, accounts, ("instalments",))
    if not plans:
        return {}
    paid = _paid(session, plans)
    rulesets = dict(
        session.execute(
            select(Account.id, Company.ruleset)
            .join(Company, Company.id == Account.company_id)
            .where(Account.id.in_(sorted(plans)))
        ).all()
    )
    found: dict[int, str] = {}
    for account, own in plans.items():
        rules = load_ruleset(rulesets[account]).account_relief
        for item in relief_of(own, paid.get(account, ()), rules):
            ended = item.kept_on or item.broken_on
            if ended is None or ended >= accounts[account]:
                found[account] = item.hold_id
    return found


def money_pauses(
    session: Session, account: int, rules: AccountReliefRules
) -> tuple[tuple[date, Window], ...]:
    """The account's days without fees from its plans and waivers, as `relief_for` gives them
    (`AccountRelief.fee_pauses`: the bills issued before each start accrue nothing in it)."""
    plans = plans_of(session, [account])
    if not plans:
        return ()
    compiled = relief_of(plans[account], _paid(session, plans).get(account, ()), rules)
    return tuple((item.start, item.fee_pause) for item in compiled if item.fee_pause)


def _paid(session: Session, accounts: Iterable[int]) -> dict[int, list[tuple[date, int]]]:
    """Every stored payment of these accounts as (day, amount)."""
    paid: dict[int, list[tuple[date, int]]] = {}
    for row in session.execute(
        select(Payment.account, Payment.key, Payment.paid_at, Payment.amount_fen).where(
            Payment.account.in_(sorted(accounts))
        )
    ):
        record = payment_record(row.key, row.paid_at, row.amount_fen)
        paid.setdefault(row.account, []).append((record.paid_on, record.amount_fen))
    return paid
