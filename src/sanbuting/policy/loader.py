"""The relief-policy language: YAML files in, closed `Policy` records out, or every problem.

A file is a mapping with the single key `policies`, a list of policies (contract.md, "Relief
policies: YAML"). Everything is checked before anything is used: a set with any problem is
refused whole with `PolicyError`, whose `problems` are `file:line: message` lines naming the
1-based line of the offending key or value, in file order and then line order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sanbuting.errors import PolicyError
from sanbuting.policy import limits, sections
from sanbuting.policy import yamlnodes as yn
from sanbuting.policy.model import (
    CreditPolicy,
    DeferPolicy,
    Effect,
    ExemptPolicy,
    Policy,
    PolicyBase,
    Scope,
    WaiverPolicy,
    Window,
)

ID_PATTERN = re.compile(r"^[a-z0-9-]+$")
COMMON_KEYS = ("id", "title", "effect", "scope", "window")
EFFECT_KEYS: dict[Effect, tuple[str, ...]] = {
    Effect.EXEMPT: ("pause_reminders", "reconnect", "resume"),
    Effect.DEFER: ("defer",),
    Effect.WAIVE_LATE_FEE: ("bills",),
    Effect.EMERGENCY_CREDIT: ("credit_fen",),
}
KEY_OWNER = {key: effect for effect, keys in EFFECT_KEYS.items() for key in keys}
EFFECTS = ", ".join(effect.value for effect in Effect)


def parse_policies(text: str, source: str, *, max_bytes: int | None = None) -> list[Policy]:
    """The policies of one YAML text; `source` names it in problems (`source:line: ...`).

    A text over `max_bytes` of UTF-8 (default `limits.max_policy_bytes()`) is refused unread.
    """
    cap = limits.max_policy_bytes() if max_bytes is None else max_bytes
    problems = yn.Problems(source)
    oversize = _oversize(text, cap)
    if oversize is not None:
        problems.add(1, oversize)
        policies: list[Policy] = []
    else:
        policies = _read_document(text, problems, {})
    if problems:
        raise PolicyError(limits.listed([problems.report()]))
    return policies


def _oversize(text: str, max_bytes: int) -> str | None:
    """The problem of a text over `max_bytes` of UTF-8, or None."""
    chunk = 1 << 16  # measured a piece at a time: a huge text is not copied whole
    size = sum(
        len(text[at : at + chunk].encode("utf-8", "surrogatepass"))
        for at in range(0, len(text), chunk)
    )
    return limits.too_large(size, max_bytes) if size > max_bytes else None


def load_policies(paths: Sequence[Path], *, max_bytes: int | None = None) -> list[Policy]:
    """Every policy of `paths` taken together, in file order then list order.

    Ids must be unique across all the files. Any problem in any file refuses the whole set; the
    first `limits.PROBLEMS_LISTED` problems are listed. A file over `max_bytes` (default
    `limits.max_policy_bytes()`) is refused after reading no more than one byte past it.
    """
    cap = limits.max_policy_bytes() if max_bytes is None else max_bytes
    reports: list[limits.FileProblems] = []
    seen: dict[str, str] = {}
    policies: list[Policy] = []
    for path in paths:
        source = str(path)
        text, unreadable = _read_text(Path(path), cap)
        if text is None:
            reports.append(limits.FileProblems(source, [f"{source}{unreadable}"]))
            continue
        problems = yn.Problems(source)
        policies.extend(_read_document(text, problems, seen))
        if problems:
            reports.append(problems.report())
    if reports:
        raise PolicyError(limits.listed(reports))
    return policies


def _read_text(path: Path, max_bytes: int) -> tuple[str, None] | tuple[None, str]:
    """The text of a policy file, or why there is none (`: message` or `:1: message`, to
    follow the file's name): it cannot be read, is too large or is not UTF-8."""
    try:
        with path.open("rb") as file:
            raw = file.read(max_bytes + 1)
            size = os.fstat(file.fileno()).st_size
    except OSError as exc:
        return None, f": cannot read the file ({exc.strerror or exc})"
    if len(raw) > max_bytes:  # a pipe or a device has no size of its own: "larger than"
        return None, f":1: {limits.too_large(size if size > max_bytes else None, max_bytes)}"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, ": not UTF-8 text; save the policy file as UTF-8"


def _read_document(text: str, problems: yn.Problems, seen: dict[str, str]) -> list[Policy]:
    """The policies of one document; `seen` maps ids met so far to their `file:line`.

    Checking stops (with no policies) once the file has more problems than `problems` keeps.
    """
    try:
        return _read_checked(text, problems, seen)
    except yn.TooManyProblems:
        return []


def _read_checked(text: str, problems: yn.Problems, seen: dict[str, str]) -> list[Policy]:
    root = yn.compose(text, problems)
    if problems:
        return []
    if root is None or yn.is_null(root):
        problems.add(
            1,
            "the file is empty: write 'policies:' followed by a list of policies "
            "(or 'policies: []' for none)",
        )
        return []
    yn.check_tags(root, problems)
    top = yn.mapping(root, "the file", "'policies: [...]'", problems)
    if top is None:
        return []
    keys = yn.entries(top, "the top level", problems)
    for key, entry in keys.items():
        if key != "policies":
            problems.add(
                entry.key_node, f"unknown key '{key}' at the top level (expected only 'policies')"
            )
    if "policies" not in keys:
        problems.add(top, "no 'policies' key: write 'policies:' followed by a list of policies")
        return []
    listing = keys["policies"].value
    if not isinstance(listing, SequenceNode):
        problems.add(
            listing,
            "'policies' must be a list of policies "
            "(each item starting with '- id: ...'; 'policies: []' for none)",
        )
        return []
    policies: list[Policy] = []
    for index, item in enumerate(listing.value, start=1):
        policy = _read_policy(item, index, problems, seen)
        if policy is not None:
            policies.append(policy)
    return policies


def _peek_id(node: MappingNode) -> str | None:
    """The policy's id if it is well formed, to name the policy in messages."""
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == "id":
            if isinstance(value_node, ScalarNode) and ID_PATTERN.match(str(value_node.value)):
                return str(value_node.value)
            return None
    return None


def _read_policy(
    node: Node, index: int, problems: yn.Problems, seen: dict[str, str]
) -> Policy | None:
    """One list item as a policy, or None when it has any problem (each one added)."""
    if not isinstance(node, MappingNode):
        problems.add(
            node,
            f"policy #{index} must be a mapping with keys such as id, effect, scope and window",
        )
        return None
    before = len(problems)
    peeked = _peek_id(node)
    ctx = sections.Context(problems, node, f"'{peeked}'" if peeked else f"#{index}")
    found = yn.entries(node, f"policy {ctx.name}", problems)
    policy_id = _read_id(ctx, found, index, seen)
    effect = _read_effect(ctx, found)
    _check_keys(ctx, found, effect)
    title = _read_title(ctx, found)
    scope: Scope | None = None
    if "scope" in found:
        scope = sections.read_scope(ctx, found["scope"].value)
    else:
        _missing(ctx, "scope", "write 'scope: {}' to cover every account")
    window: Window | None = None
    if "window" in found:
        window = sections.read_window(ctx, found["window"].value)
    else:
        _missing(ctx, "window", "add 'window: {start: YYYY-MM-DD, end: YYYY-MM-DD}'")
    if effect is None:
        return None
    policy = _build(ctx, found, effect, window)
    if len(problems) > before or policy_id is None or scope is None or window is None:
        return None
    base = PolicyBase(policy_id, title or policy_id, scope, window, problems.location(node))
    return policy(base)


def _missing(ctx: sections.Context, key: str, hint: str) -> None:
    ctx.add(ctx.node, f"policy {ctx.name} has no '{key}' ({hint})")


def _read_id(
    ctx: sections.Context, found: dict[str, yn.Entry], index: int, seen: dict[str, str]
) -> str | None:
    if "id" not in found:
        _missing(ctx, "id", "add 'id: some-name' using a-z, 0-9 and '-'")
        return None
    node = found["id"].value
    raw = yn.text(node, f"the id of policy #{index}", ctx.problems)
    if raw is None:
        return None
    if not ID_PATTERN.match(raw):
        suggestion = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-") or "gd-power-2020"
        ctx.add(node, f"policy id '{raw}' may only use a-z, 0-9 and '-' (e.g. '{suggestion}')")
        return None
    if raw in seen:
        ctx.add(node, f"duplicate policy id '{raw}' (first at {seen[raw]})")
    else:
        seen[raw] = ctx.problems.location(node)
    return raw


def _read_effect(ctx: sections.Context, found: dict[str, yn.Entry]) -> Effect | None:
    if "effect" not in found:
        _missing(ctx, "effect", f"expected one of: {EFFECTS}")
        return None
    node = found["effect"].value
    raw = yn.text(node, f"'effect' of policy {ctx.name}", ctx.problems)
    if raw is None:
        return None
    try:
        return Effect(raw)
    except ValueError:
        ctx.add(node, f"unknown effect '{raw}' in policy {ctx.name} (expected one of: {EFFECTS})")
        return None


def _check_keys(ctx: sections.Context, found: dict[str, yn.Entry], effect: Effect | None) -> None:
    """Unknown keys, and keys that belong to another effect than the policy's."""
    allowed = COMMON_KEYS + (EFFECT_KEYS[effect] if effect else tuple(KEY_OWNER))
    for key, entry in found.items():
        owner = KEY_OWNER.get(key)
        if key in COMMON_KEYS or (owner is not None and owner is effect):
            continue
        if owner is None:
            ctx.add(
                entry.key_node,
                f"unknown key '{key}' in policy {ctx.name} (expected one of: {', '.join(allowed)})",
            )
        elif effect is not None:
            ctx.add(
                entry.key_node,
                f"'{key}' belongs to {owner} policies, not {effect} (policy {ctx.name})",
            )


def _read_title(ctx: sections.Context, found: dict[str, yn.Entry]) -> str | None:
    """The title, stripped; None when absent (the id stands in) or wrong."""
    if "title" not in found:
        return None
    node = found["title"].value
    raw = yn.text(node, f"'title' of policy {ctx.name}", ctx.problems)
    if raw is not None and not raw.strip():
        ctx.add(
            node,
            f"'title' of policy {ctx.name} is blank: write a title or leave the key "
            "out to use the id",
        )
    return raw.strip() if raw else None


def _build(
    ctx: sections.Context, found: dict[str, yn.Entry], effect: Effect, window: Window | None
) -> Callable[[PolicyBase], Policy]:
    """Read the effect's own keys; returns how to make the policy from its common fields."""
    if effect is Effect.EXEMPT:
        pause = sections.read_flag(ctx, found, "pause_reminders")
        reconnect = sections.read_flag(ctx, found, "reconnect")
        spread = sections.read_resume(ctx, found)
        return lambda base: ExemptPolicy(
            *_common(base), pause_reminders=pause, reconnect=reconnect, spread_days=spread
        )
    if effect is Effect.DEFER:
        days, until = sections.read_defer(ctx, found, window)
        return lambda base: DeferPolicy(*_common(base), days=days, until=until)
    if effect is Effect.WAIVE_LATE_FEE:
        issued_in, period_in = sections.read_bills(ctx, found)
        return lambda base: WaiverPolicy(*_common(base), issued_in=issued_in, period_in=period_in)
    credit = sections.read_credit(ctx, found)
    return lambda base: CreditPolicy(*_common(base), credit_fen=credit)


def _common(base: PolicyBase) -> tuple[str, str, Scope, Window, str]:
    return base.id, base.title, base.scope, base.window, base.source
