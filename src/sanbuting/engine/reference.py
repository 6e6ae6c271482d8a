"""The reference engine: one account, one day at a time, exactly as the rules read.

Each day, that day's bills open, late fees accrue, payments and usage are applied; then the
steps are decided in the contract's order: reconnect, 保電 on/off, remind, low balance, and
the enforcement step the ladder calls for, which passes through the relief gate
(`ladder.Gate`). Postpaid ladders are driven by the oldest open overdue bill; prepaid ladders
by the balance against its floor (0, lowered by the credit limit and any emergency credit).

Before `--start`, a postpaid account's ladder is replayed from its first bill with no exempt or
defer, writing nothing, so that the notices and episodes in force on `start` are known; the
input `state` and `balance_fen` then describe the account on `start`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sanbuting.domain import AccountState, Action, BillingMode, date_range
from sanbuting.engine.billbook import BillAccount, BillBook
from sanbuting.engine.ladder import CUT_OFF, Gate, Ladder
from sanbuting.engine.money import Charged, MoneyEvent, Paid, TopUp, UsageCharged
from sanbuting.engine.records import Account, AccountResult, StateRow
from sanbuting.engine.relief import AccountRelief
from sanbuting.engine.story import SILENT, Story
from sanbuting.fees.latefee import rates_for
from sanbuting.rules.schema import Cutoff, Ruleset

ONE_DAY = timedelta(days=1)


def run_account(
    account: Account,
    ruleset: Ruleset,
    relief: AccountRelief,
    start: date,
    end: date,
    story: Story = SILENT,
) -> AccountResult:
    """Simulate `account` from `start` through `end` inclusive."""
    if account.billing_mode is BillingMode.PREPAID:
        return PrepaidRun(account, ruleset, relief, story).run(start, end)
    return PostpaidRun(account, ruleset, relief, story).run(start, end)


class AccountRun:
    """What both billing modes share: payments by day, the ladder, the gate, the 保電 and
    reconnection orders of exempts."""

    def __init__(
        self, account: Account, ruleset: Ruleset, relief: AccountRelief, story: Story
    ) -> None:
        self.account = account
        self.ruleset = ruleset
        self.result = AccountResult()
        self.ladder = Ladder(account.account_id, account.state)
        self.gate = Gate(self.ladder, relief, self.result, story)
        self.gate.holds = account.holds
        self.broken_on = {h.broken_on: h for h in reversed(self.gate.holds) if h.broken_on}
        """Days a promise or plan is broken: the ladder forgets its notice (the first named)."""
        self.kept_on = {h.kept_on: h for h in reversed(self.gate.holds) if h.kept_on}
        self.story = story
        self.payments: dict[date, list[int]] = defaultdict(list)
        for payment in sorted(account.payments, key=lambda p: (p.paid_on, p.sequence)):
            self.payments[payment.paid_on].append(payment.amount_fen)
        self.run_start = date.min
        self.money: list[MoneyEvent] | None = None
        """Where a prepaid run emits its money events, when a caller asks (the ledger)."""

    def fresh_notice(self, day: date) -> None:
        """On the day a promise or plan is broken the ladder resumes with a fresh notice."""
        broken = self.broken_on.get(day)
        if broken is not None:
            self.ladder.notice_day = None
            self.story.note(day, "hold_broken", hold_id=broken.hold_id, hold_kind=broken.kind)
        kept = self.kept_on.get(day) if self.story.enabled else None
        if kept is not None:
            self.story.note(day, "hold_kept", hold_id=kept.hold_id, hold_kind=kept.kind)

    @property
    def relief(self) -> AccountRelief:
        """The policies in force: none but waivers during the replay before `--start`."""
        return self.gate.relief

    def policy_orders(self, day: date, cutoff: Cutoff) -> None:
        """Exempt reconnection at a window's start, and 保電 on/off at its edges."""
        if self.ladder.state in CUT_OFF and not cutoff.self_enforcing:
            exempt = self.relief.reconnecting_exempt(day, self.run_start)
            if exempt is not None:
                self.gate.reconnect(day, policy_id=exempt.policy.id, rank=exempt.rank)
        for edge_day, switch_on, rank, policy_id in self.guarantee_edges:
            if edge_day == day:
                action = Action.GUARANTEE_ON if switch_on else Action.GUARANTEE_OFF
                self.gate.act(day, action, policy_id=policy_id, rank=rank)

    def begin(self, start: date, end: date) -> None:
        self.run_start = start
        self.gate.recording = True
        self.guarantee_edges = self.relief.guarantee_edges(start, end)

    def cut_off_since(self, start: date) -> date | None:
        """The cut-off day the replay knows, or `start` when the input says cut off."""
        if self.account.state not in CUT_OFF:
            return None
        known = self.ladder.cutoff_day if self.ladder.state in CUT_OFF else None
        return known or start

    def terminate_due(self, day: date, cutoff_rules_days: int | None) -> bool:
        return (
            self.ladder.state in CUT_OFF
            and cutoff_rules_days is not None
            and self.ladder.cutoff_day is not None
            and day >= self.ladder.cutoff_day + timedelta(days=cutoff_rules_days)
        )


class PostpaidRun(AccountRun):
    """Bills, late fees, the oldest open overdue bill, notices and cut-off."""

    def __init__(
        self, account: Account, ruleset: Ruleset, relief: AccountRelief, story: Story
    ) -> None:
        super().__init__(account, ruleset, relief, story)
        rates = rates_for(ruleset, account.customer_class)
        self.book = BillBook(
            [
                BillAccount(bill, rates, relief.waiver_windows(bill), bill.amount_fen)
                for bill in account.bills
            ]
        )
        self.rules = ruleset.postpaid
        self.guarantee_edges: list[tuple[date, bool, int, str]] = []
        remind = timedelta(days=self.rules.remind_after_due_days)
        self.event_days = set(self.payments)
        for bill in account.bills:
            self.event_days.update((bill.issued_on, bill.due_on + ONE_DAY, bill.due_on + remind))

    def run(self, start: date, end: date) -> AccountResult:
        self.replay_before(start)
        self.ladder.cutoff_day = self.cut_off_since(start)
        self.ladder.state = self.account.state
        self.book.credit = self.account.balance_fen
        self.begin(start, end)
        arrears = 0
        for day in date_range(start, end):
            arrears = self.day(day)
        self.result.fees = [b.fee_row(self.account.account_id) for b in self.book.bills]
        self.result.fees.sort(key=lambda row: row.bill_id)
        self.result.state = StateRow(
            self.account.account_id, self.ladder.state, self.book.credit, arrears
        )
        return self.result

    def replay_before(self, start: date) -> None:
        """Replay from the first bill or payment through `start - 1`: no relief, no output."""
        firsts = [b.issued_on for b in self.account.bills] + list(self.payments)
        first = min(firsts, default=start)
        in_force = self.gate.relief
        self.gate.relief = in_force.for_replay()
        for day in date_range(first, start - timedelta(days=1)):
            self.day(day)
        self.gate.relief = in_force

    def quiet(self, day: date) -> bool:
        """Nothing can happen on `day`: the account is active and owes nothing overdue, and no
        bill is issued or falls due and no payment lands that day."""
        ladder = self.ladder
        return (
            ladder.state is AccountState.ACTIVE
            and not ladder.in_episode
            and day not in self.event_days
        )

    def day(self, day: date) -> int:
        """One day of a postpaid account; returns its arrears at the day's end."""
        if self.quiet(day):
            return 0
        book, ladder, gate = self.book, self.ladder, self.gate
        paid = (("", amount) for amount in self.payments.get(day, ()))
        for event in book.money_day(day, paid):
            if not self.story.enabled:
                continue
            if isinstance(event, Charged):
                self.story.note(
                    day,
                    "bill",
                    bill_id=event.bill.bill_id,
                    amount=event.bill.amount_fen,
                    due_on=event.bill.due_on,
                    open_fen=event.open_fen,
                )
            elif isinstance(event, Paid):
                self.story.note(
                    day,
                    "payment",
                    amount=event.amount_fen,
                    credit=book.credit,
                    parts=list(event.parts),
                    arrears=book.arrears(day),
                )
        arrears = book.arrears(day)
        if ladder.state is AccountState.TERMINATED:
            return arrears
        ladder.track_episode(day, arrears > 0, self.story)
        if ladder.state in CUT_OFF and arrears == 0:
            gate.reconnect(day)
        self.policy_orders(day, self.rules.cutoff)
        if not self.relief.reminders_paused(day):
            for bill in book.to_remind(day, self.rules.remind_after_due_days):
                gate.act(day, Action.REMIND, bill_id=bill.bill.bill_id)
        self.fresh_notice(day)
        step = self.next_step(day, arrears)
        if step is not None:
            if self.story.enabled:
                self.note_step(day, step[0], arrears)
            gate.enforce(day, step[0], step[1], arrears)
        return arrears

    def note_step(self, day: date, action: Action, arrears: int) -> None:
        """For `explain`: why the ladder calls for `action` today, before any relief."""
        oldest = self.book.oldest_open_overdue(day)
        notice = self.rules.notice
        self.story.note(
            day,
            "step",
            action=action.value,
            arrears=arrears,
            bill_id=oldest.bill.bill_id if oldest else "",
            due_on=oldest.bill.due_on if oldest else None,
            more_than_days=self.rules.enforce_when_overdue_more_than_days,
            notice_day=self.ladder.notice_day,
            lead_days=notice.lead_days if notice else None,
            valid_days=notice.valid_days if notice else None,
            cutoff_day=self.ladder.cutoff_day,
            after_cutoff_days=self.rules.terminate_after_cutoff_days,
        )

    def next_step(self, day: date, arrears: int) -> tuple[Action, str] | None:
        """The enforcement step the ladder calls for today, before any relief."""
        rules, ladder = self.rules, self.ladder
        cutoff = (rules.cutoff.action, rules.cutoff.step)
        if ladder.state is AccountState.ACTIVE:
            oldest = self.book.oldest_open_overdue(day)
            if oldest is None:
                return None
            if (day - oldest.bill.due_on).days <= rules.enforce_when_overdue_more_than_days:
                return None
            if rules.notice is None:
                return cutoff
            served = ladder.notice_day
            if served is None or day > served + timedelta(days=rules.notice.valid_days):
                return (Action.NOTICE, Action.NOTICE.value)
            if (day - served).days >= rules.notice.lead_days:
                return cutoff
            return None
        if arrears > 0 and self.terminate_due(day, rules.terminate_after_cutoff_days):
            return (Action.TERMINATE, Action.TERMINATE.value)
        return None


class PrepaidRun(AccountRun):
    """A balance, daily usage, top-ups, low-balance alerts, trip against a floor."""

    def __init__(
        self, account: Account, ruleset: Ruleset, relief: AccountRelief, story: Story
    ) -> None:
        super().__init__(account, ruleset, relief, story)
        self.rules = ruleset.prepaid
        self.balance = account.balance_fen
        self.usage: dict[date, int] = defaultdict(int)
        for day, amount in account.usage:
            self.usage[day] += amount
        self.low_armed = self.balance >= self.rules.low_balance_below_fen
        self.guarantee_edges = []

    def run(self, start: date, end: date) -> AccountResult:
        self.ladder.cutoff_day = start if self.account.state in CUT_OFF else None
        self.begin(start, end)
        for day in date_range(start, end):
            self.day(day)
        self.result.state = StateRow(
            self.account.account_id, self.ladder.state, self.balance, max(0, -self.balance)
        )
        return self.result

    def below_floor(self, floor: int) -> bool:
        if self.rules.trigger == "at_or_below":
            return self.balance <= floor
        return self.balance < floor

    def day(self, day: date) -> None:
        ladder, gate, rules = self.ladder, self.gate, self.rules
        money = self.money
        for amount in self.payments.get(day, ()):
            self.balance += amount
            self.story.note(day, "topup", amount=amount, balance=self.balance)
            if money is not None:
                money.append(TopUp(day, amount))
        if ladder.state is AccountState.ACTIVE and self.usage.get(day):
            self.balance -= self.usage[day]
            self.story.note(day, "usage", amount=self.usage[day], balance=self.balance)
            if money is not None:
                money.append(UsageCharged(day, self.usage[day]))
        if ladder.state is AccountState.TERMINATED:
            return
        base_floor = -self.account.credit_limit_fen
        credit = self.relief.credit_on(day)
        floor = base_floor - (credit.policy.credit_fen if credit else 0)
        triggered = self.below_floor(floor)
        if ladder.state in CUT_OFF and not triggered:
            by_credit = credit is not None and self.below_floor(base_floor)
            gate.reconnect(
                day,
                policy_id=credit.policy.id if by_credit and credit else "",
                rank=credit.rank if by_credit and credit else -1,
            )
        ladder.track_episode(day, triggered, self.story)
        self.policy_orders(day, rules.cutoff)
        if self.balance < rules.low_balance_below_fen:
            if self.low_armed:
                gate.act(day, Action.LOW_BALANCE)
            self.low_armed = False
        else:
            self.low_armed = True
        self.fresh_notice(day)
        step = self.next_step(day, triggered)
        if step is not None:
            unstoppable = step[0] is rules.cutoff.action and rules.cutoff.self_enforcing
            if self.story.enabled:
                self.story.note(
                    day,
                    "step",
                    action=step[0].value,
                    balance=self.balance,
                    floor=floor,
                    trigger=rules.trigger,
                    notice_day=ladder.notice_day,
                    grace_days=rules.notice.grace_days if rules.notice else None,
                    cutoff_day=ladder.cutoff_day,
                    after_cutoff_days=rules.terminate_after_cutoff_days,
                    unstoppable=unstoppable,
                )
            gate.enforce(day, step[0], step[1], max(0, -self.balance), unstoppable=unstoppable)

    def next_step(self, day: date, triggered: bool) -> tuple[Action, str] | None:
        rules, ladder = self.rules, self.ladder
        if not triggered:
            return None
        cutoff = (rules.cutoff.action, rules.cutoff.step)
        if ladder.state is AccountState.ACTIVE:
            if rules.notice is None:
                return cutoff
            if ladder.notice_day is None:
                return (Action.NOTICE, Action.NOTICE.value)
            if (day - ladder.notice_day).days >= rules.notice.grace_days:
                return cutoff
            return None
        if self.terminate_due(day, rules.terminate_after_cutoff_days):
            return (Action.TERMINATE, Action.TERMINATE.value)
        return None
