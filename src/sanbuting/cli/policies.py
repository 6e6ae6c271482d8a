"""`sanbuting check-policies`: validate relief-policy files and show what they say in words.

Valid files print a table (id, effect, scope, window, source) and exit 0; otherwise the
problems (the first 100, then a count of the rest) are printed on stderr as
`file:line: message` and the exit code is 1. Files past the policy limits (size, nesting,
aliases: `policy.limits`) are problems like any other, never a traceback.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sanbuting.cli.app import app, fail
from sanbuting.domain import format_yuan
from sanbuting.errors import PolicyError, SanbutingError
from sanbuting.policy import load_policies
from sanbuting.policy.model import (
    CreditPolicy,
    DeferPolicy,
    ExemptPolicy,
    Policy,
    Scope,
    WaiverPolicy,
    Window,
)
from sanbuting.policy.yamlnodes import escaped
from sanbuting.regions import all_regions, full_name, lookup

_WIDTH_WHEN_PIPED = 10_000
"""Table width limit when stdout is not a terminal (a pipe, a file, a test runner): in effect
none, so that no cell (a path, a title) is ever folded; the table is as wide as its content."""


@cache
def _cities_of(province: str) -> frozenset[str]:
    return frozenset(r.code for r in all_regions() if len(r.code) == 4 and r.code[:2] == province)


def describe_regions(prefixes: Sequence[str]) -> str:
    """Region prefixes in words; most cities of one province read as "province except ..."."""
    by_province: dict[str, set[str]] = defaultdict(set)
    others: list[str] = []
    for code in prefixes:
        if len(code) == 4:
            by_province[code[:2]].add(code)
        else:
            others.append(code)
    parts = [f"{full_name(code)} ({code})" for code in others]
    for province, cities in sorted(by_province.items()):
        all_cities = _cities_of(province)
        missing = sorted(all_cities - cities)
        if len(cities) > 3 and len(missing) < len(cities):
            left_out = ", ".join(f"{lookup(code).name} ({code})" for code in missing)
            name = f"{lookup(province).name} ({province})"
            parts.append(f"{name} except {left_out}" if missing else name)
        else:
            parts.extend(f"{full_name(code)} ({code})" for code in sorted(cities))
    return ", ".join(parts)


def describe_scope(scope: Scope) -> str:
    """A scope in words: `power · residential · 广东省 (44) · tagged hospital or ...`."""
    parts: list[str] = []
    if scope.utility is not None:
        parts.append(" or ".join(scope.utility))
    if scope.customer_class is not None:
        parts.append(" or ".join(scope.customer_class))
    if scope.billing_mode is not None:
        parts.append(" or ".join(scope.billing_mode))
    if scope.region is not None:
        parts.append("in " + describe_regions(scope.region))
    if scope.tags is not None:
        parts.append("tagged " + " or ".join(scope.tags))
    return " · ".join(parts) if parts else "every account"


def describe_effect(policy: Policy) -> str:
    """The effect with its own settings, e.g. `defer by 30 days`."""
    if isinstance(policy, ExemptPolicy):
        extras = [
            "reminders paused" if policy.pause_reminders else "",
            "reconnects those cut off" if policy.reconnect else "",
            f"resumes over {policy.spread_days} days" if policy.spread_days else "",
        ]
        return "; ".join(["exempt (免停)", *(extra for extra in extras if extra)])
    if isinstance(policy, DeferPolicy):
        how = f"by {policy.days} days" if policy.days is not None else f"until {policy.until}"
        return f"defer (緩停) {how}"
    if isinstance(policy, WaiverPolicy):
        if policy.issued_in is not None:
            bills = "bills issued in " + ", ".join(policy.issued_in)
        elif policy.period_in is not None:
            bills = "bills of period " + ", ".join(policy.period_in)
        else:
            bills = "every bill"
        return f"waive late fee (免違約金): {bills}"
    assert isinstance(policy, CreditPolicy)
    return f"emergency credit {format_yuan(policy.credit_fen)} yuan"


def describe_window(window: Window) -> str:
    """The window by its first and last day covered (the YAML `end` is the day after)."""
    last = window.end - timedelta(days=1)
    days = (window.end - window.start).days
    return f"{window.start} → {last} ({days} day{'s' if days != 1 else ''})"


def policy_table(policies: Sequence[Policy]) -> Table:
    table = Table(show_lines=True, caption="Windows show the first and last day covered.")
    table.add_column("id", no_wrap=True)
    table.add_column("effect", overflow="fold")
    table.add_column("scope", overflow="fold")
    table.add_column("window", no_wrap=True)
    table.add_column("source", overflow="fold")
    for policy in policies:
        source = Text(escaped(policy.title))  # a title cannot drive the terminal
        source.append(f"\n{policy.source}", style="dim")
        table.add_row(
            Text(policy.id),
            Text(describe_effect(policy)),
            Text(describe_scope(policy.scope)),
            Text(describe_window(policy.window)),
            source,
        )
    return table


@app.command("check-policies")
def check_policies_command(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE", help="Relief policy YAML file(s), read together."),
    ],
) -> None:
    """Validate relief-policy files: print what they say, or every problem as file:line."""
    try:
        policies = load_policies(files)
    except PolicyError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    except SanbutingError as exc:  # e.g. SANBUTING_POLICY_MAX_BYTES set to no size
        raise fail(str(exc)) from None
    console = Console()
    if not console.is_terminal:
        console = Console(width=_WIDTH_WHEN_PIPED)
    if policies:
        console.print(policy_table(policies))
    noun = "file" if len(files) == 1 else "files"
    count = f"{len(policies)} polic{'y' if len(policies) == 1 else 'ies'}"
    console.print(Text(f"{count} in {len(files)} {noun}: valid."))
