"""One error hierarchy for sanbuting: every message says what is wrong and what to do.

Domain services raise these; the web layer maps each kind to an HTTP answer in one place
(`web.problems`), the CLI prints it as one line. Services never import from `web/`."""

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


class NotFound(SanbutingError):
    """No such thing, or not yours to see (the two are not told apart)."""


class Forbidden(SanbutingError):
    """Signed in, but this role or credential may not do that."""


class Unauthorized(SanbutingError):
    """Not signed in, or the session has expired."""


class Conflict(SanbutingError):
    """The request contradicts what is stored (e.g. a reused key)."""


class TooMany(SanbutingError):
    """A rate limit was reached; try again later."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds until a new try may succeed, when known."""
