"""GET /figures/companies and /figures/companies/{company}: the figures of the companies the
caller may read (`staff.service.readable_companies`: every company of the deployment for the
deployment regulator, their own for a company's regulator or supervisor), compared — 人次
exempt and deferred, 户, protected arrears, waived late fees, reconnections — and one
company's 人次 and 户 by ISO week and by province (`reports.deployment`). Counts and sums
only: never an account, a name or a phone. Any other role is refused (403); a company the
caller does not read is not found (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from sanbuting.regions import is_known, lookup
from sanbuting.reports import deployment, online
from sanbuting.staff.service import readable_companies, readable_company, reads_the_deployment
from sanbuting.web.api.common import REFUSALS, SECURED, Now, audit, errors, refused
from sanbuting.web.api.company_schemas import (
    BusinessFigureOut,
    ChannelFigureOut,
    CompaniesFiguresOut,
    CompanyDetailOut,
    CompanyFiguresOut,
    FigureTotalsOut,
    ProvinceFigureOut,
    WeekFigureOut,
)
from sanbuting.web.deps import DB, AnyStaff

router = APIRouter(tags=["figures"], dependencies=SECURED)

CompanyPath = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", max_length=64, description="公司代码"),
]


def figures_out(row: deployment.CompanyFigures) -> CompanyFiguresOut:
    return CompanyFiguresOut(
        company=row.code,
        name=row.name,
        group=row.group,
        utility=row.utility,
        accounts=row.accounts,
        days_run=row.days_run,
        first_day=row.first_day,
        last_day=row.last_day,
        exempt_events=row.exempt_events,
        defer_events=row.defer_events,
        protected_accounts=row.protected_accounts,
        protected_arrears_fen=row.protected_arrears_fen,
        waived_fen=row.waived_fen,
        reconnections=row.reconnections,
        policy_reconnections=row.policy_reconnections,
    )


@router.get(
    "/figures/companies",
    response_model=CompaniesFiguresOut,
    responses=errors(401, 403),
    summary="The figures of every company I read, compared",
)
def companies_figures(session: DB, staff: AnyStaff, now: Now) -> CompaniesFiguresOut | JSONResponse:
    try:
        companies = readable_companies(session=session, staff=staff)
    except REFUSALS as exc:
        return refused(session, staff, "api.figures.companies", "", now, exc)
    scope = "*" if reads_the_deployment(staff) else companies[0].code
    audit(session, staff, "api.figures.companies", scope, now)
    rows = deployment.company_figures(session, companies)
    return CompaniesFiguresOut(
        companies=[figures_out(row) for row in rows],
        total=FigureTotalsOut(**deployment.totals(rows)),
    )


@router.get(
    "/figures/companies/{company}",
    response_model=CompanyDetailOut,
    responses=errors(401, 403, 404, 422),
    summary="One company's figures, by week and by province",
)
def company_figures(
    company: CompanyPath, session: DB, staff: AnyStaff, now: Now
) -> CompanyDetailOut | JSONResponse:
    try:
        found = readable_company(session=session, staff=staff, code=company)
    except REFUSALS as exc:
        return refused(session, staff, "api.figures.company", company, now, exc)
    audit(session, staff, "api.figures.company", found.code, now)
    (row,) = deployment.company_figures(session, [found])
    weeks = deployment.weekly(session, [found])
    places = deployment.provinces(session, [found])
    return CompanyDetailOut(
        figures=figures_out(row),
        by_week=[
            WeekFigureOut(
                week=week["week"],
                week_start=week["week_start"],
                exempt_events=week["exempt_events"],
                defer_events=week["defer_events"],
                protected_accounts=week["protected_accounts"],
            )
            for week in weeks.iter_rows(named=True)
        ],
        by_province=[
            ProvinceFigureOut(
                province=place["province"],
                name=lookup(place["province"]).name
                if is_known(place["province"])
                else place["province"],
                events=place["events"],
                protected_accounts=place["protected_accounts"],
            )
            for place in places.iter_rows(named=True)
        ],
        payments_by_channel=[
            ChannelFigureOut(**{k: v for k, v in row.items() if k != "company"})
            for row in online.payments_by_channel(session, [found]).iter_rows(named=True)
        ],
        business_online=[
            BusinessFigureOut(**{k: v for k, v in row.items() if k != "company"})
            for row in online.business_online(session, [found]).iter_rows(named=True)
        ],
    )
