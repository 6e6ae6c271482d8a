"""Posting a payment: idempotent by the client's key, allocated as the contract says, booked
into the ledger at once, and a reconnection order queued the moment it clears the arrears of
an account that is cut off (not at the next nightly run). A cut-off ordered but not yet sent
is cancelled instead: the account was never cut off, so there is nothing to reconnect.

`post_payment` locks the account's row (`FOR UPDATE` on PostgreSQL; SQLite transactions take
the single write lock when they begin), so payments of one account are posted one at a time.

**One idempotency rule, held by the database.** A posted payment's key is unique in the whole
deployment (a partial unique index on `payments.key` where `posted`), whichever company's
account it names: the key is named by whoever posts (`scoped_key`: a bank channel's, a
cashier's, a provider's order number), and two requests with one key never post twice, even
at the same moment on two companies' accounts (the second insert waits for the first and then
finds it). The same key with the same content returns the first result, stored with the
payment; the same key with other content is refused. Content is the account, amount and
channel, and the instant when the caller gave one (a retry a minute later is the same
payment). The caller owns the transaction.

Who may post is decided above this service: a payment provider's confirmed notification
(`checkout`), a cashier, a bank or agent channel's credential (`payments.channels`), or an
operator at the command line. A customer never posts money directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import WRITE_OFF_CHANNEL, WRITE_OFF_PREFIX, as_utc, local_date
from sanbuting.payments import booking, lean
from sanbuting.payments.model import (
    KEY_LIMIT,
    MAX_FEN,
    Part,
    PaymentIn,
    PaymentRefused,
    PaymentResult,
    check,
    content_of,
    first_result,
    result_of,
    scoped_key,
)
from sanbuting.payments.orders import settle
from sanbuting.policy import Policy
from sanbuting.rules import load_ruleset
from sanbuting.store import checkpoints
from sanbuting.store.models import Account, Company, Payment
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.records import payment_record

__all__ = [
    "KEY_LIMIT",
    "MAX_FEN",
    "Batch",
    "Part",
    "PaymentIn",
    "PaymentRefused",
    "PaymentResult",
    "check",
    "content_of",
    "post_payment",
    "scoped_key",
]


@dataclass
class Batch:
    """What the payments of one transaction share (a bank file's batch): each company's
    policies in force, read once; its row, held shared once (a checkpoint cannot be saved
    meanwhile, so its newest checkpoint's day is read once too). Only for payments posted in
    one transaction: a refused payment is refused before it holds anything."""

    policies: dict[int, list[Policy]] = field(default_factory=dict)
    newest: dict[int, date | None] = field(default_factory=dict)
    """Per company held, the day of its newest checkpoint."""

    def policies_of(self, session: Session, company_id: int) -> list[Policy]:
        if company_id not in self.policies:
            self.policies[company_id] = policies_for(session=session, company_id=company_id)
        return self.policies[company_id]


def post_payment(
    *,
    session: Session,
    payment: PaymentIn,
    now: datetime,
    policies: Sequence[Policy] | None = None,
    batch: Batch | None = None,
) -> PaymentResult:
    """Post `payment` once (see the module docstring), booked with `policies` (default: those
    in force for the account's company); `batch` when it is one of a transaction's many."""
    check(payment)
    return _post(session=session, payment=payment, now=now, policies=policies, batch=batch)


def post_write_off(
    *, session: Session, account_id: str, company: str, amount_fen: int, number: str, now: datetime
) -> PaymentResult:
    """Post the write-off `number` approved at the collections desk (`desk.adjustments`): a
    settlement of `amount_fen` on the account's open bills, oldest first, as a payment would
    settle them, booked to `bad_debt` (`domain.WRITE_OFF_PREFIX`). No payer can post one."""
    payment = PaymentIn(
        account_id=account_id,
        amount_fen=amount_fen,
        key=f"{WRITE_OFF_PREFIX}{number}",
        paid_at=now,
        channel=WRITE_OFF_CHANNEL,
        company=company,
        at_given=False,
    )
    return _post(session=session, payment=payment, now=now, policies=None, batch=None)


def _post(
    *,
    session: Session,
    payment: PaymentIn,
    now: datetime,
    policies: Sequence[Policy] | None,
    batch: Batch | None,
) -> PaymentResult:

    def in_force(company_id: int) -> Sequence[Policy]:
        if policies is not None:
            return policies
        if batch is not None:
            return batch.policies_of(session, company_id)
        return policies_for(session=session, company_id=company_id)

    if lean.usable(session):
        done = lean.post(session=session, payment=payment, now=now, policies=in_force)
        if done is not None:
            return done
    account, company = _locked_account(session, payment)
    content = content_of(payment)  # the driver's way digests it itself
    first = _posted_before(session, company, payment.key, content)
    if first is not None:
        return first
    day = local_date(payment.paid_at)
    assert company.origin is not None
    in_effect = list(in_force(company.id))
    ruleset = load_ruleset(company.ruleset)
    paid = payment_record(payment.key, payment.paid_at, payment.amount_fen)
    prepared = booking.prepare(
        session=session,
        company=company,
        account=account,
        paid=paid,
        ruleset=ruleset,
        policies=in_effect,
    )
    before = prepared.before
    stored = Payment(
        company_id=company.id,
        key=payment.key,
        content=content,
        account=account.id,
        paid_at=as_utc(payment.paid_at),
        amount_fen=payment.amount_fen,
        channel=payment.channel,
        posted=True,
    )
    try:
        with session.begin_nested():
            session.add(stored)
    except IntegrityError:  # the same key posted meanwhile (another account, another company)
        again = _posted_before(session, company, payment.key, content)
        if again is None:
            raise PaymentRefused(
                f"payment key {payment.key!r} is taken: use a new key for a new payment",
                "key_taken",
                key=repr(payment.key),
            ) from None
        return again
    booked = booking.book(
        session=session,
        company=company,
        account=account,
        prepared=prepared,
        paid=paid,
        policies=in_effect,
        now=now,
    )
    result = finish(
        session=session,
        company=company,
        account=account,
        payment=payment,
        before=before,
        booked=booked,
        now=now,
    )
    stored.result = result.to_json()
    checkpoints.insert_marks(
        session=session,
        company_id=company.id,
        newest=hold_company(session, company.id, batch),
        accounts=[(account.account_id, day)],
    )
    session.flush()
    return result


def finish(
    *,
    session: Session,
    company: Company,
    account: Account,
    payment: PaymentIn,
    before: int,
    booked: booking.Booked,
    now: datetime,
) -> PaymentResult:
    """A booked payment's result: its allocation, and the order it earned when it cleared the
    arrears (a pending cut-off cancelled, or a reconnection queued for an account cut off)."""
    day = local_date(payment.paid_at)
    queued = (
        before > 0
        and booked.after == 0
        and settle(
            session=session, company=company, account=account, day=day, now=now, key=payment.key
        )
    )
    return result_of(
        payment, account.account_id, company.code, booked.entries, booked.order, before,
        booked.after, queued,
    )  # fmt: skip


def hold_company(session: Session, company_id: int, batch: Batch | None) -> date | None:
    """Hold the company's row shared, so that no checkpoint is saved before this transaction
    ends, and return the day of its newest checkpoint (once per company in a batch)."""
    if batch is not None and company_id in batch.newest:
        return batch.newest[company_id]
    checkpoints.lock_company(session, company_id, exclusive=False)
    newest = checkpoints.latest_day(session, company_id)
    if batch is not None:
        batch.newest[company_id] = newest
    return newest


def _locked_account(session: Session, payment: PaymentIn) -> tuple[Account, Company]:
    query = (
        select(Account, Company)
        .join(Company, Company.id == Account.company_id)
        .where(Account.account_id == payment.account_id)
    )
    if payment.company is not None:
        query = query.where(Company.code == payment.company)
    locked = query.with_for_update(of=Account).execution_options(populate_existing=True)
    found = session.execute(locked).all()  # fresh: a payment before in this transaction moved it
    if not found:
        raise PaymentRefused(
            f"no account {payment.account_id!r} in the store",
            "no_account",
            account=repr(payment.account_id),
        )
    if len(found) > 1:
        codes = ", ".join(sorted(row[1].code for row in found))
        raise PaymentRefused(
            f"account {payment.account_id!r} is in several companies ({codes}): name one",
            "several_companies",
            account=repr(payment.account_id),
            companies=codes,
        )
    return found[0][0], found[0][1]


def _posted_before(
    session: Session, company: Company, key: str, content: str
) -> PaymentResult | None:
    """The first result of `key` (posted anywhere in the deployment, or imported into this
    company), if it was posted with this content; refused if with other."""
    stored = session.scalar(
        select(Payment)
        .where(Payment.key == key, Payment.posted | (Payment.company_id == company.id))
        .order_by(Payment.posted.desc())
        .limit(1)
    )
    if stored is None:
        return None
    return first_result(key, content, stored.content, stored.result)
