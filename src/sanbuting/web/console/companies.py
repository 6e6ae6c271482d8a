"""Console: the companies' relief figures, read-only (`reports.deployment`). The deployment
regulator reads every company of the deployment — its dashboard is the comparison — and a
company's regulator or supervisor their own company's; any other role is refused, another
company is not found. Each company's page adds its charts and its 人次 and 户 by week and by
province. Counts and sums only: no account, name or phone, no queue, no action."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sanbuting.applications.catalogue import UnknownBusiness
from sanbuting.applications.catalogue import business as catalogue_business
from sanbuting.reports import deployment, online
from sanbuting.reports.labels import UTILITIES, UTILITY_ORDER, Lang, channel_name, format_money
from sanbuting.reports.svg import Lang as ChartLang
from sanbuting.staff.service import readable_companies, readable_company, reads_the_deployment
from sanbuting.store.models import Company
from sanbuting.store.web_models import Staff
from sanbuting.web import deps
from sanbuting.web.console import company_messages  # noqa: F401  (registers the words)
from sanbuting.web.console.common import page, record
from sanbuting.web.console.dashboard import company_charts, deployment_charts, province_names
from sanbuting.web.i18n import language, translator

routes = APIRouter(prefix="/console")

CompanyCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", max_length=64)]
COUNTED = (
    "accounts",
    "exempt_events",
    "defer_events",
    "protected_accounts",
    "reconnections",
    "policy_reconnections",
)
MONEY = ("protected_arrears_fen", "waived_fen")


def _lang(request: Request) -> Lang:
    return "en" if language(request) == "en" else "zh"


def in_order(companies: list[Company]) -> list[Company]:
    """Power, telecom, gas (then any other utility), each by group and name."""

    def key(company: Company) -> tuple[int, str, str, str]:
        place = (
            UTILITY_ORDER.index(company.utility)
            if company.utility in UTILITY_ORDER
            else len(UTILITY_ORDER)
        )
        return place, company.group or "", company.name, company.code

    return sorted(companies, key=key)


def shown_names(companies: list[Company], lang: Lang) -> dict[str, str]:
    """Code → the name a reader sees: the company's name, with its utility (and then its
    group) when two companies share a name — never its code."""
    names = {c.code: c.name for c in companies}
    extras: tuple[Callable[[Company], str], ...] = (
        lambda c: UTILITIES[lang].get(c.utility, c.utility),
        lambda c: c.group or "",
    )
    for extra in extras:
        taken = [names[c.code] for c in companies]
        for company in companies:
            if taken.count(names[company.code]) > 1 and extra(company):
                names[company.code] = f"{names[company.code]}（{extra(company)}）"
    return names


def _row(values: Mapping[str, object], lang: Lang) -> dict[str, dict[str, object]]:
    """Figures as a row: each count and sum of money as its value and as text."""
    row: dict[str, dict[str, object]] = {}
    for name in (*COUNTED, *MONEY):
        number = int(str(values.get(name) or 0))
        text = format_money(number, lang) if name in MONEY else f"{number:,}"
        row[name] = {"value": number, "text": text}
    return row


def comparison(request: Request, session: Session, staff: Staff) -> HTMLResponse:
    """The companies `staff` reads, compared (the deployment regulator's dashboard)."""
    companies = in_order(readable_companies(session=session, staff=staff))
    everyone = reads_the_deployment(staff)
    record(session, staff, "companies.read", "*" if everyone else companies[0].code)
    lang = _lang(request)
    t = translator(lang)
    names = shown_names(companies, lang)
    figures = deployment.company_figures(session, companies)
    rows = []
    for company, found in zip(companies, figures, strict=True):
        rows.append(
            {
                "code": company.code,
                "name": names[company.code],
                "group": company.group or t("console.companies.ungrouped"),
                "utility": UTILITIES[lang].get(company.utility, company.utility),
                "days": _days(found, t),
                **_row(asdict(found), lang),
            }
        )
    chart_lang: ChartLang = lang
    return page(
        request,
        "console/companies.html",
        staff,
        everyone=everyone,
        rows=rows,
        same_days=len({row["days"] for row in rows}) == 1,
        total=_row(deployment.totals(figures), lang),
        charts=deployment_charts(
            session=session, companies=companies, names=names, lang=chart_lang
        ),
    )


def business_name(code: str, lang: Lang) -> str:
    """A business type's name from the catalogue (its code only if the catalogue lost it)."""
    try:
        found = catalogue_business(code)
    except UnknownBusiness:
        return code
    return found.en if lang == "en" else found.zh


def _days(found: deployment.CompanyFigures, t: Any) -> str:
    if found.first_day is None or found.last_day is None:
        text: str = t("console.companies.norun")
        return text
    days: str = t(
        "console.companies.days.range",
        first=found.first_day.isoformat(),
        last=found.last_day.isoformat(),
        count=found.days_run,
    )
    return days


@routes.get("/companies", response_class=HTMLResponse)
def companies_page(request: Request, session: deps.DB, staff: deps.AnyStaff) -> Response:
    return comparison(request, session, staff)


@routes.get("/companies/{code}", response_class=HTMLResponse)
def company_page(
    request: Request, code: CompanyCode, session: deps.DB, staff: deps.AnyStaff
) -> Response:
    """One company's figures, charts, and 人次 and 户 by week and by province."""
    company = readable_company(session=session, staff=staff, code=code)
    record(session, staff, "companies.read", company.code)
    lang = _lang(request)
    t = translator(lang)
    (found,) = deployment.company_figures(session, [company])
    weeks = [
        {
            "start": week["week_start"].isoformat(),
            "end": (week["week_start"] + timedelta(days=6)).isoformat(),
            **{
                name: {"value": week[name], "text": f"{week[name]:,}"}
                for name in ("exempt_events", "defer_events", "protected_accounts")
            },
        }
        for week in deployment.weekly(session, [company]).iter_rows(named=True)
    ]
    places = deployment.provinces(session, [company]).sort(
        ["protected_accounts", "province"], descending=[True, False]
    )
    named = province_names(places["province"].to_list())
    provinces = [
        {
            "name": named[place["province"]],
            "code": place["province"],
            **{
                name: {"value": place[name], "text": f"{place[name]:,}"}
                for name in ("protected_accounts", "events")
            },
        }
        for place in places.iter_rows(named=True)
    ]
    chart_lang: ChartLang = lang
    channels = [
        {**row, "name": channel_name(row["channel"], lang)}
        for row in online.payments_by_channel(session, [company]).iter_rows(named=True)
    ]
    business = [
        {**row, "name": business_name(row["business"], lang)}
        for row in online.business_online(session, [company]).iter_rows(named=True)
    ]
    return page(
        request,
        "console/company.html",
        staff,
        company=company,
        name=company.name,
        group=company.group or t("console.companies.ungrouped"),
        utility=UTILITIES[lang].get(company.utility, company.utility),
        days=_days(found, t),
        figures=_row(asdict(found), lang),
        weeks=weeks,
        provinces=provinces,
        channels=channels,
        business=business,
        everyone=reads_the_deployment(staff),
        charts=company_charts(session=session, company=company, lang=chart_lang),
    )
