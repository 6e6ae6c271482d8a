"""What an uploaded policy file changes against the set it replaces, policy by policy, in words.

Policies are matched by id. A policy only in the file is `added`, one only in the replaced set
`removed`; one in both is `changed` when any of these differ, each named with its old and new
value:

- `effect`: exempt, defer, late-fee waiver, emergency credit;
- `window`: its first and last day covered (the YAML `end` is the day after the last);
- `scope`: utilities, regions, customer classes, billing modes, tags;
- `terms`: the effect's own settings (reminders paused, reconnection, spread days, days or
  date deferred to, the bills waived, the credit);
- `title`.

Where it was read (`source`) is not a change. The words are simplified Chinese (`zh`) or
English (`en`), from the `explain` catalogue where it has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeVar

from sanbuting.domain import format_yuan
from sanbuting.explain.catalogue import TEXT, Lang
from sanbuting.policy.model import (
    CreditPolicy,
    DeferPolicy,
    ExemptPolicy,
    Policy,
    Scope,
    WaiverPolicy,
    Window,
)
from sanbuting.regions import full_name

ChangeKind = Literal["added", "removed", "changed"]
T = TypeVar("T", bound=str)
ASPECTS = ("effect", "window", "scope", "terms", "title")
"""What a changed policy may differ in, in the order they are said."""

WORDS: dict[Lang, dict[str, str]] = {
    "zh": {
        "added": "新增 {id}：{what}",
        "removed": "删除 {id}：{what}",
        "changed": "修改 {id}：{parts}",
        "part": "{aspect} {old} → {new}",
        "aspect.effect": "效果",
        "aspect.window": "期间",
        "aspect.scope": "范围",
        "aspect.terms": "条件",
        "aspect.title": "标题",
        "what": "{effect}；{window}；{scope}",
        "window": "{first} 至 {last}",
        "scope.all": "全部用户",
        "scope.utility": "行业 {items}",
        "scope.region": "地区 {items}",
        "scope.region.item": "{name}（{code}）",
        "scope.customer_class": "类别 {items}",
        "scope.billing_mode": "计费方式 {items}",
        "scope.tags": "标签 {items}",
        "terms.none": "无",
        "terms.pause_reminders": "暂停催缴提醒",
        "terms.reconnect": "恢复已停的服务",
        "terms.spread_days": "期满后分 {value} 天恢复",
        "terms.days": "顺延 {value} 天",
        "terms.until": "顺延至 {value}",
        "terms.issued_in": "{value} 出账的账单",
        "terms.period_in": "账期为 {value} 的账单",
        "terms.all_bills": "全部账单",
        "terms.credit_fen": "额度 {value} 元",
        "effect.exempt": "免停",
        "effect.defer": "缓停",
        "effect.waive_late_fee": "免收违约金",
        "effect.emergency_credit": "应急额度",
        "title.none": "（无标题）",
        "sep": "；",
    },
    "en": {
        "added": "added {id}: {what}",
        "removed": "removed {id}: {what}",
        "changed": "changed {id}: {parts}",
        "part": "{aspect} {old} → {new}",
        "aspect.effect": "effect",
        "aspect.window": "window",
        "aspect.scope": "scope",
        "aspect.terms": "terms",
        "aspect.title": "title",
        "what": "{effect}; {window}; {scope}",
        "window": "{first} to {last}",
        "scope.all": "every account",
        "scope.utility": "utility {items}",
        "scope.region": "region {items}",
        "scope.region.item": "{name} ({code})",
        "scope.customer_class": "class {items}",
        "scope.billing_mode": "billing {items}",
        "scope.tags": "tags {items}",
        "terms.none": "none",
        "terms.pause_reminders": "reminders paused",
        "terms.reconnect": "service cut off is restored",
        "terms.spread_days": "resuming over {value} days",
        "terms.days": "by {value} days",
        "terms.until": "until {value}",
        "terms.issued_in": "bills issued in {value}",
        "terms.period_in": "bills of period {value}",
        "terms.all_bills": "every bill",
        "terms.credit_fen": "{value} yuan",
        "effect.exempt": "exempt",
        "effect.defer": "defer",
        "effect.waive_late_fee": "late-fee waiver",
        "effect.emergency_credit": "emergency credit",
        "title.none": "(no title)",
        "sep": "; ",
    },
}


@dataclass(frozen=True)
class PolicyChange:
    """One policy the file adds, removes or changes; `old` is the replaced set's, `new` the
    file's (None where there is none), `aspects` what a changed policy differs in."""

    policy_id: str
    kind: ChangeKind
    old: Policy | None
    new: Policy | None
    aspects: tuple[str, ...] = ()


def policy_changes(old: Sequence[Policy], new: Sequence[Policy]) -> tuple[PolicyChange, ...]:
    """The file `new` against the replaced set `old`: the added policies in the file's order,
    the changed ones in the file's order, then the removed ones in the old set's order."""
    before = {p.id: p for p in old}
    after = {p.id: p for p in new}
    added = [PolicyChange(p.id, "added", None, p) for p in new if p.id not in before]
    changed = []
    for policy in new:
        was = before.get(policy.id)
        if was is None:
            continue
        aspects = tuple(a for a in ASPECTS if _compared(was, a) != _compared(policy, a))
        if aspects:
            changed.append(PolicyChange(policy.id, "changed", was, policy, aspects))
    removed = [PolicyChange(p.id, "removed", p, None) for p in old if p.id not in after]
    return (*added, *changed, *removed)


def describe(change: PolicyChange, lang: Lang) -> str:
    """One change in words: `修改 gz-exempt：期间 2020-01-15 至 2020-01-31 → …`."""
    words = WORDS[lang]
    if change.kind == "changed":
        assert change.old is not None and change.new is not None
        parts = [
            words["part"].format(
                aspect=words[f"aspect.{aspect}"],
                old=_aspect(change.old, aspect, lang),
                new=_aspect(change.new, aspect, lang),
            )
            for aspect in change.aspects
        ]
        return words["changed"].format(id=change.policy_id, parts=words["sep"].join(parts))
    policy = change.new if change.kind == "added" else change.old
    assert policy is not None
    what = words["what"].format(
        effect=_effect_and_terms(policy, lang),
        window=window_words(policy.window, lang),
        scope=scope_words(policy.scope, lang),
    )
    return words[change.kind].format(id=change.policy_id, what=what)


def summary(changes: Sequence[PolicyChange]) -> list[dict[str, object]]:
    """The changes as the audit log and the trial keep them: id, kind and aspects."""
    return [{"id": c.policy_id, "kind": c.kind, "aspects": list(c.aspects)} for c in changes]


def window_words(window: Window, lang: Lang) -> str:
    """A window by its first and last day covered."""
    last = window.end - timedelta(days=1)
    return WORDS[lang]["window"].format(first=window.start, last=last)


def scope_words(scope: Scope, lang: Lang) -> str:
    """A scope in words, each key given with its values (every account when none is)."""
    words, text = WORDS[lang], TEXT[lang]
    joined = text["list"].join
    parts = []
    if scope.utility is not None:
        items = joined(text[f"utility.{u}"] for u in scope.utility)
        parts.append(words["scope.utility"].format(items=items))
    if scope.region is not None:
        regions = (
            words["scope.region.item"].format(name=full_name(code), code=code)
            for code in scope.region
        )
        parts.append(words["scope.region"].format(items=joined(regions)))
    if scope.customer_class is not None:
        items = joined(text[f"class.{c}"] for c in scope.customer_class)
        parts.append(words["scope.customer_class"].format(items=items))
    if scope.billing_mode is not None:
        items = joined(text[f"mode.{m}"] for m in scope.billing_mode)
        parts.append(words["scope.billing_mode"].format(items=items))
    if scope.tags is not None:
        parts.append(words["scope.tags"].format(items=joined(scope.tags)))
    return words["sep"].join(parts) if parts else words["scope.all"]


def terms_words(policy: Policy, lang: Lang) -> str:
    """The effect's own settings in words (`无` / `none` when it has none)."""
    words, joined = WORDS[lang], TEXT[lang]["list"].join
    said: list[str] = []
    if isinstance(policy, ExemptPolicy):
        said += [words["terms.pause_reminders"]] if policy.pause_reminders else []
        said += [words["terms.reconnect"]] if policy.reconnect else []
        if policy.spread_days:
            said.append(words["terms.spread_days"].format(value=policy.spread_days))
    elif isinstance(policy, DeferPolicy):
        if policy.days is not None:
            said.append(words["terms.days"].format(value=policy.days))
        else:
            said.append(words["terms.until"].format(value=policy.until))
    elif isinstance(policy, WaiverPolicy):
        if policy.issued_in is not None:
            said.append(words["terms.issued_in"].format(value=joined(policy.issued_in)))
        elif policy.period_in is not None:
            said.append(words["terms.period_in"].format(value=joined(policy.period_in)))
        else:
            said.append(words["terms.all_bills"])
    elif isinstance(policy, CreditPolicy):
        said.append(words["terms.credit_fen"].format(value=format_yuan(policy.credit_fen)))
    return words["sep"].join(said) if said else words["terms.none"]


def _effect_and_terms(policy: Policy, lang: Lang) -> str:
    """The effect, with its settings in brackets when it has any."""
    words = WORDS[lang]
    effect, terms = words[f"effect.{policy.effect}"], terms_words(policy, lang)
    if terms == words["terms.none"]:
        return effect
    return f"{effect}（{terms}）" if lang == "zh" else f"{effect} ({terms})"


def _compared(policy: Policy, aspect: str) -> str:
    """What two policies are compared by: the aspect in words, a scope's lists in order (a
    reordered list is not a change)."""
    if aspect == "scope":
        return scope_words(_sorted(policy.scope), "en")
    return _aspect(policy, aspect, "en")


def _aspect(policy: Policy, aspect: str, lang: Lang) -> str:
    """One aspect of a policy in words."""
    if aspect == "effect":
        return WORDS[lang][f"effect.{policy.effect}"]
    if aspect == "window":
        return window_words(policy.window, lang)
    if aspect == "scope":
        return scope_words(policy.scope, lang)
    if aspect == "terms":
        return terms_words(policy, lang)
    return policy.title or WORDS[lang]["title.none"]


def _sorted(scope: Scope) -> Scope:
    """The scope with each list in order, so that a reordered list is not a change."""

    return Scope(
        utility=_ordered(scope.utility),
        region=_ordered(scope.region),
        customer_class=_ordered(scope.customer_class),
        tags=_ordered(scope.tags),
        billing_mode=_ordered(scope.billing_mode),
    )


def _ordered(items: tuple[T, ...] | None) -> tuple[T, ...] | None:
    return None if items is None else tuple(sorted(set(items)))
