"""GET /policies (staff): the relief-policy set in force — each policy's effect, window, scope
and terms — and every version activated, with who activated it and when."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from sqlalchemy import select

from sanbuting.domain import read_utc
from sanbuting.policy import Policy
from sanbuting.policy.model import CreditPolicy, DeferPolicy, ExemptPolicy, Scope
from sanbuting.store.models import PolicyVersion
from sanbuting.store.policies import active
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
    version, loaded = active(session=session)
    versions = session.scalars(select(PolicyVersion).order_by(PolicyVersion.version.desc()))
    audit(session, staff, "api.policies", "", now)
    return PoliciesOut(
        active_version=version.version if version is not None else None,
        active=[policy_out(policy) for policy in loaded],
        versions=[
            PolicyVersionOut(
                version=v.version,
                file_name=v.file_name,
                sha256=v.sha256,
                policies=v.policies,
                activated_by=v.activated_by,
                activated_at=read_utc(v.activated_at),
            )
            for v in versions
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
