"""Who is served first: an application's priority, set at submission (1 first).

As in 2020, when hospitals and Hubei were served first: an account tagged `hospital` ranks
first; then an account in a region that a relief policy in force names — a policy of the
company's sets (the deployment-wide one included) whose window covers the day of submission,
whose scope names regions (a prefix covering the account's code: "42" for Hubei) and whose
utilities, if it names any, include the account's; the scope's other keys (class, tags,
billing mode) are not looked at, since a region named for relief is one under strain. Every
other account, and a ticket without an account, ranks third. Tickets come before business
applications: a ticket's priority is its rank (1, 2, 3), a business application's is its rank
plus 3 (4, 5, 6). Queues and worklists order by priority, then by the promised time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from sanbuting.applications.catalogue import Category
from sanbuting.policy import Policy
from sanbuting.regions import matches
from sanbuting.store.models import Account
from sanbuting.store.policy_versions import policies_for

HOSPITAL_TAG = "hospital"
RANKS = 3
PRIORITY_TEXT: dict[int, tuple[str, str]] = {
    1: ("最优先（医院工单）", "First (a hospital's ticket)"),
    2: ("优先（纾困地区工单）", "High (a ticket from a relief region)"),
    3: ("工单", "Ticket"),
    4: ("较高（医院业务）", "Raised (a hospital's application)"),
    5: ("较高（纾困地区业务）", "Raised (an application from a relief region)"),
    6: ("普通", "Normal"),
}
"""Each priority in words: (中文, English)."""


def names_region(policy: Policy, account: Account, on: date) -> bool:
    """Whether `policy`, in force on `on`, names the account's region for its utility."""
    scope = policy.scope
    return (
        policy.window.covers(on)
        and scope.region is not None
        and matches(account.region, scope.region)
        and (scope.utility is None or account.utility in scope.utility)
    )


def rank(account: Account | None, policies: Sequence[Policy], on: date) -> int:
    """1 for a hospital, 2 for a region a relief policy names on `on`, else 3."""
    if account is None:
        return RANKS
    if HOSPITAL_TAG in (account.tags or "").split(";"):
        return 1
    if any(names_region(policy, account, on) for policy in policies):
        return 2
    return RANKS


def priority_of(*, session: Session, account: Account | None, category: Category, on: date) -> int:
    """The priority of an application of `category` for `account`, submitted on `on` (the
    policies read are those in force for the account's company)."""
    policies: Sequence[Policy] = (
        policies_for(session=session, company_id=account.company_id) if account else ()
    )
    ranked = rank(account, policies, on)
    return ranked if category == "ticket" else ranked + RANKS
