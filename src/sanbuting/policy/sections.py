"""Reading the parts of one policy: its scope, its window and its effect-specific keys.

Each reader adds a problem for everything wrong and still returns a value (a harmless
default where a part was wrong), so that one pass finds every problem; the loader drops a
policy that had any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode

from sanbuting.domain import MAX_FEN, BillingMode, CustomerClass, Utility, parse_period
from sanbuting.errors import SanbutingError
from sanbuting.policy import yamlnodes as yn
from sanbuting.policy.model import Scope, Window
from sanbuting.regions import is_known

SCOPE_KEYS = ("utility", "region", "customer_class", "tags", "billing_mode")
MAX_DAYS = 36_600
"""Upper bound of `defer.days` and `resume.spread_days` (a century): guards against typos."""

_CHOICES: dict[str, type[StrEnum]] = {
    "utility": Utility,
    "customer_class": CustomerClass,
    "billing_mode": BillingMode,
}
_REGION = re.compile(r"[0-9]{2}|[0-9]{4}|[0-9]{6}")
_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Context:
    """The policy being read: where its problems go and how messages name it."""

    problems: yn.Problems
    node: MappingNode
    name: str
    """`'gd-power'` when the id is well formed, else `#3` (its place in the list)."""

    def add(self, where: Node | int, message: str) -> None:
        self.problems.add(where, message)


def read_scope(ctx: Context, node: Node) -> Scope | None:
    where = f"scope of policy {ctx.name}"
    example = '{utility: [power], region: ["44"]} (or {} for every account)'
    scope = yn.mapping(node, where, example, ctx.problems)
    if scope is None:
        return None
    found = yn.entries(scope, where, ctx.problems)
    yn.only_keys(found, SCOPE_KEYS, where, ctx.problems)
    fields: dict[str, tuple[str, ...]] = {}
    for key in SCOPE_KEYS:
        if key in found:
            items = yn.scalar_items(found[key].value, f"'{key}' in {where}", ctx.problems)
            if items is not None:
                fields[key] = tuple(_scope_item(ctx, key, item) for item in items)
    return Scope(
        utility=_members(Utility, fields.get("utility")),
        region=fields.get("region"),
        customer_class=_members(CustomerClass, fields.get("customer_class")),
        tags=fields.get("tags"),
        billing_mode=_members(BillingMode, fields.get("billing_mode")),
    )


def _scope_item(ctx: Context, key: str, item: ScalarNode) -> str:
    """One scope value as text, checked; a wrong one is a problem and read as a valid stand-in."""
    raw = str(item.value)
    if key in _CHOICES:
        allowed = [member.value for member in _CHOICES[key]]
        if raw not in allowed:
            ctx.add(
                item,
                f"unknown {key} '{raw}' in scope of policy {ctx.name} "
                f"(expected one of: {', '.join(allowed)})",
            )
            return allowed[0]
    elif key == "region":
        if not _REGION.fullmatch(raw):
            ctx.add(
                item,
                f"region prefix '{raw}' in policy {ctx.name} must be 2, 4 or 6 digits "
                '(province, city or district), e.g. "44", "4403" or "440305"',
            )
        elif not is_known(raw):
            ctx.add(
                item,
                f"region prefix '{raw}' is not in the GB/T 2260 table "
                f"(policy {ctx.name}; codes look like 44, 4403, 440305)",
            )
    elif not raw.strip() or ";" in raw:
        ctx.add(
            item,
            f"tag '{raw}' in scope of policy {ctx.name} must be a non-empty name "
            "without ';', e.g. epidemic_key",
        )
    return raw.strip()


def _members(kind: type[_E], values: tuple[str, ...] | None) -> tuple[_E, ...] | None:
    """Checked scope texts as enum members (None stays None: the key was not given)."""
    return None if values is None else tuple(kind(value) for value in values)


def read_window(ctx: Context, node: Node) -> Window | None:
    where = f"window of policy {ctx.name}"
    window = yn.mapping(node, where, "{start: 2020-01-24, end: 2020-03-01}", ctx.problems)
    if window is None:
        return None
    found = yn.entries(window, where, ctx.problems)
    yn.only_keys(found, ("start", "end"), where, ctx.problems)
    days: dict[str, date | None] = {"start": None, "end": None}
    meanings = {"start": "the first day covered", "end": "the first day no longer covered"}
    for key, meaning in meanings.items():
        if key in found:
            what = f"window {key} of policy {ctx.name}"
            days[key] = yn.date_value(found[key].value, what, ctx.problems)
        else:
            ctx.add(window, f"{where} has no '{key}' ({meaning}, YYYY-MM-DD)")
    start, end = days["start"], days["end"]
    if start is None or end is None:
        return None
    if end <= start:
        ctx.add(
            found["end"].value,
            f"window end {end} is not after start {start} (policy "
            f"{ctx.name}; the window is [start, end): end is the first day no longer covered)",
        )
        return None
    return Window(start, end)


def read_flag(ctx: Context, found: dict[str, yn.Entry], key: str) -> bool:
    """An optional true/false key (false when absent)."""
    if key not in found:
        return False
    return bool(yn.boolean(found[key].value, f"'{key}' of policy {ctx.name}", ctx.problems))


def read_resume(ctx: Context, found: dict[str, yn.Entry]) -> int:
    """`resume: {spread_days: N}` of an exempt policy (0 when absent)."""
    if "resume" not in found:
        return 0
    where = f"resume of policy {ctx.name}"
    resume = yn.mapping(found["resume"].value, where, "{spread_days: 7}", ctx.problems)
    if resume is None:
        return 0
    keys = yn.entries(resume, where, ctx.problems)
    yn.only_keys(keys, ("spread_days",), where, ctx.problems)
    if "spread_days" not in keys:
        ctx.add(resume, f"{where} needs 'spread_days: N' (0 for no spreading)")
        return 0
    what = f"'spread_days' in {where}"
    spread = yn.integer(
        keys["spread_days"].value, what, ctx.problems, minimum=0, maximum=MAX_DAYS, example=7
    )
    return spread or 0


def read_defer(
    ctx: Context, found: dict[str, yn.Entry], window: Window | None
) -> tuple[int | None, date | None]:
    """`defer: {days: N}` or `defer: {until: DATE}` (required, exactly one)."""
    needs = f"defer policy {ctx.name} needs 'defer: {{days: N}}' or 'defer: {{until: DATE}}'"
    if "defer" not in found:
        ctx.add(ctx.node, needs)
        return None, None
    where = f"defer of policy {ctx.name}"
    example = "{days: 30} or {until: 2020-04-01}"
    defer = yn.mapping(found["defer"].value, where, example, ctx.problems)
    if defer is None:
        return None, None
    keys = yn.entries(defer, where, ctx.problems)
    yn.only_keys(keys, ("days", "until"), where, ctx.problems)
    if "days" in keys and "until" in keys:
        ctx.add(defer, f"{where} gives both 'days' and 'until': keep one")
        return None, None
    if "days" in keys:
        what = f"'days' in {where}"
        return yn.integer(
            keys["days"].value, what, ctx.problems, minimum=1, maximum=MAX_DAYS, example=30
        ), None
    if "until" not in keys:
        ctx.add(defer, needs)
        return None, None
    until = yn.date_value(keys["until"].value, f"'until' in {where}", ctx.problems)
    if until is not None and window is not None and until <= window.start:
        ctx.add(
            keys["until"].value,
            f"defer until {until} is not after window start "
            f"{window.start} (policy {ctx.name}): it would never move a step; give a later "
            "date or 'days: N'",
        )
    return None, until


def read_bills(
    ctx: Context, found: dict[str, yn.Entry]
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """`bills: {issued_in: [...]}` or `{period_in: [...]}`; absent means every bill."""
    if "bills" not in found:
        return None, None
    where = f"bills of policy {ctx.name}"
    example = '{issued_in: ["2020-01"]} or {period_in: ["2020-01"]}'
    bills = yn.mapping(found["bills"].value, where, example, ctx.problems)
    if bills is None:
        return None, None
    keys = yn.entries(bills, where, ctx.problems)
    yn.only_keys(keys, ("issued_in", "period_in"), where, ctx.problems)
    chosen = [key for key in ("issued_in", "period_in") if key in keys]
    if len(chosen) != 1:
        wrong = "gives both" if chosen else "needs one of"
        ctx.add(
            bills,
            f"{where} {wrong} 'issued_in' and 'period_in' (keep exactly one, or "
            "leave 'bills' out to cover every bill in scope)",
        )
        return None, None
    key = chosen[0]
    months: list[str] = []
    for item in yn.scalar_items(keys[key].value, f"'{key}' in {where}", ctx.problems) or []:
        try:
            months.append(parse_period(str(item.value)))
        except SanbutingError as exc:
            ctx.add(item, f"'{key}' in {where}: {exc}")
    return (tuple(months), None) if key == "issued_in" else (None, tuple(months))


def read_credit(ctx: Context, found: dict[str, yn.Entry]) -> int:
    """`credit_fen: N` of an emergency_credit policy (required, N > 0)."""
    if "credit_fen" not in found:
        ctx.add(
            ctx.node,
            f"emergency_credit policy {ctx.name} needs 'credit_fen: N' "
            "(fen the balance may go below zero, N > 0)",
        )
        return 0
    what = f"'credit_fen' of policy {ctx.name}"
    credit = yn.integer(
        found["credit_fen"].value, what, ctx.problems, minimum=1, maximum=MAX_FEN, example=10000
    )
    return credit or 0
