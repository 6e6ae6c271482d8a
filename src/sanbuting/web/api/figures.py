"""GET /figures (regulator, supervisor): the regulator's figures of the caller's company over
every day its daily run decided, read from the store's runs, actions, protection events and
ledger — 人次 (protection events) and 户 (distinct accounts) per policy, the arrears of the
protected accounts on the day of their first event, the late fees waived, and the actions
carried out by kind. Counted as `summary.json` counts them (protected arrears and waived fees
as `reports.deployment` counts them for every company: GET /figures/companies)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.reports import deployment
from sanbuting.store.models import Account, Company, ProtectionEvent, Run, StoredAction
from sanbuting.web.api.common import REFUSALS, SECURED, Now, audit, errors, refused
from sanbuting.web.api.schemas import FiguresOut, PolicyFigure
from sanbuting.web.deps import DB, SignedInStaff, require_role

router = APIRouter(tags=["figures"], dependencies=SECURED)


@router.get(
    "/figures",
    response_model=FiguresOut,
    responses=errors(401, 403),
    summary="The regulator's figures of my company",
)
def figures(session: DB, staff: SignedInStaff, now: Now) -> FiguresOut | JSONResponse:
    try:
        require_role(staff, "regulator", "supervisor")
    except REFUSALS as exc:
        return refused(session, staff, "api.figures", "", now, exc)
    company = session.get(Company, staff.company_id)
    assert company is not None
    audit(session, staff, "api.figures", company.code, now)
    first, last, days = session.execute(
        select(func.min(Run.day), func.max(Run.day), func.count(Run.id)).where(
            Run.company_id == company.id
        )
    ).one()
    events = (
        select(ProtectionEvent)
        .join(Run, Run.id == ProtectionEvent.run)
        .where(Run.company_id == company.id, ProtectionEvent.kind.in_(sorted(POLICY_KINDS)))
        .subquery()
    )
    by_policy = session.execute(
        select(
            events.c.policy_id,
            events.c.kind,
            func.count(),
            func.count(func.distinct(events.c.account)),
        )
        .group_by(events.c.policy_id, events.c.kind)
        .order_by(events.c.policy_id, events.c.kind)
    ).all()
    protected = session.scalar(select(func.count(func.distinct(events.c.account)))) or 0
    actions = session.execute(
        select(StoredAction.action, func.count())
        .join(Run, Run.id == StoredAction.run)
        .where(Run.company_id == company.id)
        .group_by(StoredAction.action)
        .order_by(StoredAction.action)
    ).all()
    accounts = session.scalar(
        select(func.count(Account.id)).where(Account.company_id == company.id)
    )
    return FiguresOut(
        company=company.code,
        utility=company.utility,
        first_day=first,
        last_day=last,
        days_run=int(days or 0),
        accounts=int(accounts or 0),
        events=sum(int(n) for _, _, n, _ in by_policy),
        protected_accounts=int(protected),
        protected_arrears_fen=deployment.protected_arrears(session, [company]).get(company.id, 0),
        waived_fen=deployment.waived_fees(session, [company]).get(company.id, 0),
        by_policy=[
            PolicyFigure(policy_id=p, kind=k, events=int(n), accounts=int(a))
            for p, k, n, a in by_policy
        ],
        actions={action: int(n) for action, n in actions},
    )
