"""What-ifs the server remembers, and activation from them.

A policy set is activated only from a what-if: the server computed it for the exact bytes
uploaded, in one scope (a company's own set, or the deployment-wide set), on the sets then in
force, and keeps it (`PolicyTrial`). Activation names that what-if (never a file sent again,
never a hash the browser computed), needs an explicit confirmation, and is refused when the
what-if is someone else's, already used, older than a day, or made on sets that have changed
since. Who may activate what: a company's policy administrator its company's own set; the
policy authority the deployment-wide set.

A what-if's changed accounts (`whatif.accounts`) are kept with it, the first `MOST_CHANGES`
in order, so that its maker can export them all (`changes_of`).

Keyword-only; the caller owns the transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc, read_utc
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError
from sanbuting.jobs.activation import Activated, activate_text, state_of
from sanbuting.store.models import Company
from sanbuting.store.web_models import PolicyTrial, PolicyTrialChange, Staff
from sanbuting.whatif import policy_diff
from sanbuting.whatif.service import FIGURES, WhatIf

LIFETIME = timedelta(hours=24)
"""How long a what-if may be activated from."""
ACTIVATES = {"policy_admin": "company", "policy_authority": "deployment"}
"""The roles that activate, and the scope each holds."""
MOST_CHANGES = 1_000_000
"""The most changed account-days a what-if keeps (an XLSX sheet holds 1,048,575 rows)."""
CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class KeptChange:
    """A changed account-day as a what-if keeps it (`whatif.accounts.AccountChange`, its
    actions `+`-joined, empty for none)."""

    company: str
    account_id: str
    day: date
    before: str
    after: str
    policies: str


def remember(
    *,
    session: Session,
    scope: Company | None,
    staff: Staff | None,
    text: str,
    result: WhatIf,
    now: datetime,
) -> PolicyTrial:
    """Keep a what-if of `text` for activation."""
    trial = PolicyTrial(
        company_id=scope.id if scope is not None else None,
        staff_id=staff.id if staff is not None else None,
        file_name=result.file_name,
        text=text,
        sha256=result.sha256,
        based_on=state_of(session, scope),
        figures=json.dumps(
            summary(result) | {"by_day": by_day(result)},
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        ),
        created_at=as_utc(now),
        activated_version=None,
    )
    session.add(trial)
    session.flush()
    _keep_changes(session, trial, result)
    return trial


def _keep_changes(session: Session, trial: PolicyTrial, result: WhatIf) -> None:
    codes = [f.company for f in result.companies]
    ids = dict(
        session.execute(select(Company.code, Company.id).where(Company.code.in_(codes))).all()
    )
    rows = (
        {
            "trial_id": trial.id,
            "company_id": ids[c.company],
            "account_id": c.account_id,
            "day": c.day,
            "before": "+".join(c.before),
            "after": "+".join(c.after),
            "policies": c.policies_text[:500],
        }
        for c in islice(result.changes, MOST_CHANGES)
    )
    while chunk := list(islice(rows, CHUNK)):
        session.execute(insert(PolicyTrialChange), chunk)


def changes_of(*, session: Session, trial_id: int, staff: Staff) -> list[KeptChange]:
    """The changed account-days kept with what-if `trial_id`, by company, account and day;
    only its maker reads them (NotFound for anyone else, as for a what-if that is not)."""
    trial = session.get(PolicyTrial, trial_id)
    if trial is None or trial.staff_id != staff.id:
        raise NotFound("no such what-if of yours: upload the file and run the what-if first")
    query = (
        select(
            Company.code,
            PolicyTrialChange.account_id,
            PolicyTrialChange.day,
            PolicyTrialChange.before,
            PolicyTrialChange.after,
            PolicyTrialChange.policies,
        )
        .join(Company, Company.id == PolicyTrialChange.company_id)
        .where(PolicyTrialChange.trial_id == trial_id)
        .order_by(PolicyTrialChange.id)
        .execution_options(yield_per=CHUNK)
    )
    return [KeptChange(*row) for row in session.execute(query)]


def summary(result: WhatIf) -> dict[str, object]:
    """What a what-if found, as the audit log and the trial keep it."""
    return {
        "scope": result.scope,
        "policies": result.policies,
        "added": list(result.added),
        "removed": list(result.removed),
        "policy_changes": policy_diff.summary(result.policy_changes),
        "changes": len(result.changes),
        "seconds": round(result.seconds, 3),
        "companies": {f.company: {k: getattr(f, k) for k in FIGURES} for f in result.companies},
    }


def by_day(result: WhatIf) -> dict[str, list[list[object]]]:
    """Each company's day-by-day figures, `[day, events without, events with, cut-offs
    without, cut-offs with]` (`whatif.service.DayFigures`), as the trial keeps them for the
    what-if chart."""
    return {
        f.company: [
            [
                d.day.isoformat(),
                d.events_without,
                d.events_with,
                d.cutoffs_without,
                d.cutoffs_with,
            ]
            for d in f.by_day
        ]
        for f in result.companies
    }


def activate_trial(
    *, session: Session, trial_id: int, staff: Staff, confirmed: bool, now: datetime
) -> Activated:
    """Activate the set of what-if `trial_id` (see the module docstring)."""
    scope = ACTIVATES.get(staff.role)
    if scope is None:
        raise Forbidden(
            f"the {staff.role} role may not activate policies (a policy administrator "
            "activates a company's set, the policy authority the deployment's)"
        )
    trial = session.scalar(select(PolicyTrial).where(PolicyTrial.id == trial_id).with_for_update())
    if trial is None or trial.staff_id != staff.id:
        raise NotFound("no such what-if of yours: upload the file and run the what-if first")
    if not confirmed:
        raise SanbutingError("confirm that you have read the what-if, then activate")
    if trial.activated_version is not None:
        raise Conflict(f"this what-if was activated already, as version {trial.activated_version}")
    if read_utc(trial.created_at) + LIFETIME < as_utc(now):
        raise Conflict("this what-if is more than a day old: run it again, then activate")
    company: Company | None = None
    if scope == "company":
        if trial.company_id != staff.company_id:
            raise Forbidden("this what-if is not of your company's set")
        company = session.get(Company, staff.company_id)
    elif trial.company_id is not None:
        raise Forbidden("this what-if is of a company's own set, not the deployment's")
    done = activate_text(
        session=session,
        text=trial.text,
        file_name=trial.file_name,
        company=company,
        by=f"{staff.username} ({company.code if company else 'deployment'})",
        at=now,
        staff=staff,
        expected_state=trial.based_on,
    )
    trial.activated_version = done.version
    session.flush()
    return done
