""" "Am I protected?": the relief policies of the active set that cover one account, now or
later, each told in plain words (zh-CN and English) with until when it lasts and where it
comes from; and the account's money position (`account_position`, from `relief.position`).

A policy covers an account when its scope matches the account's facts (utility, region,
class, billing mode, tags), exactly as the engine decides (`engine.relief`); an exempt with
`resume.spread_days` ends for this account on its own day, as the engine ends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from sanbuting.domain import Utility, format_yuan
from sanbuting.engine.relief import spread_offset
from sanbuting.policy import (
    CreditPolicy,
    DeferPolicy,
    ExemptPolicy,
    Policy,
    WaiverPolicy,
)
from sanbuting.relief.position import BillLine, Position, account_position, facts_of
from sanbuting.store.models import Account
from sanbuting.store.policy_versions import policies_for

__all__ = [
    "BillLine",
    "Position",
    "Protection",
    "account_position",
    "facts_of",
    "protection_status",
]

ONE_DAY = timedelta(days=1)
Lang = Literal["zh", "en"]

CUT = {
    Utility.POWER: ("电", "power cut", "恢复供电"),
    Utility.TELECOM: ("机", "service suspension", "恢复通信"),
    Utility.GAS: ("气", "gas cut-off", "恢复供气"),
}
FEE_NOUN = {Utility.POWER: "电费", Utility.TELECOM: "话费", Utility.GAS: "燃气费"}


@dataclass(frozen=True, slots=True)
class Protection:
    """One relief policy covering the account on or after the day asked about."""

    policy_id: str
    kind: str
    """exempt, defer, waive_late_fee or emergency_credit."""
    title: str
    """The policy's title, which names the measure and where it was announced."""
    start: date
    end: date
    """The last day covered, inclusive (for this account: an exempt may end later for some)."""
    active: bool
    """True when the day asked about is inside the window (False: it starts later)."""
    zh: str
    en: str
    source: str
    """Where the policy set was read (`file:line`)."""

    def words(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def protection_status(
    *,
    session: Session,
    account: Account,
    on: date,
    policies: Sequence[Policy] | None = None,
) -> list[Protection]:
    """The policies covering `account` whose window is current or upcoming on `on`, in file
    order (`policies` defaults to those in force for the account's company)."""
    chosen = (
        policies_for(session=session, company_id=account.company_id)
        if policies is None
        else policies
    )
    facts = facts_of(account)
    found = []
    for policy in chosen:
        if not policy.scope.matches(facts):
            continue
        until = policy.window.end
        if isinstance(policy, ExemptPolicy):
            until += timedelta(days=spread_offset(account.account_id, policy.spread_days))
        if until <= on:
            continue
        start, last = policy.window.start, until - ONE_DAY
        zh, en = _words(policy, facts.utility, start, last)
        found.append(
            Protection(
                policy_id=policy.id,
                kind=str(policy.effect),
                title=policy.title,
                start=start,
                end=last,
                active=start <= on,
                zh=zh,
                en=en,
                source=policy.source,
            )
        )
    return found


def _words(policy: Policy, utility: Utility, start: date, last: date) -> tuple[str, str]:
    """The policy in plain words for this account: (中文, English)."""
    verb, cut, restore = CUT[utility]
    span_zh = f"{start}至{last}期间"
    span_en = f"from {start} to {last}"
    if isinstance(policy, ExemptPolicy):
        zh = f"{span_zh}欠费不停{verb}"
        en = f"No {cut} for arrears {span_en}"
        if policy.pause_reminders:
            zh += "，并暂停催费提醒"
            en += ", and no payment reminders"
        if policy.reconnect:
            zh += f"；已停{verb}的{restore}"
            en += "; service already cut off is restored"
        return zh, en
    if isinstance(policy, DeferPolicy):
        if policy.days is not None:
            return (
                f"{span_zh}，欠费停{verb}的步骤推迟{policy.days}天执行",
                f"{span_en.capitalize()}, any step towards a {cut} for arrears is postponed "
                f"by {policy.days} days",
            )
        return (
            f"{span_zh}，欠费停{verb}的步骤推迟至{policy.until}起才执行",
            f"{span_en.capitalize()}, any step towards a {cut} for arrears is postponed "
            f"until {policy.until}",
        )
    if isinstance(policy, CreditPolicy):
        credit = format_yuan(policy.credit_fen)
        return (
            f"{span_zh}，预付费余额用完后还可透支{credit}元（应急额度），不停{verb}",
            f"{span_en.capitalize()}, your prepaid balance may go {credit} yuan below zero "
            f"(emergency credit) before a {cut}",
        )
    assert isinstance(policy, WaiverPolicy)
    noun = FEE_NOUN[utility]
    if policy.issued_in is not None:
        bills_zh = f"{'、'.join(policy.issued_in)}出账的{noun}"
        bills_en = f"bills issued in {', '.join(policy.issued_in)}"
    elif policy.period_in is not None:
        bills_zh = f"{'、'.join(policy.period_in)}账期的{noun}"
        bills_en = f"bills for {', '.join(policy.period_in)}"
    else:
        bills_zh, bills_en = f"所欠{noun}", "any unpaid bill"
    return (
        f"{span_zh}，{bills_zh}不计违约金",
        f"No late fee {span_en} on {bills_en}",
    )
