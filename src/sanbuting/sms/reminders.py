"""The text messages of a recorded day that no outbox order carries (`queue_day`): relief
granted, relief ending, promises to pay and instalments falling due. `sanbuting daily` queues
them for each day it records, and `sanbuting sms reminders --date D` again for a day (every
message has a key of its own, so running a day twice queues nothing twice).

- **Relief granted** (`relief_granted`): a postpaid account's protection event of the day
  (免停 or 缓停: a notice, cut-off or termination the policy prevented or moved) tells it that
  there is no cut-off through the policy's last day (免停) or the day before the step moved to
  (缓停); once per account and policy. A prepaid meter hears it when its 保电 switches on (the
  `guarantee_on` order, `sms.notices`).
- **Relief ending** (`relief_ending`): `RELIEF_ENDING_DAYS` before a 免停 policy's window ends,
  each postpaid account it protected that still owes is told the last day and its arrears:
  after it a notice may be served again.
- **Promise reminder** (`promise_reminder`): `PROMISE_DAYS` before the day a promise to pay
  falls due, while the account owes.
- **Instalment reminder** (`instalment_reminder`): `INSTALMENT_DAYS` before each part of an
  instalment plan falls due (`engine.holds.schedule`), while the account owes.

All are essential collections messages (opting out does not stop them; quiet hours hold them),
to the account's phone on record, in simplified Chinese; amounts as the ledger holds them at
the end of the day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode
from sanbuting.engine.holds import Hold, schedule
from sanbuting.ledger.service import arrears
from sanbuting.policy import Policy
from sanbuting.policy.model import Effect
from sanbuting.sms import rules
from sanbuting.sms.templates import Value, account_tail, configured
from sanbuting.store.models import Account, AccountHold, Company, ProtectionEvent, Run
from sanbuting.store.policy_versions import policies_for

RELIEF_ENDING_DAYS = 3
PROMISE_DAYS = 1
INSTALMENT_DAYS = 3
LANGUAGE = "zh-CN"
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayMessages:
    """What `queue_day` did, by event: outcomes counted by status."""

    company: str
    day: date
    counts: dict[str, Counter[str]]

    def line(self) -> str:
        parts = [
            f"{event} {sum(c.values())} ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))})"
            for event, c in sorted(self.counts.items())
        ]
        return f"{self.company} {self.day}: " + ("; ".join(parts) if parts else "no messages")


def queue_day(*, session: Session, company: Company, day: date, now: datetime) -> DayMessages:
    """Queue the day's messages of `company` (see the module); the caller commits."""
    counts: dict[str, Counter[str]] = {}
    policies = {p.id: p for p in policies_for(session=session, company_id=company.id)}

    def send(event: str, key: str, account: Account, values: dict[str, Value]) -> None:
        text = configured().render(event, language=LANGUAGE, company=company, values=values)
        outcome = rules.submit(
            session,
            company_id=company.id,
            key=key,
            phone=account.phone,
            text=text,
            category="essential",
            now=now,
        )
        counts.setdefault(event, Counter())[outcome.status] += 1

    for account, event in _protections(session, company, day):
        policy = policies.get(event.policy_id)
        end = _protected_through(policy, event)
        if end is None or account.billing_mode != BillingMode.POSTPAID.value:
            continue
        key = f"{company.code}:relief:{account.account_id}:{event.policy_id}:sms"
        send("relief_granted", key, account, {"account": tail(account), "end_date": end})
    for policy in policies.values():
        if policy.effect != Effect.EXEMPT or policy.window.end - day != timedelta(
            days=RELIEF_ENDING_DAYS
        ):
            continue
        for account in _protected_by(session, company, policy.id, day):
            owed = arrears(session=session, account=account, on=day)
            if owed <= 0:
                continue
            key = f"{company.code}:relief_end:{account.account_id}:{policy.id}:sms"
            last = policy.window.end - ONE_DAY
            values: dict[str, Value] = {"account": tail(account), "end_date": last}
            send("relief_ending", key, account, values | {"amount_yuan": owed})
    for hold, account in _holds(session, company, ("promise", "instalments")):
        if hold.kind == "promise":
            if hold.until_on != day + timedelta(days=PROMISE_DAYS) or not hold.amount_fen:
                continue
            if arrears(session=session, account=account, on=day) <= 0:
                continue
            key = f"{company.code}:promise:{hold.hold_id}:sms"
            values = {"account": tail(account), "amount_yuan": hold.amount_fen}
            send("promise_reminder", key, account, values | {"promise_date": hold.until_on})
            continue
        parts = _parts(hold)
        for number, (due, amount) in enumerate(parts, 1):
            if due != day + timedelta(days=INSTALMENT_DAYS):
                continue
            if arrears(session=session, account=account, on=day) <= 0:
                continue
            key = f"{company.code}:instalment:{hold.hold_id}:{number}:sms"
            values = {"account": tail(account), "amount_yuan": amount, "due_date": due}
            send(
                "instalment_reminder", key, account, values | {"part": number, "parts": len(parts)}
            )
    return DayMessages(company.code, day, counts)


def tail(account: Account) -> str:
    return account_tail(account.account_id)


def _protections(
    session: Session, company: Company, day: date
) -> list[tuple[Account, ProtectionEvent]]:
    """The day's protection events of the company's policies (免停, 缓停), with accounts."""
    rows = session.execute(
        select(Account, ProtectionEvent)
        .join(ProtectionEvent, ProtectionEvent.account == Account.id)
        .join(Run, Run.id == ProtectionEvent.run)
        .where(
            Run.company_id == company.id,
            ProtectionEvent.day == day,
            ProtectionEvent.kind.in_([Effect.EXEMPT.value, Effect.DEFER.value]),
        )
        .order_by(ProtectionEvent.id)
    ).all()
    return [(account, event) for account, event in rows]


def _protected_through(policy: Policy | None, event: ProtectionEvent) -> date | None:
    """The last day without a cut-off the event promises (None: its policy is gone)."""
    if event.kind == Effect.DEFER.value:
        return event.deferred_to - ONE_DAY if event.deferred_to is not None else None
    return policy.window.end - ONE_DAY if policy is not None else None


def _protected_by(session: Session, company: Company, policy_id: str, day: date) -> list[Account]:
    """The postpaid accounts the policy protected (a protection event) by `day`."""
    return list(
        session.scalars(
            select(Account)
            .where(
                Account.id.in_(
                    select(ProtectionEvent.account)
                    .join(Run, Run.id == ProtectionEvent.run)
                    .where(
                        Run.company_id == company.id,
                        ProtectionEvent.policy_id == policy_id,
                        ProtectionEvent.day <= day,
                    )
                ),
                Account.billing_mode == BillingMode.POSTPAID.value,
            )
            .order_by(Account.id)
        )
    )


def _holds(
    session: Session, company: Company, kinds: tuple[str, ...]
) -> list[tuple[AccountHold, Account]]:
    rows = session.execute(
        select(AccountHold, Account)
        .join(Account, Account.id == AccountHold.account)
        .where(AccountHold.company_id == company.id, AccountHold.kind.in_(list(kinds)))
        .order_by(AccountHold.id)
    ).all()
    return [(hold, account) for hold, account in rows]


def _parts(hold: AccountHold) -> list[tuple[date, int]]:
    if not hold.amount_fen or not hold.instalments:
        return []
    return schedule(
        Hold(
            hold_id=hold.hold_id,
            kind="instalments",
            start=hold.start_on,
            until=hold.until_on,
            notice_only=hold.steps == "notice",
            amount_fen=hold.amount_fen,
            instalments=hold.instalments,
        )
    )
