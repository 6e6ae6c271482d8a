"""One error hierarchy for sanbuting: every message says what is wrong and what to do."""

from __future__ import annotations


class SanbutingError(Exception):
    """Base of every error sanbuting raises on purpose; the CLI prints it as one line."""


class InvalidMoney(SanbutingError, ValueError):
    """A money amount that is not a valid number of yuan or fen."""


class UnknownRegion(SanbutingError, KeyError):
    """A region code that is not in the shipped GB/T 2260 table."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the message as is
        return str(self.args[0]) if self.args else "unknown region"


class RulesetError(SanbutingError):
    """A ruleset file that does not follow the ruleset schema, or an unknown ruleset name."""


class PolicyError(SanbutingError):
    """A relief-policy file refused whole; `problems` holds every `file:line: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class InputFileError(SanbutingError):
    """An input file that cannot be read at all (not a row-level problem)."""
