"""The regulator summary of a run, told the way the February 2020 report told it:
人次 of exempt (免停) and deferred (緩停) enforcement per utility, the accounts (戶) behind them,
the provinces first affected, waived late fees and protected arrears, with the as-of time.

It reads only `summary.json`, so it can be printed for any past run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sanbuting.regions import is_known, lookup
from sanbuting.reports.labels import UTILITIES, Lang, format_money

UTILITY_NAMES = UTILITIES
EXEMPT_WORDS: dict[Lang, dict[str, str]] = {
    "zh": {"telecom": "免停机", "power": "欠费不停电", "gas": "欠费不停气"},
    "en": {
        "telecom": "exempt from suspension",
        "power": "not cut off for arrears",
        "gas": "gas kept on despite arrears",
    },
}
TEXT: dict[Lang, dict[str, str]] = {
    "zh": {
        "head": "三不停运行报告：{start} 至 {end}（截至 {end} 24:00），{accounts} 户",
        "utility": "{name}：{exempt} {e} 人次，缓停 {d} 人次，涉及 {a} 户（共 {n} 户）",
        "province": "  受保护户数最多的省份：{items}",
        "money": "违约金减免 {waived}；受保护欠费 {arrears}；受保护户日 {days}",
        "actions": "执行：催缴 {remind}，停电/停气通知 {notice}，停机 {suspend}，"
        "停电/关阀 {disconnect}，销户 {terminate}，复电/复机 {reconnect}",
        "policies": "按政策统计（人次）：",
        "policy": "  {id}：{kinds}",
    },
    "en": {
        "head": "sanbuting run report: {start} to {end} (as of {end} 24:00), {accounts} accounts",
        "utility": "{name}: {e} enforcement events {exempt}, {d} deferred, "
        "{a} accounts protected (of {n})",
        "province": "  provinces with the most protected accounts: {items}",
        "money": "late fees waived {waived}; protected arrears {arrears}; "
        "protected account-days {days}",
        "actions": "carried out: {remind} reminders, {notice} notices, {suspend} suspensions, "
        "{disconnect} disconnections, {terminate} terminations, {reconnect} reconnections",
        "policies": "events (人次) by policy:",
        "policy": "  {id}: {kinds}",
    },
}


KIND_WORDS: dict[Lang, dict[str, str]] = {
    "zh": {"exempt": "免停", "defer": "缓停"},
    "en": {"exempt": "exempt", "defer": "deferred"},
}


def count(value: int, lang: Lang) -> str:
    """An integer with separators; in zh also in 万 once it reaches ten thousand."""
    text = f"{value:,}"
    if lang == "zh" and value >= 10_000:
        text += f"（{value / 10_000:.2f}万）"
    return text


def _province_name(code: str) -> str:
    return lookup(code).name if is_known(code) else code


def regulator_lines(
    summary: dict[str, Any],
    lang: Lang = "zh",
    top: int = 5,
    titles: Mapping[str, str] | None = None,
) -> list[str]:
    """The report as lines of text; a policy is named by its title in `titles` (policy id →
    title, from the run's policy files) when given, else by its id."""
    words = TEXT[lang]
    kinds = KIND_WORDS[lang]
    period = summary["period"]
    lines = [
        words["head"].format(
            start=period["start"], end=period["end"], accounts=count(summary["accounts"], lang)
        )
    ]
    for utility, figures in summary.get("by_utility", {}).items():
        events = figures["protection_events"]
        lines.append(
            words["utility"].format(
                name=UTILITY_NAMES[lang].get(utility, utility),
                exempt=EXEMPT_WORDS[lang][utility],
                e=count(events.get("exempt", 0), lang),
                d=count(events.get("defer", 0), lang),
                a=count(figures["protected_accounts"], lang),
                n=count(figures["accounts"], lang),
            )
        )
    provinces = sorted(
        summary.get("by_province", {}).items(),
        key=lambda item: (-item[1]["protected_accounts"], item[0]),
    )[:top]
    if provinces:
        items = ", ".join(
            f"{_province_name(code)} {count(p['protected_accounts'], lang)}"
            for code, p in provinces
        )
        lines.append(words["province"].format(items=items))
    lines.append(
        words["money"].format(
            waived=format_money(summary["waived_fen"], lang),
            arrears=format_money(summary["protected_arrears_fen"], lang),
            days=count(summary["protected_account_days"], lang),
        )
    )
    lines.append(
        words["actions"].format(**{k: count(v, lang) for k, v in summary["actions"].items()})
    )
    if summary["protection_events"]:
        lines.append(words["policies"])
        for policy_id, by_kind in summary["protection_events"].items():
            text = ", ".join(f"{kinds.get(k, k)} {count(n, lang)}" for k, n in by_kind.items())
            name = (titles or {}).get(policy_id, policy_id)
            lines.append(words["policy"].format(id=name, kinds=text))
    return lines
