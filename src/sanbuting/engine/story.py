"""What happened to one account, as a list of dated notes for `sanbuting explain`.

The engine notes every fact as it decides it (`note(day, kind, **facts)`); `explain` turns the
notes into sentences. A run over many accounts uses `SILENT`, which keeps nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Note:
    day: date
    kind: str
    facts: dict[str, object]


@dataclass(slots=True)
class Story:
    """Collects notes when `enabled`; otherwise `note` costs a single check."""

    enabled: bool = True
    notes: list[Note] = field(default_factory=list)

    def note(self, day: date, kind: str, **facts: object) -> None:
        if self.enabled:
            self.notes.append(Note(day, kind, facts))


SILENT = Story(enabled=False)
