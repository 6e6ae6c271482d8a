"""`sanbuting explain`, end to end: read the inputs and policies, find the account, run it with
its story kept (`engine.simulate.story_of`), and tell it: a header (who, which rules, which
relief policies), the days (`explain.story.Narrator`) and an ending (state, money, late fees).

Rejected input rows do not stop an explanation: it runs on the good rows and reports how many
were left out, for the caller to warn about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from sanbuting.domain import AccountState, Utility, format_yuan, mask_phone
from sanbuting.engine.records import Account, AccountResult
from sanbuting.engine.relief_column import attach
from sanbuting.engine.simulate import accounts_from_frames, story_of
from sanbuting.errors import SanbutingError
from sanbuting.explain.catalogue import TEXT, Lang
from sanbuting.explain.story import Narrator, Setting
from sanbuting.io.readers import Inputs, read_inputs
from sanbuting.policy import load_policies
from sanbuting.policy.model import CreditPolicy, DeferPolicy, ExemptPolicy, Policy
from sanbuting.regions import full_name
from sanbuting.rules import rulesets_by_utility
from sanbuting.rules.schema import Ruleset


class UnknownAccount(SanbutingError):
    """The account asked for is not among the input's (good) accounts rows."""


@dataclass(frozen=True)
class ExplainRequest:
    data: Path
    policy_files: Sequence[Path]
    account_id: str
    start: date
    end: date
    lang: Lang = "zh"
    rulesets: dict[Utility, str] | None = None


@dataclass(frozen=True)
class Explanation:
    """The story as lines of text, with what the caller may want to check or warn about."""

    lines: list[str]
    result: AccountResult
    rejects: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def explain(request: ExplainRequest) -> Explanation:
    """Explain one account over `[start, end]`; an unknown account is an `UnknownAccount`."""
    if request.end < request.start:
        raise SanbutingError(f"--end {request.end} is before --start {request.start}")
    policies = load_policies(list(request.policy_files))
    rulesets = rulesets_by_utility(request.rulesets)
    inputs = read_inputs(request.data)
    account, phone = find_account(inputs, request.account_id, request.data, rulesets)
    return tell(request, account, phone, policies, rulesets, rejects=len(inputs.rejects))


def setting_for(
    account: Account, ruleset: Ruleset, in_scope: list[Policy], start: date, lang: Lang
) -> Setting:
    """What the narrator needs of an account besides its notes."""
    return Setting(
        lang=lang,
        utility=account.utility,
        billing_mode=account.billing_mode,
        start=start,
        opening_balance=account.balance_fen,
        low_balance_below_fen=ruleset.prepaid.low_balance_below_fen,
        bills={bill.bill_id: bill for bill in account.bills},
        policies={policy.id: policy for policy in in_scope},
    )


@dataclass(frozen=True)
class Acting:
    """An account acting on a day, as the collections desk sees it: why each action, its
    arrears at the end of the day and its oldest open overdue bill's due date, if any."""

    reasons: dict[tuple[str, str], str]
    arrears_fen: int
    overdue_since: date | None
    """The due date of the bill that drives today's enforcement step (postpaid)."""
    due_on: dict[str, date]
    """Each bill's due date, for a reminder's days overdue."""

    def days_overdue(self, day: date, bill_id: str) -> int | None:
        """How long the row's bill (a reminder's) or the ladder's oldest bill is overdue."""
        due = self.due_on.get(bill_id) if bill_id else self.overdue_since
        return (day - due).days if due is not None else None


def acting_on(
    account: Account,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    start: date,
    day: date,
    lang: Lang = "zh",
) -> Acting:
    """Why each action of `day` is taken, keyed by (action, bill id): the words `explain`
    uses for it, from a run of the account from `start` through `day`; with the account's
    arrears and the due dates that tell how long it is overdue."""
    ruleset = rulesets[account.utility]
    result, story = story_of(account, policies, rulesets, start, day)
    in_scope = [p for p in policies if p.scope.matches(account.facts)]
    narrator = Narrator(setting_for(account, ruleset, in_scope, start, lang))
    reasons = {
        (str(facts.get("action") or ""), str(facts.get("bill_id") or "")): text
        for facts, text in narrator.reasons_on(story.notes, day)
    }
    due = [
        note.facts["due_on"]
        for note in story.notes
        if note.day == day and note.kind == "step" and note.facts.get("due_on")
    ]
    since = due[0] if due and isinstance(due[0], date) else None
    arrears = result.state.arrears_fen if result.state is not None else 0
    return Acting(reasons, arrears, since, {b.bill_id: b.due_on for b in account.bills})


def tell(
    request: ExplainRequest,
    account: Account,
    phone: str | None,
    policies: list[Policy],
    rulesets: dict[Utility, Ruleset],
    rejects: int = 0,
) -> Explanation:
    """The story of one account record over the request's days (from files or the store)."""
    ruleset = rulesets[account.utility]
    result, story = story_of(account, policies, rulesets, request.start, request.end)
    in_scope = [p for p in policies if p.scope.matches(account.facts)]
    narrator = Narrator(setting_for(account, ruleset, in_scope, request.start, request.lang))
    teller = _Teller(request, account, narrator)
    days = narrator.tell(story.notes)
    lines = teller.header(phone, ruleset, in_scope)
    lines += ["", teller.t("days"), *(days or [teller.t("days.none")]), ""]
    lines += teller.ending(result)
    return Explanation(lines, result, rejects)


def find_account(
    inputs: Inputs, account_id: str, data: Path, rulesets: dict[Utility, Ruleset]
) -> tuple[Account, str | None]:
    """The account's record (with its bills, payments, usage and own relief) and its phone,
    if any."""

    def mine(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("account_id") == account_id)

    rows = mine(inputs.accounts)
    if rows.height == 0:
        hint = (
            f"; {len(inputs.rejects)} input rows were rejected "
            f"(see `sanbuting validate --data {data}`)"
            if inputs.rejects
            else ""
        )
        raise UnknownAccount(f"account {account_id!r} is not in the accounts of {data}{hint}")
    held = attach(rows, mine(inputs.holds), mine(inputs.payments), rulesets)
    records = accounts_from_frames(
        held, mine(inputs.bills), mine(inputs.payments), mine(inputs.usage)
    )
    phone = rows["phone"][0] if "phone" in rows.columns else None
    return records[0], (str(phone) if phone else None)


class _Teller:
    """The header and the ending, in the request's language."""

    def __init__(self, request: ExplainRequest, account: Account, narrator: Narrator) -> None:
        self.request = request
        self.account = account
        self.narrator = narrator
        self.words = TEXT[request.lang]

    def t(self, key: str, **values: object) -> str:
        return self.words[key].format(**values)

    def state(self, state: AccountState) -> str:
        utility_key = f"state.{state}.{self.account.utility}"
        return self.words.get(utility_key) or self.words[f"state.{state}"]

    def header(self, phone: str | None, ruleset: Ruleset, policies: Sequence[Policy]) -> list[str]:
        account, request = self.account, self.request
        mode = account.billing_mode
        limit = account.credit_limit_fen
        tags = self.t("list").join(sorted(account.tags)) or self.t("none")
        lines = [
            self.t("title", account=account.account_id, start=request.start, end=request.end),
            self.t(
                "who",
                utility=self.t(f"utility.{account.utility}"),
                klass=self.t(f"class.{account.customer_class}"),
                mode=self.t(f"mode.{mode}"),
                region=full_name(account.region),
                code=account.region,
            ),
            self.t("tags", tags=tags),
            self.t("phone", phone=mask_phone(phone) if phone else self.t("phone.none")),
            self.t("ruleset", name=ruleset.name, title=ruleset.title),
            self.t(
                "opening",
                start=request.start,
                state=self.state(account.state),
                balance_label=self.t(f"balance.{mode}"),
                balance=format_yuan(account.balance_fen),
                limit=self.t("limit", limit=format_yuan(limit)) if limit else "",
            ),
            self.t("policies" if policies else "policies.none"),
        ]
        for policy in policies:
            window = policy.window
            lines.append(
                self.t(
                    "policy.line",
                    policy=self.narrator.policy(policy.id),
                    effect=self.effect(policy),
                    window=self.t(
                        "window",
                        first=window.start,
                        last=window.end - timedelta(days=1),
                        days=(window.end - window.start).days,
                    ),
                )
            )
        return lines

    def effect(self, policy: Policy) -> str:
        """What a policy does, with its own settings."""
        if isinstance(policy, ExemptPolicy):
            text = self.t("effect.exempt")
            if policy.pause_reminders:
                text += self.t("effect.pause")
            if policy.reconnect:
                text += self.t("effect.reconnect")
            if policy.spread_days:
                text += self.t("effect.spread", days=policy.spread_days)
            return text
        if isinstance(policy, DeferPolicy):
            if policy.days is not None:
                return self.t("effect.defer.days", days=policy.days)
            return self.t("effect.defer.until", until=policy.until)
        if isinstance(policy, CreditPolicy):
            return self.t("effect.credit", credit=format_yuan(policy.credit_fen))
        if policy.issued_in is not None:
            bills = self.t("effect.waive.issued", months=self.t("list").join(policy.issued_in))
        elif policy.period_in is not None:
            bills = self.t("effect.waive.period", months=self.t("list").join(policy.period_in))
        else:
            bills = self.t("effect.waive.all")
        return self.t("effect.waive", bills=bills)

    def ending(self, result: AccountResult) -> list[str]:
        """The state at the end of the last day, each bill's late fee, the relief given."""
        account, request = self.account, self.request
        lines = []
        if result.state is not None:
            lines.append(
                self.t(
                    "end",
                    end=request.end,
                    state=self.state(result.state.state),
                    balance_label=self.t(f"balance.{account.billing_mode}"),
                    balance=format_yuan(result.state.balance_fen),
                    arrears=format_yuan(result.state.arrears_fen),
                )
            )
        bills = {bill.bill_id: bill for bill in account.bills}
        fee_lines = []
        for fee in result.fees:
            bill = bills[fee.bill_id]
            if bill.issued_on > request.end:
                continue
            open_fen = self.narrator.open_principal.get(fee.bill_id, bill.amount_fen)
            principal = (
                self.t("fee.open", open=format_yuan(open_fen)) if open_fen else self.t("fee.paid")
            )
            common = {
                "bill": fee.bill_id,
                "amount": format_yuan(bill.amount_fen),
                "due": bill.due_on,
                "principal": principal,
            }
            if not (fee.accrued_fen or fee.waived_fen or fee.days or fee.waived_days):
                fee_lines.append(self.t("fee.nothing", **common))
                continue
            waived = (
                self.t("fee.waived", waived=format_yuan(fee.waived_fen), wdays=fee.waived_days)
                if fee.waived_days
                else ""
            )
            paid = self.narrator.fee_paid.get(fee.bill_id, 0)
            settle = (
                self.t("fee.accruing")
                if open_fen
                else self.t(
                    "fee.charged", charged=format_yuan(fee.charged_fen), paid=format_yuan(paid)
                )
            )
            fee_lines.append(
                self.t(
                    "fee.bill",
                    **common,
                    accrued=format_yuan(fee.accrued_fen),
                    days=fee.days,
                    waived=waived,
                    settle=settle,
                )
            )
        if fee_lines:
            lines += [self.t("fees"), *fee_lines]
        if result.protections:
            events = self.t("list").join(
                self.t(
                    "relief.event",
                    day=row.date,
                    policy_id=row.policy_id,
                    kind=self.t(f"kind.{row.kind}"),
                )
                for row in result.protections
            )
            count = len(result.protections)
            lines.append(self.t("relief", count=count, events=events, days=result.protected_days))
        return lines
