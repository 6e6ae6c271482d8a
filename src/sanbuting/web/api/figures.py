"""GET /figures (regulator, supervisor): the regulator's figures of the caller's company over
every day its daily run decided, read from the store's runs, actions, protection events and
ledger — 人次 (protection events) and 户 (distinct accounts) per policy, the arrears of the
protected accounts on the day of their first event, the late fees waived, and the actions
carried out by kind. Counted as `summary.json` counts them."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import BillingMode
from sanbuting.engine.holds import POLICY_KINDS
from sanbuting.store.models import (
    Account,
    Bill,
    Company,
    LedgerLine,
    Posting,
    ProtectionEvent,
    Run,
    StoredAction,
)
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
        protected_arrears_fen=_protected_arrears(session, company),
        waived_fen=_waived(session, company),
        by_policy=[
            PolicyFigure(policy_id=p, kind=k, events=int(n), accounts=int(a))
            for p, k, n, a in by_policy
        ],
        actions={action: int(n) for action, n in actions},
    )


def _protected_arrears(session: Session, company: Company) -> int:
    """Each protected account's arrears at the end of the day of its first protection event
    (as `ledger.service.arrears` reads them), summed."""
    firsts = (
        select(ProtectionEvent.account, func.min(ProtectionEvent.day).label("day"))
        .join(Run, Run.id == ProtectionEvent.run)
        .where(Run.company_id == company.id, ProtectionEvent.kind.in_(sorted(POLICY_KINDS)))
        .group_by(ProtectionEvent.account)
        .subquery()
    )
    overdue = case(
        (LedgerLine.book == "fee", LedgerLine.amount_fen),
        ((LedgerLine.book == "principal") & (Bill.due_on < firsts.c.day), LedgerLine.amount_fen),
        else_=0,
    )
    held = case((LedgerLine.book == "credit", LedgerLine.amount_fen), else_=0)
    rows = session.execute(
        select(Account.billing_mode, func.sum(overdue), func.sum(held))
        .select_from(firsts)
        .join(Account, Account.id == firsts.c.account)
        .join(
            Posting, (Posting.account == firsts.c.account) & (Posting.effective_on <= firsts.c.day)
        )
        .join(LedgerLine, LedgerLine.posting == Posting.id)
        .outerjoin(Bill, Bill.id == LedgerLine.bill)
        .group_by(firsts.c.account, Account.billing_mode)
    ).all()
    total = 0
    for mode, owed, credit in rows:
        total += max(0, int(credit or 0)) if mode == BillingMode.PREPAID.value else int(owed or 0)
    return total


def _waived(session: Session, company: Company) -> int:
    """The late fees relief waived (the `relief_cost` book, corrections included)."""
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerLine.amount_fen), 0))
        .join(Posting, Posting.id == LedgerLine.posting)
        .where(Posting.company_id == company.id, LedgerLine.book == "relief_cost")
    )
    return max(0, int(total or 0))
