"""Posting a payment: idempotent by the client's key, allocated as the contract says, booked
into the ledger at once, and a reconnection order queued the moment it clears the arrears of
an account that is cut off (not at the next nightly run). A cut-off ordered but not yet sent
is cancelled instead: the account was never cut off, so there is nothing to reconnect.

`post_payment` locks the account's row (`FOR UPDATE` on PostgreSQL; SQLite transactions take
the single write lock when they begin), so payments of one account are posted one at a time.
The same key with the same content returns the first result, stored with the payment; the same
key with other content is refused. The caller owns the transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc, local_date
from sanbuting.engine.records import Account as AccountRecord
from sanbuting.engine.relief import relief_for
from sanbuting.errors import SanbutingError
from sanbuting.ledger.entries import Entry, account_entries
from sanbuting.ledger.service import book_records, entries_arrears
from sanbuting.payments.orders import cancel_pending_cut_off, queue_reconnect, state_of
from sanbuting.policy import Policy
from sanbuting.rules import load_ruleset
from sanbuting.store.import_rows import payment_content
from sanbuting.store.models import Account, Company, Payment
from sanbuting.store.records import load_records, payment_record


class PaymentRefused(SanbutingError):
    """A payment that cannot be posted (unknown account, a key reused for another payment)."""


@dataclass(frozen=True, slots=True)
class PaymentIn:
    account_id: str
    amount_fen: int
    key: str
    paid_at: datetime
    """Timezone-aware; its Asia/Shanghai date is the day the payment counts on."""
    channel: str | None = None
    company: str | None = None
    """The company's code; needed only when several companies have this account number."""


@dataclass(frozen=True, slots=True)
class Part:
    bill_id: str
    principal_fen: int
    fee_fen: int


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What a payment did: its allocation (bill principal and fee, then credit), the account's
    arrears before and after on its day, and whether a reconnection order was queued."""

    key: str
    account_id: str
    company: str
    amount_fen: int
    paid_on: date
    parts: tuple[Part, ...]
    credit_fen: int
    arrears_before_fen: int
    arrears_after_fen: int
    reconnect_queued: bool
    repeated: bool = False
    """True when this key was posted before: the result is the first one."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PaymentResult:
        raw = json.loads(text)
        raw["parts"] = tuple(Part(**p) for p in raw["parts"])
        raw["paid_on"] = date.fromisoformat(raw["paid_on"])
        return cls(**raw)


def post_payment(
    *, session: Session, payment: PaymentIn, policies: list[Policy], now: datetime
) -> PaymentResult:
    """Post `payment` once (see the module docstring)."""
    if payment.amount_fen <= 0:
        raise PaymentRefused(f"a payment must be more than 0 fen, not {payment.amount_fen}")
    if payment.paid_at.tzinfo is None:
        raise PaymentRefused("paid_at needs a UTC offset, e.g. 2020-02-03T10:15:00+08:00")
    account, company = _locked_account(session, payment)
    content = payment_content(
        payment.account_id, payment.paid_at, payment.amount_fen, payment.channel
    )
    first = _posted_before(session, company, payment.key, content)
    if first is not None:
        return first
    day = local_date(payment.paid_at)
    assert company.origin is not None
    record = load_records(session, [account.id])[0]
    ruleset = load_ruleset(company.ruleset)
    so_far = account_entries(record, ruleset, relief_for(record, policies), company.origin, day)
    before = entries_arrears(so_far, record, day)
    stored = Payment(
        company_id=company.id,
        key=payment.key,
        content=content,
        account=account.id,
        paid_at=as_utc(payment.paid_at),
        amount_fen=payment.amount_fen,
        channel=payment.channel,
    )
    try:
        with session.begin_nested():
            session.add(stored)
    except IntegrityError:  # the same key posted meanwhile for another account
        again = _posted_before(session, company, payment.key, content)
        assert again is not None
        return again
    paid = payment_record(payment.key, payment.paid_at, payment.amount_fen)
    with_payment = replace(
        record, payments=tuple(sorted((*record.payments, paid), key=lambda p: p.sequence))
    )
    booked = book_records(
        session=session,
        company=company,
        records={account.id: with_payment},
        policies=policies,
        now=now,
        through=day,
    )
    entries = booked.entries[account.id]
    after = entries_arrears(entries, with_payment, day)
    parts, credit = _allocation(entries, f"pay:{payment.key}", with_payment)
    queued = False
    if before > 0 and after == 0:
        cancel_pending_cut_off(session=session, account=account, now=now, key=payment.key)
        if state_of(session=session, account=account, carried_out=True).cut_off:
            queued = queue_reconnect(
                session=session,
                company=company,
                account=account,
                day=day,
                now=now,
                key=payment.key,
            )
    result = PaymentResult(
        key=payment.key,
        account_id=account.account_id,
        company=company.code,
        amount_fen=payment.amount_fen,
        paid_on=day,
        parts=parts,
        credit_fen=credit,
        arrears_before_fen=before,
        arrears_after_fen=after,
        reconnect_queued=queued,
    )
    stored.result = result.to_json()
    session.flush()
    return result


def _locked_account(session: Session, payment: PaymentIn) -> tuple[Account, Company]:
    query = (
        select(Account, Company)
        .join(Company, Company.id == Account.company_id)
        .where(Account.account_id == payment.account_id)
    )
    if payment.company is not None:
        query = query.where(Company.code == payment.company)
    found = session.execute(query.with_for_update(of=Account)).all()
    if not found:
        raise PaymentRefused(f"no account {payment.account_id!r} in the store")
    if len(found) > 1:
        codes = ", ".join(sorted(row[1].code for row in found))
        raise PaymentRefused(
            f"account {payment.account_id!r} is in several companies ({codes}): name one"
        )
    return found[0][0], found[0][1]


def _posted_before(
    session: Session, company: Company, key: str, content: str
) -> PaymentResult | None:
    """The first result of `key`, if it was posted with this content; refused if with other."""
    stored = session.scalar(
        select(Payment).where(Payment.company_id == company.id, Payment.key == key)
    )
    if stored is None:
        return None
    if stored.content != content:
        raise PaymentRefused(
            f"payment key {key!r} was already used for another payment (other account, time, "
            "amount or channel): use a new key for a new payment"
        )
    if stored.result is None:  # imported, not posted through this service
        raise PaymentRefused(f"payment key {key!r} was imported from a payments file")
    first = PaymentResult.from_json(stored.result)
    return PaymentResult(**{**asdict(first), "parts": first.parts, "repeated": True})


def _allocation(
    entries: list[Entry], key: str, record: AccountRecord
) -> tuple[tuple[Part, ...], int]:
    """Per bill (oldest first), what the payment's entry paid of its principal and its fee;
    and what it left as credit."""
    entry = next((e for e in entries if e.key == key), None)
    if entry is None:  # dated before the books begin: nothing of it is allocated
        return (), 0
    order = {bill.bill_id: bill.order for bill in record.bills}
    paid: dict[str, list[int]] = {}
    for line in sorted(
        (line for line in entry.lines if line.bill_id is not None),
        key=lambda line: (order[line.bill_id or ""], line.book),
    ):
        if line.book in ("principal", "fee") and line.bill_id is not None:
            paid.setdefault(line.bill_id, [0, 0])[line.book == "fee"] -= line.amount_fen
    credit = -sum(line.amount_fen for line in entry.lines if line.book == "credit")
    return tuple(Part(bill, p, f) for bill, (p, f) in paid.items()), credit
