"""Which policies apply to an account, and which waivers to one of its bills."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sanbuting.policy.model import AccountFacts, Policy, WaiverPolicy


def in_scope(policies: Sequence[Policy], account: AccountFacts) -> list[Policy]:
    """The policies whose scope matches `account`, in file order."""
    return [policy for policy in policies if policy.scope.matches(account)]


def waivers_for_bill(
    policies: Sequence[Policy], account: AccountFacts, *, issued_on: date, period: str
) -> list[WaiverPolicy]:
    """The late-fee waivers covering one bill of `account` (any day of their window)."""
    return [
        policy
        for policy in in_scope(policies, account)
        if isinstance(policy, WaiverPolicy)
        and policy.matches_bill(issued_on=issued_on, period=period)
    ]
