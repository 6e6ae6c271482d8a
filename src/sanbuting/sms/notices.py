"""The text message of each outbox order that reaches a customer, queued when the dispatcher
sends the order (`on_sent`, in the transaction that marks it sent: an order cancelled because
the account paid, or held for a supervisor's release, sends no message).

Every action the engine writes tells the customer something (`EVENT_OF`): a reminder, a
cut-off notice (with the earliest cut-off day the ruleset allows: the notice's day plus its
lead time, or a prepaid meter's grace), a suspension, disconnection or termination (with the
arrears and how soon supply returns once paid), a reconnection (with the promised time: the
field work order's deadline), a low balance, and a prepaid meter's 保电 switched on and off
(relief granted through the policy's last day; relief ended, to an account that still owes).
The message goes to the account's phone on record (a mobile; a fixed line gets none) under the
order's key plus `:sms`, as an essential message in the account's company's name, in
simplified Chinese. Amounts are the ledger's on the order's day (`relief.position`).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import Action, BillingMode
from sanbuting.field.orders import deadline_of
from sanbuting.policy import Policy
from sanbuting.relief.position import Position, account_position
from sanbuting.rules import load_ruleset
from sanbuting.sms import rules
from sanbuting.sms.templates import Value, account_tail, configured
from sanbuting.store.models import Account, Bill, Company, OutboxItem
from sanbuting.store.policy_versions import policies_for

EVENT_OF: dict[str, str] = {
    Action.REMIND.value: "remind",
    Action.NOTICE.value: "notice",
    Action.SUSPEND.value: "suspend",
    Action.DISCONNECT.value: "disconnect",
    Action.TERMINATE.value: "terminate",
    Action.RECONNECT.value: "reconnect",
    Action.LOW_BALANCE.value: "low_balance",
    Action.GUARANTEE_ON.value: "relief_granted",
    Action.GUARANTEE_OFF.value: "relief_ending",
}
"""The template of each outbox order kind that reaches a customer (every action does)."""
LANGUAGE = "zh-CN"
ONE_DAY = timedelta(days=1)


def on_sent(session: Session, item: OutboxItem, moment: datetime) -> rules.Outcome | None:
    """The dispatcher's hook: queue the message of the order `item` just sent (None: the
    order tells no customer anything, or names no account)."""
    event = EVENT_OF.get(item.kind)
    if event is None or item.account is None or item.day is None:
        return None
    account = session.get(Account, item.account)
    company = session.get(Company, item.company_id)
    assert account is not None and company is not None  # foreign keys
    if rules.mobile_of(account.phone) is None:
        return rules.Outcome("no_phone")
    values = values_of(session=session, item=item, event=event, account=account, company=company)
    if values is None:
        return None
    text = configured().render(event, language=LANGUAGE, company=company, values=values)
    return rules.submit(
        session,
        company_id=company.id,
        key=f"{item.key}:sms",
        phone=account.phone,
        text=text,
        category="essential",
        now=moment,
    )


def values_of(
    *, session: Session, item: OutboxItem, event: str, account: Account, company: Company
) -> dict[str, Value] | None:
    """The placeholders of the order's message (None: no message, for a reminder of a bill
    paid that day, a relief whose policy is gone, or a relief ended for an account that owes
    nothing)."""
    assert item.day is not None
    day = item.day
    payload = json.loads(item.payload)
    ruleset = load_ruleset(company.ruleset)
    prepaid = account.billing_mode == BillingMode.PREPAID.value
    tail = account_tail(account.account_id)
    if event == "reconnect":
        deadline = deadline_of(session=session, item=item, kind="reconnect", company=company)
        return {"account": tail, "promised_time": deadline.at}
    position = _position(session, account, day)
    if event == "remind":
        bill = session.scalar(
            select(Bill).where(
                Bill.company_id == company.id, Bill.bill_id == str(payload.get("bill_id", ""))
            )
        )
        line = next((b for b in position.bills if bill and b.bill_id == bill.bill_id), None)
        amount = line.due_fen if line is not None else position.due_fen
        if amount <= 0:
            return None  # paid by the end of the reminder's day: nothing to remind of
        return {
            "account": tail,
            "amount_yuan": amount,
            "due_date": bill.due_on if bill is not None else day,
        }
    if event == "notice":
        lead = _notice_lead(ruleset_notice_days(company.ruleset, prepaid=prepaid))
        return {
            "account": tail,
            "amount_yuan": position.arrears_fen,
            "cutoff_date": day + timedelta(days=lead),
        }
    if event in ("suspend", "disconnect"):
        return {
            "account": tail,
            "amount_yuan": position.arrears_fen,
            "action_date": day,
            "restore_hours": ruleset.reconnect_promise.within_hours,
        }
    if event == "terminate":
        return {"account": tail, "amount_yuan": position.arrears_fen, "action_date": day}
    if event == "low_balance":
        return {
            "account": tail,
            "balance_yuan": position.balance_fen,
            "threshold_yuan": ruleset.prepaid.low_balance_below_fen,
        }
    policy = _policy(session, company, str(payload.get("policy_id", "")))
    if event == "relief_granted":
        if policy is None:
            return None
        return {"account": tail, "end_date": policy.window.end - ONE_DAY}
    if position.arrears_fen <= 0:
        return None  # relief ended for an account that owes nothing: nothing follows
    last = policy.window.end - ONE_DAY if policy is not None else day - ONE_DAY
    return {"account": tail, "end_date": last, "amount_yuan": position.arrears_fen}


def ruleset_notice_days(name: str, *, prepaid: bool) -> int | None:
    """Days from a cut-off notice to the earliest cut-off the ruleset allows: a postpaid
    notice's lead time, a prepaid meter's grace (None: the ruleset serves no notice)."""
    ruleset = load_ruleset(name)
    if prepaid:
        return ruleset.prepaid.notice.grace_days if ruleset.prepaid.notice else None
    return ruleset.postpaid.notice.lead_days if ruleset.postpaid.notice else None


def _notice_lead(days: int | None) -> int:
    return days if days is not None else 0


def _position(session: Session, account: Account, day: date) -> Position:
    return account_position(session=session, account=account, on=day)


def _policy(session: Session, company: Company, policy_id: str) -> Policy | None:
    if not policy_id:
        return None
    found: list[Policy] = [
        p for p in policies_for(session=session, company_id=company.id) if p.id == policy_id
    ]
    return found[0] if found else None
