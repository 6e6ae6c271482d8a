"""How much a relief-policy file may hold, and how many of its problems are listed.

A policy file is data an operator or a console user hands in, so reading it is bounded: its
size (a setting), how deep its lists and mappings nest, how far its YAML aliases expand, and
how many problems are collected and listed. Each limit is far above what a real file needs
(the shipped 2020 example is 8 KB, nests 5 deep, has 2 aliases and 322 values) and low
enough that the worst file within them is checked in a few seconds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from sanbuting.errors import SanbutingError

MAX_BYTES_VARIABLE = "SANBUTING_POLICY_MAX_BYTES"
DEFAULT_MAX_BYTES = 1024 * 1024
"""1 MB: a hundred times the 2020 example; about 8,000 short policies."""
LOWEST_MAX_BYTES = 1024
HIGHEST_MAX_BYTES = 64 * 1024 * 1024
"""The range `Settings.policy_max_bytes` accepts for the same variable."""

MAX_DEPTH = 20
"""Lists and mappings inside one another. A real file nests 5 deep (the file, `policies`, a
policy, its scope, a region list). PyYAML's own composer recurses once per level and dies of a
RecursionError at about 500 (libyaml stops at 1,000), so the depth is checked on the parser's
events first."""
MAX_ALIASES = 10_000
"""`*name` references to an anchor. A real file uses a few, to share a list (the 2020 example
uses 2); 10,000 is one or two per policy for the largest set `MAX_VALUES` admits."""
MAX_VALUES = 200_000
"""Values (scalars, lists and mappings) of the document with every alias expanded, as the
checks walk it. A policy has about 25 (the 2020 example: 322 for 11 policies), so this is room
for 8,000 policies; a "billion laughs" file of nested aliases is refused as soon as it gets
past it, and a file within it is checked in about two seconds."""

PROBLEMS_LISTED = 100
"""Problems listed for a refused set; one more line counts the rest."""
PROBLEMS_COLLECTED = 10_000
"""Problems collected in one file before its checking stops: a pathological file (thousands of
bad values, or one bad value reached through thousands of aliases) costs no more than this."""
LONGEST_PROBLEM = 400
"""Characters of one problem message; a longer one (quoting a huge value) keeps its start and
its end."""


def max_policy_bytes() -> int:
    """The largest policy file taken, in bytes: `SANBUTING_POLICY_MAX_BYTES`, else 1 MB."""
    raw = os.environ.get(MAX_BYTES_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    value = _whole_number(raw)
    if value is None or not LOWEST_MAX_BYTES <= value <= HIGHEST_MAX_BYTES:
        raise SanbutingError(
            f"{MAX_BYTES_VARIABLE}={raw!r} is not a size in bytes from {LOWEST_MAX_BYTES:,} to "
            f"{HIGHEST_MAX_BYTES:,}: set it to e.g. {DEFAULT_MAX_BYTES} (1 MB) or unset it"
        )
    return value


def _whole_number(raw: str) -> int | None:
    """`raw` as a whole number the way the settings read it (`2048`, `2_048`, `2048.0`)."""
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _kilobytes(size: int) -> str:
    return f"{-(-size // 1024):,} KB"  # rounded up: a byte over 1,024 KB reads 1,025 KB


def too_large(size: int | None, max_bytes: int) -> str:
    """The problem of a file over `max_bytes`; `size` is None when it is not known (a pipe)."""
    in_kilobytes = max_bytes % 1024 == 0
    cap = _kilobytes(max_bytes) if in_kilobytes else f"{max_bytes:,} bytes"
    what_to_do = (
        f"split its policies over smaller files, or raise the limit with {MAX_BYTES_VARIABLE}"
    )
    if size is None:
        return f"the file is larger than {cap}, the most a policy file may be: {what_to_do}"
    found = _kilobytes(size) if in_kilobytes else f"{size:,} bytes"
    return f"the file is {found}; a policy file may be at most {cap}: {what_to_do}"


@dataclass(frozen=True, slots=True)
class FileProblems:
    """The problems of one file as `file:line: message` lines, in line order."""

    source: str
    lines: Sequence[str]
    complete: bool = True
    """False when checking stopped at `PROBLEMS_COLLECTED`: there may be more."""


def listed(files: Sequence[FileProblems], limit: int = PROBLEMS_LISTED) -> list[str]:
    """The first `limit` problems of `files` (in file order), then one line counting the rest.

    E.g. `a.yaml: … and 10,700 more problems; fix the ones above first`.
    """
    shown: list[str] = []
    left_out: list[tuple[FileProblems, int]] = []
    for found in files:
        room = max(limit - len(shown), 0)
        shown.extend(found.lines[:room])
        rest = len(found.lines) - room
        if rest > 0 or not found.complete:
            left_out.append((found, max(rest, 0)))
    if not left_out:
        return shown
    return [*shown, _count_line(left_out)]


def _count_line(left_out: Sequence[tuple[FileProblems, int]]) -> str:
    def amount(found: FileProblems, count: int) -> str:
        return f"{count:,}" if found.complete else f"at least {count:,}"

    (first, first_count), *others = left_out
    noun = "problem" if first_count == 1 and first.complete else "problems"
    line = f"{first.source}: … and {amount(first, first_count)} more {noun}"
    if others:
        line += " (and " + ", ".join(f"{amount(f, n)} in {f.source}" for f, n in others) + ")"
    line += "; fix the ones above first"
    if not all(found.complete for found, _ in left_out):
        line += f" (checking a file stops after {PROBLEMS_COLLECTED:,} problems)"
    return line
