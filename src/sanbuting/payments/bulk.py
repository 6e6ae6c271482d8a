"""Many payments of one transaction (a bank file's batch, the API's batch): `post_all` posts
them set-based where the open items allow it (`post_many`), the rest one by one
(`post_payment`).

A payment is posted here when its key is in no stored payment and in no other row of the
batch, it is its account's only payment in the batch that may post, and its postpaid account
has an open book that `payments.booking` would use. For those, each read is one query for
the whole batch (the accounts, locked together in store-id order; the keys; the open books;
the rows dated after them; the ledger's postings of the days walked) and each write one
statement (the payments, the postings and their lines, the watermarks, the open books, the
dirty marks). Each account is walked from its open book in Python exactly as `post_payment` walks it
(`booking.from_open_book`), so the entries, results and open books are the same: a property
test holds a file posted this way equal to the same file posted one payment at a time.

The payments are inserted first, in a savepoint: if another transaction posted one of the
keys meanwhile (the database's unique index), nothing of the batch is posted here and the
caller posts each payment one by one, which answers that one `repeated` or refused.

On PostgreSQL the same payments go the driver's way instead (`payments.lean.post_many`): the
accounts locked and everything read in one round trip, the walks in Python, one statement
writing the batch; a payment whose key was taken meanwhile gets nothing written there and is
posted one by one like the rest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode, as_utc
from sanbuting.engine.records import Payment as PaymentRecord
from sanbuting.engine.relief import relief_for
from sanbuting.errors import SanbutingError
from sanbuting.payments import booking, lean
from sanbuting.payments.service import (
    Batch,
    PaymentIn,
    PaymentRefused,
    PaymentResult,
    check,
    content_of,
    finish,
    hold_company,
    post_payment,
)
from sanbuting.rules import load_ruleset
from sanbuting.store import checkpoints, open_items
from sanbuting.store.models import Account, Company, Payment
from sanbuting.store.records import payment_record, record_of, rows_after_many

PAYMENTS = cast(Table, Payment.__table__)
CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class _Plan:
    index: int
    payment: PaymentIn
    account: Account
    paid: PaymentRecord
    prepared: booking.Prepared


def post_many(
    *, session: Session, payments: Sequence[PaymentIn], now: datetime, batch: Batch
) -> dict[int, PaymentResult]:
    """Post those of `payments` that can be posted set-based (see the module docstring);
    their results by index in `payments`. The others are untouched."""
    if lean.usable(session):  # PostgreSQL: three statements for the batch, by the driver
        alone = _alone(payments, _checked(payments))
        posted = lean.post_many(
            session=session,
            payments=[payments[i] for i in alone],
            now=now,
            policies=lambda company_id: batch.policies_of(session, company_id),
        )
        return {i: result for i, result in zip(alone, posted, strict=True) if result is not None}
    chosen = _candidates(session, payments)
    if not chosen:
        return {}
    located = _locked(session, [payments[i] for i in chosen])
    members: dict[int, list[tuple[int, Account]]] = defaultdict(list)
    companies: dict[int, Company] = {}
    for i in chosen:
        payment = payments[i]
        found = [
            (account, company)
            for account, company in located.get(payment.account_id, [])
            if payment.company is None or company.code == payment.company
        ]
        if len(found) != 1:
            continue
        account, company = found[0]
        if account.billing_mode != BillingMode.POSTPAID.value or company.origin is None:
            continue
        members[company.id].append((i, account))
        companies[company.id] = company
    results: dict[int, PaymentResult] = {}
    for company_id, mine in members.items():
        plans = _plans(session, companies[company_id], payments, mine, batch)
        results.update(_post(session, companies[company_id], plans, now, batch))
    return results


def post_all(
    *,
    session: Session,
    payments: Sequence[PaymentIn],
    now: datetime,
    set_based: bool = True,
) -> list[PaymentResult | SanbutingError]:
    """Post the payments of one transaction, each once by its key: set-based in `rounds`
    where the open items allow (`post_many`), the others one by one, each in a savepoint so
    that a refused one undoes nothing else; False `set_based`: all one by one (the standard
    the set-based way is held equal to). Each payment's result, or why it was refused."""
    batch = Batch()
    done: dict[int, PaymentResult | SanbutingError] = {}
    pairs = [(payment.key, payment.account_id) for payment in payments]
    for members in rounds(pairs) if set_based else [list(range(len(payments)))]:
        chosen = [payments[i] for i in members]
        at_once = (
            post_many(session=session, payments=chosen, now=now, batch=batch) if set_based else {}
        )
        for j, i in enumerate(members):
            if j in at_once:
                done[i] = at_once[j]
                continue
            try:
                with session.begin_nested():
                    done[i] = post_payment(
                        session=session, payment=payments[i], now=now, batch=batch
                    )
            except SanbutingError as exc:
                done[i] = exc
    return [done[i] for i in range(len(payments))]


def rounds(payments: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Payments, each given as (key, account id), by index in rounds to post one after the
    other: the first payment of each account in the first round, its second in the second,
    and so on, so that `post_many` meets each account once a round and each account's
    payments keep their order. All in one round, in order, when a key repeats (then only that
    order says which of its rows posts)."""
    if len({key for key, _ in payments}) < len(payments):
        return [list(range(len(payments)))]
    seen: Counter[str] = Counter()
    found: list[list[int]] = []
    for i, (_, account) in enumerate(payments):
        n = seen[account]
        seen[account] += 1
        if n == len(found):
            found.append([])
        found[n].append(i)
    return found


def _candidates(session: Session, payments: Sequence[PaymentIn]) -> list[int]:
    """The payments that pass `check`, whose key is in no stored payment, alone in the batch
    with their key and alone with their account among the rows that may post (a row whose
    key was posted posts nothing: it answers `repeated` or is refused)."""
    checked = _checked(payments)
    keys = sorted({payments[i].key for i in checked})
    stored: dict[str, bool] = {}
    for offset in range(0, len(keys), CHUNK):
        query = select(Payment.key, Payment.posted).where(
            Payment.key.in_(keys[offset : offset + CHUNK])
        )
        for key, posted in session.execute(query):
            stored[key] = stored.get(key, False) or posted
    may_post = [i for i in checked if not stored.get(payments[i].key, False)]
    return [i for i in _alone(payments, may_post) if payments[i].key not in stored]


def _checked(payments: Sequence[PaymentIn]) -> list[int]:
    """The payments that pass `check`."""
    checked = []
    for i, payment in enumerate(payments):
        try:
            check(payment)
        except PaymentRefused:
            continue
        checked.append(i)
    return checked


def _alone(payments: Sequence[PaymentIn], members: list[int]) -> list[int]:
    """The `members` alone with their key and with their account among them."""
    accounts = Counter(payments[i].account_id for i in members)
    repeats = Counter(payments[i].key for i in members)
    return [
        i
        for i in members
        if accounts[payments[i].account_id] == 1 and repeats[payments[i].key] == 1
    ]


def _locked(
    session: Session, payments: list[PaymentIn]
) -> dict[str, list[tuple[Account, Company]]]:
    """The accounts these payments name, locked in store-id order, by account id."""
    query = (
        select(Account, Company)
        .join(Company, Company.id == Account.company_id)
        .where(Account.account_id.in_(sorted({p.account_id for p in payments})))
        .order_by(Account.id)
    )
    codes = {p.company for p in payments}
    if None not in codes:
        query = query.where(Company.code.in_(sorted(c for c in codes if c is not None)))
    found: dict[str, list[tuple[Account, Company]]] = defaultdict(list)
    locked = query.with_for_update(of=Account).execution_options(populate_existing=True)
    for account, company in session.execute(locked).all():
        found[account.account_id].append((account, company))
    return found


def _plans(
    session: Session,
    company: Company,
    payments: Sequence[PaymentIn],
    members: list[tuple[int, Account]],
    batch: Batch,
) -> list[_Plan]:
    """The members whose payment the open items book, each walked from its open book."""
    policies = batch.policies_of(session, company.id)
    ruleset = load_ruleset(company.ruleset)
    books = open_items.load_many(session, [account.id for _, account in members])
    usable = [(i, account) for i, account in members if account.id in books]
    later = rows_after_many(
        session, [(account, books[account.id][0].as_of) for _, account in usable]
    )
    plans: list[_Plan] = []
    for i, account in usable:
        payment = payments[i]
        relief = relief_for(record_of(account), policies)
        fingerprint = booking.fingerprint_of(account, ruleset, relief)
        paid = payment_record(payment.key, payment.paid_at, payment.amount_fen)
        if fingerprint is None:
            continue
        prepared = booking.from_open_book(
            company=company,
            account=account,
            paid=paid,
            fingerprint=fingerprint,
            loaded=books[account.id],
            later=later[account.id],
            relief=relief,
            ruleset=ruleset,
        )
        if prepared is not None and prepared.walked is not None:
            plans.append(_Plan(i, payment, account, paid, prepared))
    wanted = [
        (plan.account.id, plan.prepared.walked.entries, plan.prepared.start.as_of)
        for plan in plans
        if plan.prepared.walked is not None and plan.prepared.start is not None
    ]
    held = booking.held_from_before(session, company, wanted)
    return [plan for plan in plans if plan.account.id not in held]


def _post(
    session: Session, company: Company, plans: list[_Plan], now: datetime, batch: Batch
) -> dict[int, PaymentResult]:
    if not plans:
        return {}
    rows = [
        {
            "company_id": company.id,
            "key": plan.payment.key,
            "content": content_of(plan.payment),
            "account": plan.account.id,
            "paid_at": as_utc(plan.payment.paid_at),
            "amount_fen": plan.payment.amount_fen,
            "channel": plan.payment.channel,
            "posted": True,
        }
        for plan in plans
    ]
    try:
        with session.begin_nested():
            session.execute(insert(PAYMENTS), rows)
    except IntegrityError:  # a key posted meanwhile by another transaction
        return {}
    booking.book_open_items(
        session=session,
        company=company,
        booked=[(plan.account, plan.prepared, plan.paid.paid_on) for plan in plans],
        now=now,
    )
    results: dict[int, PaymentResult] = {}
    for plan in plans:
        walked = plan.prepared.walked
        assert walked is not None
        results[plan.index] = finish(
            session=session,
            company=company,
            account=plan.account,
            payment=plan.payment,
            before=plan.prepared.before,
            booked=booking.Booked(walked.entries, walked.arrears, walked.order),
            now=now,
        )
    session.connection().execute(
        update(PAYMENTS)
        .where(PAYMENTS.c.key == bindparam("b_key"), PAYMENTS.c.posted == true())
        .values(result=bindparam("b_result")),
        [{"b_key": plan.payment.key, "b_result": results[plan.index].to_json()} for plan in plans],
    )
    checkpoints.insert_marks(
        session=session,
        company_id=company.id,
        newest=hold_company(session, company.id, batch),
        accounts=[(plan.account.account_id, plan.paid.paid_on) for plan in plans],
    )
    return results
