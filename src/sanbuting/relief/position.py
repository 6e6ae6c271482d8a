"""One account's money as of a day, as a customer (or an agent, or the API) is told it: the
ledger is booked through that day first if it is not yet (`ledger.service.book_accounts`,
under the account's row lock, with the active policy set: every writer — import, payment,
policy activation — books what it adds, so only the days since the watermark can be
missing), then arrears and balance are read from it, and each bill
issued by then is shown with its open principal and its late fee: charged (finalized the day
the principal was paid), or accruing so far and what it would be if paid in full today, with
the day-range explanation of `fees.explain` in zh-CN and English. The state is the store's
(`payments.orders.state_of`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.domain import AccountState, BillingMode, CustomerClass, Utility
from sanbuting.fees import compute_late_fee, rates_for
from sanbuting.fees.explain import FeeQuestion, describe
from sanbuting.fees.latefee import LateFee, Rates
from sanbuting.ledger.service import arrears_of, book_accounts
from sanbuting.payments.orders import state_of
from sanbuting.policy import Policy
from sanbuting.policy.model import AccountFacts, Window
from sanbuting.policy.select import waivers_for_bill
from sanbuting.rules import load_ruleset
from sanbuting.store.database import write_aside
from sanbuting.store.models import Account, Bill, Company, LedgerLine, Posting
from sanbuting.store.plans import money_pauses
from sanbuting.store.policy_versions import policies_for


@dataclass(frozen=True, slots=True)
class BillLine:
    """One bill as of the day asked about."""

    bill_id: str
    period: str
    issued_on: date
    due_on: date
    amount_fen: int
    open_fen: int
    """Principal not paid yet."""
    fee_fen: int
    """The late fee: charged once finalized, else accrued so far (no minimum yet)."""
    fee_due_fen: int
    """The fee still to pay if the bill is paid in full that day (the minimum included)."""
    waived_fen: int
    """What relief waived of the fee so far."""
    fee_days: int
    waived_days: int
    finalized: bool
    overdue: bool
    """Principal open past the due date."""
    explain_zh: tuple[str, ...]
    explain_en: tuple[str, ...]

    @property
    def due_fen(self) -> int:
        """What clears this bill that day: open principal and its fee."""
        return self.open_fen + self.fee_due_fen

    def explanation(self, lang: str) -> tuple[str, ...]:
        return self.explain_en if lang == "en" else self.explain_zh


@dataclass(frozen=True, slots=True)
class Position:
    """An account's money and state at the end of day `on`."""

    account_id: str
    on: date
    utility: str
    billing_mode: str
    state: AccountState
    cut_off: bool
    arrears_fen: int
    """The contract's arrears: principal past due plus finalized unpaid fees (postpaid), or
    the balance below zero (prepaid)."""
    balance_fen: int
    """Money held for the customer (a prepaid balance; postpaid credit on hand); negative for
    a prepaid account below zero."""
    due_fen: int
    """What to pay that day to owe nothing: every open bill with its fee (postpaid), the
    arrears (prepaid)."""
    bills: tuple[BillLine, ...]
    """Bills issued by `on`, newest first."""

    @property
    def open_bills(self) -> tuple[BillLine, ...]:
        return tuple(b for b in self.bills if b.due_fen > 0)

    @property
    def prepaid(self) -> bool:
        return self.billing_mode == BillingMode.PREPAID.value


def facts_of(account: Account) -> AccountFacts:
    """What a policy scope looks at, from a stored account."""
    return AccountFacts(
        utility=Utility(account.utility),
        region=account.region,
        customer_class=CustomerClass(account.customer_class),
        billing_mode=BillingMode(account.billing_mode),
        tags=frozenset(t for t in (account.tags or "").split(";") if t),
    )


def account_position(
    *,
    session: Session,
    account: Account,
    on: date,
    policies: Sequence[Policy] | None = None,
    now: datetime | None = None,
) -> Position:
    """Book `account` through `on` and tell its position then (`policies` default to the
    active set; `now` stamps the postings booked). The caller owns the transaction."""
    chosen = list(
        policies_for(session=session, company_id=account.company_id)
        if policies is None
        else policies
    )
    company = session.get(Company, account.company_id)
    assert company is not None
    booked = session.scalar(select(Account.booked_through).where(Account.id == account.id))
    if booked is None or booked < on:  # every writer books what it adds: only days are new

        def book(side: Session) -> None:
            side.execute(select(Account.id).where(Account.id == account.id).with_for_update())
            owner = side.get(Company, account.company_id)
            assert owner is not None
            book_accounts(
                session=side,
                company=owner,
                accounts=[account.id],
                policies=chosen,
                now=now or datetime.now(tz=UTC),
                through=on,
            )

        write_aside(session, book)  # a read-only request books in a transaction of its own
    rows = _ledger(session, account, on)
    prepaid = account.billing_mode == BillingMode.PREPAID.value
    owed = arrears_of(((book, due, amount) for _, due, book, _, amount in rows), prepaid, on)
    held = -sum(amount for _, _, book, _, amount in rows if book == "credit")
    stored = state_of(session=session, account=account)
    bills: tuple[BillLine, ...] = ()
    if prepaid:
        due = owed
    else:
        ruleset = load_ruleset(company.ruleset)
        klass = CustomerClass(account.customer_class)
        bills = _bills(
            session,
            account,
            on,
            rows,
            rates_for(ruleset, klass),
            ruleset.name,
            facts_of(account),
            chosen,
            money_pauses(session, account.id, ruleset.account_relief),
        )
        due = sum(b.due_fen for b in bills)
    return Position(
        account_id=account.account_id,
        on=on,
        utility=account.utility,
        billing_mode=account.billing_mode,
        state=stored.state,
        cut_off=stored.cut_off,
        arrears_fen=owed,
        balance_fen=held,
        due_fen=due,
        bills=bills,
    )


LedgerRow = tuple[int | None, date | None, str, date, int]
"""An account's ledger summed by (bill, the bill's due date, book, day)."""


def _ledger(session: Session, account: Account, on: date) -> list[LedgerRow]:
    """The account's ledger through `on` in one query: what arrears, the balance and each
    bill's principal and fee are read from (`ledger.service.arrears` and `balances` give the
    same figures, one query each)."""
    rows = session.execute(
        select(
            LedgerLine.bill,
            Bill.due_on,
            LedgerLine.book,
            Posting.effective_on,
            func.sum(LedgerLine.amount_fen),
        )
        .join(Posting, Posting.id == LedgerLine.posting)
        .outerjoin(Bill, Bill.id == LedgerLine.bill)
        .where(Posting.account == account.id, Posting.effective_on <= on)
        .group_by(LedgerLine.bill, Bill.due_on, LedgerLine.book, Posting.effective_on)
    ).all()
    return [(bill, due, book, day, int(total or 0)) for bill, due, book, day, total in rows]


def _bills(
    session: Session,
    account: Account,
    on: date,
    rows: Sequence[LedgerRow],
    rates: Rates,
    ruleset: str,
    facts: AccountFacts,
    policies: Sequence[Policy],
    pauses: Sequence[tuple[date, Window]],
) -> tuple[BillLine, ...]:
    bills = session.scalars(
        select(Bill)
        .where(Bill.account == account.id, Bill.issued_on <= on)
        .order_by(Bill.due_on.desc(), Bill.issued_on.desc(), Bill.bill_id.desc())
    ).all()
    principal: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    fees: dict[int, int] = defaultdict(int)
    for bill_pk, _, book, day, amount in rows:
        if bill_pk is None:
            continue
        if book == "principal":
            principal[bill_pk][day] += amount
        elif book == "fee":
            fees[bill_pk] += amount
    return tuple(
        _bill_line(
            bill,
            principal[bill.id],
            fees[bill.id],
            on,
            rates,
            ruleset,
            facts,
            policies,
            tuple(pause for start, pause in pauses if bill.issued_on < start),
        )
        for bill in bills
    )


def _bill_line(
    bill: Bill,
    net: dict[date, int],
    fee_owed: int,
    on: date,
    rates: Rates,
    ruleset: str,
    facts: AccountFacts,
    policies: Sequence[Policy],
    own: tuple[Window, ...] = (),
) -> BillLine:
    """A bill from its principal's net change per day (the charge on its issue day, credit
    and payments after) and its finalized fee still owed."""
    paid: list[tuple[date, int]] = []
    for day, change in sorted(net.items()):
        amount = bill.amount_fen - change if day == bill.issued_on else -change
        if amount > 0:
            paid.append((day, amount))
    open_fen = max(0, sum(net.values()))
    paid = _capped(paid, bill.amount_fen)
    waivers = waivers_for_bill(policies, facts, issued_on=bill.issued_on, period=bill.period)
    windows = [*(w.window for w in waivers), *own]  # `own`: the account's plan or waiver

    def fee_through(payments: list[tuple[date, int]]) -> LateFee:
        return compute_late_fee(
            amount_fen=bill.amount_fen,
            due_on=bill.due_on,
            through=on,
            rates=rates,
            principal_payments=payments,
            waivers=windows,
        )

    fee = fee_through(paid)
    if open_fen == 0:
        fee_fen, fee_due = fee.charged_fen, max(0, fee_owed)
        through = max((day for day, _ in paid), default=on)
    else:
        fee_fen = fee.accrued_fen
        fee_due = fee_through([*paid, (on, open_fen)]).accrued_fen
        through = on
    question = FeeQuestion(
        ruleset, CustomerClass(facts.customer_class), bill.amount_fen, bill.due_on, through
    )
    return BillLine(
        bill_id=bill.bill_id,
        period=bill.period,
        issued_on=bill.issued_on,
        due_on=bill.due_on,
        amount_fen=bill.amount_fen,
        open_fen=open_fen,
        fee_fen=fee_fen,
        fee_due_fen=fee_due,
        waived_fen=fee.waived_fen,
        fee_days=fee.days,
        waived_days=fee.waived_days,
        finalized=open_fen == 0,
        overdue=open_fen > 0 and bill.due_on < on,
        explain_zh=tuple(describe(question, fee, waivers, "zh")),
        explain_en=tuple(describe(question, fee, waivers, "en")),
    )


def _capped(paid: list[tuple[date, int]], amount: int) -> list[tuple[date, int]]:
    """Payments against a principal, never more than the bill (a guard, not a rule)."""
    left, kept = amount, []
    for day, fen in paid:
        take = min(fen, left)
        if take > 0:
            kept.append((day, take))
        left -= take
    return kept
