"""One account's notes told as sentences a customer-service agent can read to the customer.

The engine notes each fact as it decides it (`engine.story`); `Narrator` turns the notes into
dated lines, zh-CN or English, from the texts of `explain.catalogue`. Notes before the period
(the replay of a postpaid account) become one summary line; days on which a step stays
prevented or held become one line per run of days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import cast

from sanbuting.domain import BillingMode, Utility, format_yuan
from sanbuting.engine.records import Bill
from sanbuting.engine.story import Note
from sanbuting.explain.catalogue import TEXT, Lang
from sanbuting.policy.model import Policy


@dataclass(frozen=True, slots=True)
class Setting:
    """What the narrator needs besides the notes."""

    lang: Lang
    utility: Utility
    billing_mode: BillingMode
    start: date
    opening_balance: int
    low_balance_below_fen: int
    bills: dict[str, Bill]
    policies: dict[str, Policy]


@dataclass(slots=True)
class _Run:
    """Consecutive days on which one step stayed prevented (exempt) or held (defer)."""

    kind: str
    action: str
    policy_id: str
    first: date
    last: date
    until: date | None = None
    slot: int | None = None
    """Where its line goes in `Narrator.lines`: at the run's place in time, whatever comes
    between (a day's usage, a payment that does not end the episode)."""


def _int(facts: dict[str, object], key: str) -> int:
    return cast(int, facts.get(key) or 0)


def _day(facts: dict[str, object], key: str) -> date | None:
    return cast(date | None, facts.get(key))


def _str(facts: dict[str, object], key: str) -> str:
    return str(facts.get(key) or "")


@dataclass(slots=True)
class Narrator:
    """Reads the notes in order, keeping the money it needs to tell them (open principal and
    paid fees by bill, the prepaid balance), and writes the lines."""

    setting: Setting
    open_principal: dict[str, int] = field(default_factory=dict)
    fee_paid: dict[str, int] = field(default_factory=dict)
    balance: int = 0
    in_arrears: bool = False
    lines: list[str] = field(default_factory=list)
    _steps: dict[tuple[date, str], dict[str, object]] = field(default_factory=dict)
    _run: _Run | None = None
    _defer_policy: str = ""

    # --- words -------------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return TEXT[self.setting.lang][key].format(**values)

    def word(self, kind: str, action: str) -> str:
        """`kind.action.utility` if the catalogue has it, else `kind.action`."""
        words = TEXT[self.setting.lang]
        return words.get(f"{kind}.{action}.{self.setting.utility}") or words[f"{kind}.{action}"]

    def policy(self, policy_id: str) -> str:
        policy = self.setting.policies.get(policy_id)
        if policy is None or policy.title in {"", policy_id}:
            return self.t("policy.bare", id=policy_id)
        return self.t("policy", id=policy_id, title=policy.title)

    def dated(self, day: date, text: str, last: date | None = None) -> str:
        when = str(day) if last is None or last == day else self.t("range", first=day, last=last)
        return f"{when}  {text}"

    def say(self, day: date, text: str) -> None:
        self.lines.append(self.dated(day, text))

    def reserve(self) -> int:
        """A place for a line written later (a run of days, once its end is known)."""
        self.lines.append("")
        return len(self.lines) - 1

    # --- the story ---------------------------------------------------------------------

    def tell(self, notes: Sequence[Note]) -> list[str]:
        """Every line of the period; the notes before it go into one summary line."""
        self.balance = self.setting.opening_balance
        start = self.setting.start
        before = [n for n in notes if n.day < start]
        self._steps = {(n.day, _str(n.facts, "action")): n.facts for n in notes if n.kind == "step"}
        if before:
            self.lines.append(self.summary_before(before))
        for note in notes:
            if note.day >= start and note.kind != "step":
                self.tell_note(note)
        self.flush()
        return self.lines

    def reasons_on(self, notes: Sequence[Note], day: date) -> list[tuple[dict[str, object], str]]:
        """Each action decided on `day` with its reason, in the words `tell` uses (the notes
        up to `day` are told first, for the money the reasons quote)."""
        self.balance = self.setting.opening_balance
        self._steps = {(n.day, _str(n.facts, "action")): n.facts for n in notes if n.kind == "step"}
        found: list[tuple[dict[str, object], str]] = []
        for note in notes:
            if note.day > day or note.kind == "step":
                continue
            if note.day < self.setting.start:
                self.track(note)
            elif note.kind == "action" and note.day == day:
                self.track(note)
                found.append((note.facts, self.action_line(day, note.facts)))
            else:
                self.tell_note(note)
        return found

    def track(self, note: Note) -> None:
        """Keep the money up to date with one note (before and during the period)."""
        facts = note.facts
        if note.kind == "bill":
            self.open_principal[_str(facts, "bill_id")] = _int(facts, "open_fen")
        elif note.kind == "payment":
            parts = cast(list[tuple[str, int, int]], facts["parts"])
            for bill_id, principal, fee in parts:
                self.open_principal[bill_id] = self.open_principal.get(bill_id, 0) - principal
                self.fee_paid[bill_id] = self.fee_paid.get(bill_id, 0) + fee
        elif note.kind in {"topup", "usage"}:
            self.balance = _int(facts, "balance")
        elif note.kind in {"episode_start", "episode_end"}:
            self.in_arrears = note.kind == "episode_start"

    def summary_before(self, notes: Sequence[Note]) -> str:
        """One line: the bills still open on `start`, the payments made, the episode in force
        with its steps (the replay's cut-off state is replaced by the input's own)."""
        start = self.setting.start
        episode_since: date | None = None
        events: list[str] = []
        payments: list[int] = []
        for note in notes:
            self.track(note)
            if note.kind == "payment":
                payments.append(_int(note.facts, "amount"))
            elif note.kind == "episode_start":
                episode_since, events = note.day, []
            elif note.kind == "episode_end":
                episode_since, events = None, []
            elif note.kind == "action":
                action = _str(note.facts, "step")
                events.append(self.t("before.event", day=note.day, what=self.word("noun", action)))
        parts = []
        for bill_id, open_fen in self.open_principal.items():
            bill = self.setting.bills[bill_id]
            if open_fen <= 0:
                continue
            text = self.t(
                "before.bill",
                bill=bill_id,
                amount=format_yuan(bill.amount_fen),
                due=bill.due_on,
                open=format_yuan(open_fen),
            )
            if bill.due_on < start:
                text += self.t("before.overdue", since=bill.due_on + timedelta(days=1))
            parts.append(text)
        if not parts:
            parts.append(self.t("before.settled"))
        if payments:
            parts.append(
                self.t("before.paid", count=len(payments), total=format_yuan(sum(payments)))
            )
        if episode_since is not None:
            text = self.t("before.episode", since=episode_since)
            if events:
                text += self.t("before.steps", steps=self.t("list").join(events))
            parts.append(text)
        return self.t("before", start=start, parts=self.t("sep").join(parts))

    def tell_note(self, note: Note) -> None:
        kind, day, facts = note.kind, note.day, note.facts
        if kind in {"exempt", "held", "held_by"}:
            if self.extends_run(note):
                return
            self.flush()
        self.track(note)
        if kind == "bill":
            self.say(day, self.bill_line(facts))
        elif kind == "payment":
            self.say(day, self.payment_line(facts))
        elif kind in {"topup", "usage"}:
            amount = format_yuan(_int(facts, "amount"))
            self.say(day, self.t(kind, amount=amount, balance=format_yuan(self.balance)))
        elif kind == "episode_start":
            self._defer_policy = ""
            self.say(day, self.t("episode_start", what=self.arrears_what(day)))
        elif kind == "episode_end":
            self._defer_policy = ""
            self.say(day, self.t(f"episode_end.{self.setting.billing_mode}"))
        elif kind == "action":
            self.say(day, self.action_line(day, facts))
        elif kind in {"exempt", "held_by"}:  # a policy's exempt, or the account's own relief
            action = _str(facts, "action")
            policy_id = _str(facts, "policy_id")
            self._run = _Run(kind, action, policy_id, day, day)
            noun, why = self.word("noun", action), self.why(day, action)
            key = "exempt" if kind == "exempt" else f"held_by.{_str(facts, 'hold_kind')}"
            policy = self.policy(policy_id) if kind == "exempt" else policy_id
            self.say(day, self.t(key, noun=noun, why=why, policy=policy))
        elif kind in {"hold_kept", "hold_broken"}:
            hold = _str(facts, "hold_id")
            self.say(day, self.t(f"{kind}.{_str(facts, 'hold_kind')}", hold=hold))
        elif kind == "defer":
            action = _str(facts, "action")
            self._defer_policy = _str(facts, "policy_id")
            noun = self.word("noun", action)
            text = self.t(
                "defer",
                noun=noun,
                why=self.why(day, action),
                policy=self.policy(self._defer_policy),
                to=_day(facts, "deferred_to"),
            )
            self.say(day, text)
        elif kind == "held":
            action = _str(facts, "action")
            until = _day(facts, "until")
            self._run = _Run("held", action, self._defer_policy, day, day, until, self.reserve())
        else:  # a kind this narrator does not know yet: tell it plainly rather than drop it
            shown = ", ".join(f"{k}={v}" for k, v in sorted(facts.items()))
            self.say(day, f"{kind}: {shown}")

    def extends_run(self, note: Note) -> bool:
        """True when `note` continues the current run of prevented or held days."""
        run = self._run
        if run is None or note.day != run.last + timedelta(days=1) or run.kind != note.kind:
            return False
        facts = note.facts
        same = run.action == _str(facts, "action") and (
            run.policy_id == _str(facts, "policy_id")
            if note.kind in {"exempt", "held_by"}
            else run.until == _day(facts, "until")
        )
        if same:
            run.last = note.day
            if run.slot is None:
                run.slot = self.reserve()
        return same

    def flush(self) -> None:
        """Write the current run of days, if any, as one line in its reserved place."""
        run, self._run = self._run, None
        if run is None or run.slot is None:
            return
        noun = self.word("noun", run.action)
        if run.kind == "held":
            text = self.t("held", noun=noun, until=run.until, policy_id=run.policy_id)
            self.lines[run.slot] = self.dated(run.first, text, run.last)
        else:  # the first day has its own line; this one covers the days after it
            days = (run.last - run.first).days
            more = "exempt.more" if run.kind == "exempt" else "held_by.more"
            text = self.t(more, noun=noun, policy_id=run.policy_id, days=days)
            self.lines[run.slot] = self.dated(run.first + timedelta(days=1), text, run.last)

    # --- sentences ---------------------------------------------------------------------

    def bill_line(self, facts: dict[str, object]) -> str:
        bill = self.setting.bills[_str(facts, "bill_id")]
        amount, open_fen = _int(facts, "amount"), _int(facts, "open_fen")
        text = self.t(
            "bill",
            bill=bill.bill_id,
            period=bill.period,
            amount=format_yuan(amount),
            due=bill.due_on,
        )
        if open_fen == 0:
            text += self.t("bill.credit_all")
        elif open_fen < amount:
            used = format_yuan(amount - open_fen)
            text += self.t("bill.credit_part", used=used, open=format_yuan(open_fen))
        return text

    def payment_line(self, facts: dict[str, object]) -> str:
        parts = []
        for bill_id, principal, fee in cast(list[tuple[str, int, int]], facts["parts"]):
            text = self.t("payment.part", bill=bill_id, principal=format_yuan(principal))
            if fee:
                text += self.t("payment.fee", fee=format_yuan(fee))
            parts.append(text)
        amount = format_yuan(_int(facts, "amount"))
        if parts:
            text = self.t("payment", amount=amount, parts=self.t("sep").join(parts))
        else:
            text = self.t("payment.none", amount=amount)
        credit = _int(facts, "credit")
        if credit:
            text += self.t("payment.credit", credit=format_yuan(credit))
        arrears = facts.get("arrears")
        if isinstance(arrears, int) and arrears:
            text += self.t("payment.owing", arrears=format_yuan(arrears))
        elif isinstance(arrears, int) and self.in_arrears:
            text += self.t("payment.clear")
        return text + self.t("stop")

    def arrears_what(self, day: date) -> str:
        """Why an episode starts: the overdue bills (postpaid) or the balance (prepaid)."""
        if self.setting.billing_mode is BillingMode.PREPAID:
            return self.t("episode_start.prepaid", balance=format_yuan(self.balance))
        overdue = [
            self.t("episode_start.bill", bill=b.bill_id, due=b.due_on, open=format_yuan(fen))
            for b_id, fen in self.open_principal.items()
            if fen > 0 and (b := self.setting.bills[b_id]).due_on < day
        ]
        return self.t("list").join(overdue) if overdue else self.t("episode_start.other")

    def action_line(self, day: date, facts: dict[str, object]) -> str:
        action, step = _str(facts, "action"), _str(facts, "step")
        policy_id = _str(facts, "policy_id")
        if action == "remind":
            bill = self.setting.bills[_str(facts, "bill_id")]
            return self.t("done.remind", bill=bill.bill_id, due=bill.due_on)
        if action == "low_balance":
            threshold = format_yuan(self.setting.low_balance_below_fen)
            return self.t(
                "done.low_balance", balance=format_yuan(self.balance), threshold=threshold
            )
        if action in {"guarantee_on", "guarantee_off"}:
            return self.t(f"done.{action}", policy=self.policy(policy_id))
        why = self.why_reconnect(policy_id) if action == "reconnect" else self.why(day, action)
        return self.t("done", name=self.word("done", step), why=why)

    def why_reconnect(self, policy_id: str) -> str:
        policy = self.setting.policies.get(policy_id)
        balance = format_yuan(self.balance)
        if policy is not None and policy.effect == "exempt":
            return self.t("why.reconnect.exempt", policy=self.policy(policy_id))
        if policy is not None:
            return self.t("why.reconnect.credit", policy=self.policy(policy_id), balance=balance)
        if self.setting.billing_mode is BillingMode.PREPAID:
            return self.t("why.reconnect.prepaid", balance=balance)
        return self.t("why.reconnect")

    def why(self, day: date, action: str) -> str:
        """The one-clause reason the ladder called for `action` on `day`."""
        facts = self._steps.get((day, action))
        if facts is None:
            return self.t("why.unknown")
        if "balance" in facts:
            return self.why_prepaid(day, action, facts)
        served, cutoff = _day(facts, "notice_day"), _day(facts, "cutoff_day")
        if action == "terminate" and cutoff is not None:
            arrears = format_yuan(_int(facts, "arrears"))
            days = (day - cutoff).days
            cut = self.word("noun", self.cutoff_word())
            return self.t("why.terminate", since=cutoff, cut=cut, days=days, arrears=arrears)
        due = _day(facts, "due_on")
        text = self.t(
            "why.overdue",
            bill=_str(facts, "bill_id"),
            more=_int(facts, "more_than_days"),
            due=due,
            days=(day - due).days if due else 0,
        )
        if facts.get("lead_days") is None:
            return text
        if action == "notice":
            if served is None:
                return text + self.t("why.no_notice")
            lapsed = served + timedelta(days=_int(facts, "valid_days"))
            return text + self.t("why.lapsed", served=served, last=lapsed)
        return text + self.t("why.noticed", served=served, lead=_int(facts, "lead_days"))

    def why_prepaid(self, day: date, action: str, facts: dict[str, object]) -> str:
        text = self.t(
            "why.balance",
            balance=format_yuan(_int(facts, "balance")),
            cmp=self.t(f"cmp.{_str(facts, 'trigger')}"),
            floor=format_yuan(_int(facts, "floor")),
        )
        cutoff, served = _day(facts, "cutoff_day"), _day(facts, "notice_day")
        if action == "terminate" and cutoff is not None:
            cut = self.word("noun", self.cutoff_word())
            return self.t("why.terminate.prepaid", since=cutoff, cut=cut, days=(day - cutoff).days)
        if facts.get("unstoppable"):
            return text + self.t("why.self")
        if action != "notice" and served is not None:
            return text + self.t("why.grace", served=served, grace=_int(facts, "grace_days"))
        return text

    def cutoff_word(self) -> str:
        return "suspend" if self.setting.utility is Utility.TELECOM else "disconnect"
