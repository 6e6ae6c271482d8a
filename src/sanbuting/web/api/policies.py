"""GET /policies (staff): the relief policies in force for the caller's company (the
deployment-wide set, then the company's own) — each policy's effect, window, scope and terms —
and every version of both scopes, with who activated it and when."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from sanbuting.domain import read_utc
from sanbuting.policy import Policy
from sanbuting.policy.model import CreditPolicy, DeferPolicy, ExemptPolicy, Scope
from sanbuting.store.models import Company
from sanbuting.store.policy_versions import in_force, versions_for
from sanbuting.web.api.common import SECURED, Now, audit, errors
from sanbuting.web.api.schemas import PoliciesOut, PolicyOut, PolicyVersionOut, ScopeOut
from sanbuting.web.deps import DB, SignedInStaff

router = APIRouter(tags=["policies"], dependencies=SECURED)


@router.get(
    "/policies",
    response_model=PoliciesOut,
    responses=errors(401),
    summary="The active relief policies and every version activated",
)
def list_policies(session: DB, staff: SignedInStaff, now: Now) -> PoliciesOut:
    company = session.get(Company, staff.company_id)
    assert company is not None
    sets = in_force(session=session, company_id=company.id)
    audit(session, staff, "api.policies", "", now)
    return PoliciesOut(
        active_version=sets.own.version if sets.own is not None else None,
        deployment_version=sets.deployment.version if sets.deployment is not None else None,
        active=[policy_out(policy) for policy in sets.policies],
        versions=[
            PolicyVersionOut(
                version=v.version,
                scope="deployment" if v.company_id is None else "company",
                file_name=v.file_name,
                sha256=v.sha256,
                policies=v.policies,
                activated_by=v.activated_by,
                activated_at=read_utc(v.activated_at),
            )
            for v in versions_for(session, company)
        ],
    )


def policy_out(policy: Policy) -> PolicyOut:
    return PolicyOut(
        id=policy.id,
        title=policy.title,
        effect=policy.effect.value,
        start=policy.window.start,
        end=policy.window.end,
        scope=scope_out(policy.scope),
        terms=terms(policy),
    )


def scope_out(scope: Scope) -> ScopeOut:
    def listed(values: tuple[object, ...] | None) -> list[str] | None:
        return None if values is None else [str(v) for v in values]

    return ScopeOut(
        utility=listed(scope.utility),
        region=listed(scope.region),
        customer_class=listed(scope.customer_class),
        tags=listed(scope.tags),
        billing_mode=listed(scope.billing_mode),
    )


def terms(policy: Policy) -> dict[str, str]:
    """What a policy does beyond its window, as text."""
    if isinstance(policy, ExemptPolicy):
        return {
            "pause_reminders": str(policy.pause_reminders).lower(),
            "reconnect": str(policy.reconnect).lower(),
            "spread_days": str(policy.spread_days),
        }
    if isinstance(policy, DeferPolicy):
        moved: int | date | None = policy.days if policy.days is not None else policy.until
        return {"days" if policy.days is not None else "until": str(moved)}
    if isinstance(policy, CreditPolicy):
        return {"credit_fen": str(policy.credit_fen)}
    chosen = policy.issued_in or policy.period_in
    if chosen is None:
        return {}
    return {"issued_in" if policy.issued_in else "period_in": ",".join(chosen)}
