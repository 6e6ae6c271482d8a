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

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc, local_date
from sanbuting.errors import SanbutingError
from sanbuting.ledger.entries import Entry
from sanbuting.payments import booking
from sanbuting.payments.orders import cancel_pending_cut_off, queue_reconnect, state_of
from sanbuting.policy import Policy
from sanbuting.rules import load_ruleset
from sanbuting.store import checkpoints
from sanbuting.store.import_rows import payment_content
from sanbuting.store.models import Account, Company, Payment
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.records import payment_record


class PaymentRefused(SanbutingError):
    """A payment that cannot be posted (unknown account, a key reused for another payment)."""


MAX_FEN = 10**11
"""No single payment is larger (a billion yuan): the channels' own limits are far lower."""
KEY_LIMIT = 128
"""The store's limit on a payment key."""


def scoped_key(scope: str, key: str) -> str:
    """The key the store keeps for a caller's `key`: named by who posts (`scope`, e.g.
    `ch:3` for channel credential 3), a digest when it would be too long."""
    kept = f"{scope}:{key}"
    if len(kept) <= KEY_LIMIT:
        return kept
    return f"{scope}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


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
    at_given: bool = True
    """The caller named the instant (a bank's file, a provider's trade time): it is part of
    the payment's content. False: `paid_at` is when the request came, and a retry of the key
    later is the same payment."""


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
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["parts"] = [
            {"bill_id": p.bill_id, "fee_fen": p.fee_fen, "principal_fen": p.principal_fen}
            for p in self.parts
        ]
        return json.dumps(fields, default=str, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PaymentResult:
        raw = json.loads(text)
        raw["parts"] = tuple(Part(**p) for p in raw["parts"])
        raw["paid_on"] = date.fromisoformat(raw["paid_on"])
        return cls(**raw)


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
    account, company = _locked_account(session, payment)
    content = content_of(payment)
    first = _posted_before(session, company, payment.key, content)
    if first is not None:
        return first
    day = local_date(payment.paid_at)
    assert company.origin is not None
    if policies is None:
        policies = (
            batch.policies_of(session, company.id)
            if batch is not None
            else policies_for(session=session, company_id=company.id)
        )
    ruleset = load_ruleset(company.ruleset)
    paid = payment_record(payment.key, payment.paid_at, payment.amount_fen)
    prepared = booking.prepare(
        session=session,
        company=company,
        account=account,
        paid=paid,
        ruleset=ruleset,
        policies=list(policies),
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
                f"payment key {payment.key!r} is taken: use a new key for a new payment"
            ) from None
        return again
    booked = booking.book(
        session=session,
        company=company,
        account=account,
        prepared=prepared,
        paid=paid,
        policies=list(policies),
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
    after = booked.after
    parts, credit = _allocation(booked.entries, f"pay:{payment.key}", booked.order)
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
    return PaymentResult(
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


def check(payment: PaymentIn) -> None:
    """Refuse a payment that no account could take (amount, instant, key)."""
    amount = payment.amount_fen
    if type(amount) is not int or not 0 < amount <= MAX_FEN:
        raise PaymentRefused(f"a payment is a whole number of fen from 1 to {MAX_FEN}: {amount!r}")
    if payment.paid_at.tzinfo is None:
        raise PaymentRefused("paid_at needs a UTC offset, e.g. 2020-02-03T10:15:00+08:00")
    if not payment.key or len(payment.key) > KEY_LIMIT:
        raise PaymentRefused(f"a payment key has 1 to {KEY_LIMIT} characters")


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
        raise PaymentRefused(f"no account {payment.account_id!r} in the store")
    if len(found) > 1:
        codes = ", ".join(sorted(row[1].code for row in found))
        raise PaymentRefused(
            f"account {payment.account_id!r} is in several companies ({codes}): name one"
        )
    return found[0][0], found[0][1]


def content_of(payment: PaymentIn) -> str:
    """The digest of what a payment asks (see `PaymentIn.at_given`)."""
    if payment.at_given:
        return payment_content(
            payment.account_id, payment.paid_at, payment.amount_fen, payment.channel
        )
    text = f"{payment.account_id}\x1f\x1f{payment.amount_fen}\x1f{payment.channel or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    entries: list[Entry], key: str, order: booking.Order
) -> tuple[tuple[Part, ...], int]:
    """Per bill (oldest first by `order`), what the payment's entry paid of its principal and
    its fee; and what it left as credit."""
    entry = next((e for e in entries if e.key == key), None)
    if entry is None:  # dated before the books begin: nothing of it is allocated
        return (), 0
    paid: dict[str, list[int]] = {}
    for line in sorted(
        (line for line in entry.lines if line.bill_id is not None),
        key=lambda line: (order[line.bill_id or ""], line.book),
    ):
        if line.book in ("principal", "fee") and line.bill_id is not None:
            paid.setdefault(line.bill_id, [0, 0])[line.book == "fee"] -= line.amount_fen
    credit = -sum(line.amount_fen for line in entry.lines if line.book == "credit")
    return tuple(Part(bill, p, f) for bill, (p, f) in paid.items()), credit
