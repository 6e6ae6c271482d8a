"""A few stored accounts as the engine's `Account` records, read row by row.

`store.frames` reads a company's whole book through the driver's fast path into Polars frames;
for the one account a payment touches, building those frames costs more than the engine's
replay of the account. `load_records` reads the same four tables with plain queries and builds
exactly the records `accounts_from_frames(*load_frames(...))` builds (a test holds the two
equal), so posting a payment stays a handful of small queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import (
    AccountState,
    BillingMode,
    CustomerClass,
    Utility,
    as_utc,
    local_date,
    local_midnight,
    read_utc,
)
from sanbuting.engine.records import Account as AccountRecord
from sanbuting.engine.records import Bill as BillRecord
from sanbuting.engine.records import Payment as PaymentRecord
from sanbuting.store.models import Account, Bill, Payment, Usage


def load_records(session: Session, accounts: Sequence[int]) -> list[AccountRecord]:
    """The records of the accounts with these store ids, by account id."""
    ids = list(accounts)
    bills: dict[int, list[BillRecord]] = defaultdict(list)
    for bill in session.execute(
        select(
            Bill.account, Bill.bill_id, Bill.period, Bill.issued_on, Bill.due_on, Bill.amount_fen
        )
        .where(Bill.account.in_(ids))
        .order_by(Bill.bill_id)
    ):
        bills[bill.account].append(
            BillRecord(bill.bill_id, bill.period, bill.issued_on, bill.due_on, bill.amount_fen)
        )
    payments: dict[int, list[PaymentRecord]] = defaultdict(list)
    for pay in session.execute(
        select(Payment.account, Payment.key, Payment.paid_at, Payment.amount_fen).where(
            Payment.account.in_(ids)
        )
    ):
        payments[pay.account].append(payment_record(pay.key, pay.paid_at, pay.amount_fen))
    usage: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for used in session.execute(
        select(Usage.account, Usage.day, Usage.amount_fen)
        .where(Usage.account.in_(ids))
        .order_by(Usage.day)
    ):
        usage[used.account].append((used.day, used.amount_fen))
    rows = session.scalars(select(Account).where(Account.id.in_(ids)))
    records = [record_of(row, bills[row.id], payments[row.id], usage[row.id]) for row in rows]
    return sorted(records, key=lambda record: record.account_id)


def record_of(
    row: Account,
    bills: Sequence[BillRecord] = (),
    payments: Sequence[PaymentRecord] = (),
    usage: Sequence[tuple[date, int]] = (),
) -> AccountRecord:
    """The engine's record of a stored account with these rows."""
    return AccountRecord(
        account_id=row.account_id,
        utility=Utility(row.utility),
        customer_class=CustomerClass(row.customer_class),
        region=row.region,
        billing_mode=BillingMode(row.billing_mode),
        tags=frozenset(row.tags.split(";")) if row.tags else frozenset(),
        state=AccountState(row.state),
        balance_fen=row.opening_balance_fen,
        credit_limit_fen=row.credit_limit_fen,
        bills=tuple(bills),
        payments=tuple(sorted(payments, key=lambda p: p.sequence)),
        usage=tuple(usage),
    )


def rows_after(session: Session, row: Account, after: date) -> tuple[AccountRecord, dict[str, int]]:
    """A stored postpaid account's record with only the bills issued and the payments made
    after `after`, and those bills' store ids."""
    return rows_after_many(session, [(row, after)])[row.id]


def rows_after_many(
    session: Session, rows: Sequence[tuple[Account, date]]
) -> dict[int, tuple[AccountRecord, dict[str, int]]]:
    """`rows_after` for many accounts (each with its own day), by store id: one read of
    each table from the earliest of the days, each account's rows kept from its own."""
    afters = {row.id: after for row, after in rows}
    if not afters:
        return {}
    earliest = min(afters.values())
    bill_rows = session.execute(
        select(
            Bill.account,
            Bill.id,
            Bill.bill_id,
            Bill.period,
            Bill.issued_on,
            Bill.due_on,
            Bill.amount_fen,
        ).where(Bill.account.in_(list(afters)), Bill.issued_on > earliest)
    )
    payment_rows = session.execute(
        select(Payment.account, Payment.key, Payment.paid_at, Payment.amount_fen).where(
            Payment.account.in_(list(afters)), Payment.paid_at >= _after_day(earliest)
        )
    )
    return records_after(rows, bill_rows, payment_rows)


def records_after(
    rows: Sequence[tuple[Account, date]],
    bill_rows: Iterable[Sequence[Any]],
    payment_rows: Iterable[Sequence[Any]],
) -> dict[int, tuple[AccountRecord, dict[str, int]]]:
    """`rows_after_many` from rows read from any earlier day on: bills (account, store id, bill
    id, period, issued, due, amount) and payments (account, key, paid at, amount)."""
    afters = {row.id: after for row, after in rows}
    bills: dict[int, list[Any]] = defaultdict(list)
    for b in bill_rows:
        if b[4] > afters[b[0]]:
            bills[b[0]].append(b)
    payments: dict[int, list[PaymentRecord]] = defaultdict(list)
    for account, key, paid_at, amount in payment_rows:
        if read_utc(paid_at) >= _after_day(afters[account]):
            payments[account].append(payment_record(key, paid_at, amount))
    found: dict[int, tuple[AccountRecord, dict[str, int]]] = {}
    for row, _ in rows:
        mine = bills[row.id]
        record = record_of(
            row,
            sorted((BillRecord(*b[2:]) for b in mine), key=lambda b: b.bill_id),
            payments[row.id],
        )
        found[row.id] = record, {b[2]: b[1] for b in mine}
    return found


def has_rows_after(session: Session, account: int, day: date) -> bool:
    """Whether the account with this store id has a bill issued, a payment made or a day's
    usage dated after `day`."""
    found = (
        select(Bill.id).where(Bill.account == account, Bill.issued_on > day).limit(1),
        select(Payment.id)
        .where(Payment.account == account, Payment.paid_at >= _after_day(day))
        .limit(1),
        select(Usage.id).where(Usage.account == account, Usage.day > day).limit(1),
    )
    return any(session.scalar(query) is not None for query in found)


def _after_day(day: date) -> datetime:
    """The first instant after the Asia/Shanghai day `day`, in UTC."""
    return as_utc(local_midnight(day + timedelta(days=1)))


def payment_record(key: str, paid_at: datetime, amount_fen: int) -> PaymentRecord:
    """The engine's record of a stored payment: its Asia/Shanghai day, and its sequence (the
    UTC instant to the microsecond, then the key) that orders the payments of one day."""
    moment = read_utc(paid_at)
    sequence = f"{moment.strftime('%Y-%m-%dT%H:%M:%S.%f')}|{key}"
    return PaymentRecord(key, local_date(moment), sequence, amount_fen)
