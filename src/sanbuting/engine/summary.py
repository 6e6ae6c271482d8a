"""`summary.json`: the run's regulator counts (人次 events, 戶 accounts, account-days,
protected arrears, waived fees), its inputs and policies by hash, and its version.

Events are counted per policy and kind; `protected_arrears_fen` sums, over protected accounts,
their arrears on the day of their first protection event (an account counts once however many
events it has). Keys are sorted and no wall-clock time is written, so identical inputs give
identical bytes.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from sanbuting import __version__
from sanbuting.domain import Action
from sanbuting.engine.simulate import RunResult


def summarize(
    result: RunResult,
    *,
    start: str,
    end: str,
    inputs: dict[str, str],
    policies: dict[str, str],
    rejects: int,
) -> dict[str, object]:
    """The summary object of a run (see the module docstring)."""
    events: dict[str, Counter[str]] = defaultdict(Counter)
    by_utility: dict[str, dict[str, object]] = {}
    utility_events: dict[str, Counter[str]] = defaultdict(Counter)
    protected_of: dict[str, set[str]] = defaultdict(set)
    for row in result.protections:
        events[row.policy_id][row.kind] += 1
        utility = result.utilities[row.account_id].value
        utility_events[utility][row.kind] += 1
        protected_of[utility].add(row.account_id)
    accounts_of = Counter(u.value for u in result.utilities.values())
    waived_of: Counter[str] = Counter()
    for fee in result.fees:
        waived_of[result.utilities[fee.account_id].value] += fee.waived_fen
    for utility in sorted(accounts_of):
        by_utility[utility] = {
            "accounts": accounts_of[utility],
            "protection_events": dict(sorted(utility_events[utility].items())),
            "protected_accounts": len(protected_of[utility]),
            "waived_fen": waived_of[utility],
        }
    province_events: dict[str, Counter[str]] = defaultdict(Counter)
    province_accounts: dict[str, set[str]] = defaultdict(set)
    for row in result.protections:
        province = result.provinces[row.account_id]
        province_events[province][row.kind] += 1
        province_accounts[province].add(row.account_id)
    by_province = {
        province: {
            "protection_events": dict(sorted(province_events[province].items())),
            "protected_accounts": len(province_accounts[province]),
        }
        for province in sorted(province_events)
    }
    actions = Counter(row.action.value for row in result.actions)
    return {
        "version": __version__,
        "period": {"start": start, "end": end},
        "inputs": dict(sorted(inputs.items())),
        "policies": dict(sorted(policies.items())),
        "accounts": len(result.states),
        "actions": {a.value: actions.get(a.value, 0) for a in sorted(Action, key=str)},
        "protection_events": {p: dict(sorted(k.items())) for p, k in sorted(events.items())},
        "protected_accounts": len(result.protected_days),
        "protected_account_days": sum(result.protected_days.values()),
        "protected_arrears_fen": sum(result.protected_arrears_fen.values()),
        "waived_fen": sum(fee.waived_fen for fee in result.fees),
        "rejects": rejects,
        "by_utility": by_utility,
        "by_province": by_province,
    }


def summary_json(summary: dict[str, object]) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
