"""What a payment is and what posting it gave: the request (`PaymentIn`), its checks and
content digest, its result (`PaymentResult`, stored with the payment and given again for a
repeat of its key) and the allocation read from its ledger entry. Shared by the ORM way
(`payments.service`) and the driver's way (`payments.lean`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sanbuting.domain import WRITE_OFF_CHANNEL, is_write_off, local_date
from sanbuting.errors import SanbutingError
from sanbuting.ledger.entries import Entry
from sanbuting.store.import_rows import payment_content

Order = dict[str, tuple[date, date, str]]
"""Each bill's order (oldest first), by bill id."""


class PaymentRefused(SanbutingError):
    """A payment that cannot be posted (unknown account, a key reused for another payment);
    `code` names the reason for programs and translations (`jobs.bank_reasons`), `params`
    its values."""

    def __init__(self, message: str, code: str = "refused", **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


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


def check(payment: PaymentIn) -> None:
    """Refuse a payment that no account could take (amount, instant, key)."""
    amount = payment.amount_fen
    if type(amount) is not int or not 0 < amount <= MAX_FEN:
        raise PaymentRefused(
            f"a payment is a whole number of fen from 1 to {MAX_FEN}: {amount!r}",
            "amount",
            value=repr(amount),
            most=str(MAX_FEN),
        )
    if payment.paid_at.tzinfo is None:
        raise PaymentRefused(
            "paid_at needs a UTC offset, e.g. 2020-02-03T10:15:00+08:00", "no_offset"
        )
    if not payment.key or len(payment.key) > KEY_LIMIT:
        raise PaymentRefused(
            f"a payment key has 1 to {KEY_LIMIT} characters", "key_length", most=str(KEY_LIMIT)
        )
    if is_write_off(payment.key) or payment.channel == WRITE_OFF_CHANNEL:
        raise PaymentRefused(
            "a write-off is not a payment: it is approved at the collections desk", "reserved"
        )


def content_of(payment: PaymentIn) -> str:
    """The digest of what a payment asks (see `PaymentIn.at_given`)."""
    if payment.at_given:
        return payment_content(
            payment.account_id, payment.paid_at, payment.amount_fen, payment.channel
        )
    text = f"{payment.account_id}\x1f\x1f{payment.amount_fen}\x1f{payment.channel or ''}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def first_result(key: str, content: str, stored: str, result: str | None) -> PaymentResult:
    """The result to give for `key` asked with `content`, found stored with content `stored`
    and first `result` (none: imported); refused if the content differs."""
    if stored != content:
        raise PaymentRefused(
            f"payment key {key!r} was already used for another payment (other account, time, "
            "amount or channel): use a new key for a new payment",
            "key_reused",
            key=repr(key),
        )
    if result is None:  # imported, not posted through this service
        raise PaymentRefused(
            f"payment key {key!r} was imported from a payments file", "key_imported", key=repr(key)
        )
    first = PaymentResult.from_json(result)
    return PaymentResult(**{**asdict(first), "parts": first.parts, "repeated": True})


def allocation(entries: list[Entry], key: str, order: Order) -> tuple[tuple[Part, ...], int]:
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


def result_of(
    payment: PaymentIn,
    account_id: str,
    company: str,
    entries: list[Entry],
    order: Order,
    before: int,
    after: int,
    queued: bool,
) -> PaymentResult:
    """A booked payment's result from its account's entries (`allocation`), its arrears before
    and after, and whether it queued a reconnection."""
    parts, credit = allocation(entries, f"pay:{payment.key}", order)
    return PaymentResult(
        key=payment.key,
        account_id=account_id,
        company=company,
        amount_fen=payment.amount_fen,
        paid_on=local_date(payment.paid_at),
        parts=parts,
        credit_fen=credit,
        arrears_before_fen=before,
        arrears_after_fen=after,
        reconnect_queued=queued,
    )
