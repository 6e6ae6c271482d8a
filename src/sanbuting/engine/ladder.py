"""The ladder's memory and the relief gate every enforcement step passes through.

A ladder remembers the account's state, its arrears episode, the notice in force and the day
of its cut-off. An enforcement step (`notice`, `suspend`, `disconnect`, `terminate`) that the
rules call for on a day is then, in this order (contract.md, "Exact semantics"):
1. prevented, if an exempt covers the day (the first in file order is named);
   then, if the account's own relief (a lock, a promise to pay, an instalment plan:
   `engine.holds`) acts that day (the first in the holds file is named);
2. held, while an earlier defer of this episode makes the ladder wait;
3. moved, if a defer covering the day has not yet moved a step of this episode (the latest
   resulting day wins and is named; every defer that applied has had its one move);
4. carried out.
A protection event is written on the first day an episode's step is prevented or moved by a
policy; every prevented, held or moved day adds an account-day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sanbuting.domain import AccountState, Action
from sanbuting.engine.holds import Relief
from sanbuting.engine.records import AccountResult, ActionRow, ProtectionRow
from sanbuting.engine.relief import AccountRelief
from sanbuting.engine.story import Story

CUT_OFF = frozenset({AccountState.SUSPENDED, AccountState.DISCONNECTED})


@dataclass(slots=True)
class Ladder:
    """One account's enforcement memory."""

    account_id: str
    state: AccountState
    cutoff_day: date | None = None
    in_episode: bool = False
    notice_day: date | None = None
    """The notice served in this episode (valid only within it)."""
    wait_until: date | None = None
    """A defer moved this episode's step to this day: the ladder waits until then."""
    used_defers: set[int] = field(default_factory=set)
    """Ranks of the defers that have had their one move in this episode."""
    evented: set[str] = field(default_factory=set)
    """Policies that already wrote this episode's protection event."""

    def track_episode(self, day: date, in_arrears: bool, story: Story) -> None:
        """An episode starts when arrears become > 0 and ends when they reach 0."""
        if in_arrears == self.in_episode:
            return
        self.in_episode = in_arrears
        self.notice_day = None
        self.wait_until = None
        self.used_defers = set()
        self.evented = set()
        story.note(day, "episode_start" if in_arrears else "episode_end")


@dataclass(slots=True)
class Gate:
    """Writes what a ladder does, applying the relief policies to enforcement steps."""

    ladder: Ladder
    relief: AccountRelief
    result: AccountResult
    story: Story
    recording: bool = False
    """False during the replay before `--start`: nothing is written then."""
    any_event: bool = False
    holds: tuple[Relief, ...] = ()
    """The account's own relief, compiled (they act in the replay too)."""

    def act(
        self,
        day: date,
        action: Action,
        step: str = "",
        *,
        bill_id: str = "",
        policy_id: str = "",
        rank: int = -1,
    ) -> None:
        if self.recording:
            row = ActionRow(
                day, self.ladder.account_id, action, step or action.value, bill_id, policy_id, rank
            )
            self.result.actions.append(row)
        self.story.note(
            day,
            "action",
            action=action.value,
            step=step or action.value,
            bill_id=bill_id,
            policy_id=policy_id,
        )

    def enforce(
        self, day: date, action: Action, step: str, arrears: int, *, unstoppable: bool = False
    ) -> bool:
        """Pass an enforcement step through the relief gate; True when it is carried out."""
        if not unstoppable and not self._relieved(day, action, arrears):
            return False
        ladder = self.ladder
        if action is Action.NOTICE:
            ladder.notice_day = day
        elif action is Action.TERMINATE:
            ladder.state = AccountState.TERMINATED
        else:
            ladder.state = (
                AccountState.SUSPENDED if action is Action.SUSPEND else AccountState.DISCONNECTED
            )
            ladder.cutoff_day = day
        self.act(day, action, step)
        return True

    def reconnect(self, day: date, *, policy_id: str = "", rank: int = -1) -> None:
        self.ladder.state = AccountState.ACTIVE
        self.ladder.cutoff_day = None
        self.act(day, Action.RECONNECT, policy_id=policy_id, rank=rank)

    def _relieved(self, day: date, action: Action, arrears: int) -> bool:
        """Apply exempt, a defer's wait, or a defer's move; True when nothing stops `action`."""
        ladder = self.ladder
        exempt = self.relief.exempt_on(day)
        if exempt is not None:
            self._protect(day, exempt.policy.id, "exempt", action, None, arrears)
            return False
        held = next((h for h in self.holds if h.locks(day, action)), None)
        if held is not None:
            self._held(day, held, action)
            return False
        if ladder.wait_until is not None and day < ladder.wait_until:
            self._count_day(day, action, "held")
            return False
        movers = [d for d in self.relief.defers_on(day) if d.rank not in ladder.used_defers]
        ladder.used_defers.update(d.rank for d in movers)
        moves = [(d.policy.moved_day(day), -d.rank, d.policy.id) for d in movers]
        moves = [move for move in moves if move[0] > day]
        if not moves:
            return True
        moved_to, _, policy_id = max(moves)
        ladder.wait_until = moved_to
        self._protect(day, policy_id, "defer", action, moved_to, arrears)
        return False

    def _protect(
        self,
        day: date,
        policy_id: str,
        kind: str,
        action: Action,
        deferred_to: date | None,
        arrears: int,
    ) -> None:
        if self.recording and policy_id not in self.ladder.evented:
            self.ladder.evented.add(policy_id)
            row = ProtectionRow(day, self.ladder.account_id, policy_id, kind, action, deferred_to)
            self.result.protections.append(row)
            if not self.any_event:
                self.any_event = True
                self.result.protected_arrears_fen = arrears
        self.story.note(
            day, kind, action=action.value, policy_id=policy_id, deferred_to=deferred_to
        )
        self._count_day(day, action, None)

    def _held(self, day: date, held: Relief, action: Action) -> None:
        """The account's own relief keeps `action` from being carried out: its event once an
        episode (not a policy's: not counted for the regulator)."""
        key = f"hold:{held.hold_id}"
        if self.recording and key not in self.ladder.evented:
            self.ladder.evented.add(key)
            row = ProtectionRow(day, self.ladder.account_id, held.hold_id, held.kind, action)
            self.result.protections.append(row)
        self.story.note(
            day, "held_by", action=action.value, policy_id=held.hold_id, hold_kind=held.kind
        )

    def _count_day(self, day: date, action: Action, kind: str | None) -> None:
        if self.recording:
            self.result.protected_days += 1
        if kind is not None:
            self.story.note(
                day,
                kind,
                action=action.value,
                until=self.ladder.wait_until or day + timedelta(days=1),
            )
