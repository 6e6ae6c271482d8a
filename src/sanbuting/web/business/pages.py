"""The customer's online business pages: the catalogue (grouped by utility and category), a
business's own form with its documents checklist (bound to one of the customer's accounts when
the business needs one), submitting it (the application number and the promised time), the
customer's applications and each one's progress, and cancelling one not yet in progress.

A customer has at most `open_applications_per_customer` open applications and submits at most
`applications_per_customer_day` a day (the settings): past either, the form says so (429). The
customer sees the text of their own form whole (it is theirs) except its phone fields, masked
as everywhere; notes by staff in the history are masked like any text staff write
(`sanbuting.privacy`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from sanbuting.applications import catalogue
from sanbuting.applications import service as applications
from sanbuting.applications.catalogue import Business, InvalidApplication
from sanbuting.customers.service import bound_accounts
from sanbuting.domain import Utility
from sanbuting.errors import NotFound, SanbutingError
from sanbuting.privacy import mask_phone, mask_text
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Customer
from sanbuting.web import deps
from sanbuting.web.business import messages  # noqa: F401  (registers the words)
from sanbuting.web.console.common import business_now, when
from sanbuting.web.i18n import language, translator
from sanbuting.web.pages import render
from sanbuting.web.security import CSRF_FIELD, check_csrf
from sanbuting.web.types import ApplicationNumber, Page

routes = APIRouter()

BusinessCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,40}$", description="业务代码")]
CUSTOMER_CANCELS = ("submitted", "accepted")
PAGE_SIZE = 20


async def posted_form(request: Request) -> FormData:
    """The posted form (read here so that the handlers can stay synchronous)."""
    return await request.form(max_files=0, max_fields=100)


PostedForm = Annotated[FormData, Depends(posted_form)]


def _lang(request: Request) -> Literal["zh", "en"]:
    return "en" if language(request) == "en" else "zh"


def _page(
    request: Request,
    template: str,
    status_code: int = 200,
    signed_in: bool = True,
    **context: Any,
) -> Response:
    return render(
        request,
        template,
        status_code=status_code,
        signed_in=signed_in,
        demo=request.app.state.settings.demo,
        when=when,
        promise=lambda b: catalogue.describe_promise(b.promise, _lang(request)),
        **context,
    )


@routes.get("/business", response_class=HTMLResponse)
def catalogue_page(request: Request, who: deps.MaybeCaller) -> Response:
    """Every business, by utility, then services before repairs and complaints."""
    groups = [
        (
            utility.value,
            [
                (category, [b for b in catalogue.for_utility(utility) if b.category == category])
                for category in ("business", "ticket")
            ],
        )
        for utility in (Utility.POWER, Utility.GAS, Utility.TELECOM)
    ]
    signed_in = who is not None and who.customer is not None
    return _page(request, "business/catalogue.html", signed_in=signed_in, groups=groups)


def _choices(
    session: deps.DB, customer: Customer, spec: Business
) -> tuple[list[Account], list[Company]]:
    """The customer's accounts this business may be for, and the companies that offer it."""
    utilities = {u.value for u in spec.utilities}
    accounts = [
        a for a in bound_accounts(session=session, customer=customer) if a.utility in utilities
    ]
    companies = list(
        session.scalars(
            select(Company).where(Company.utility.in_(utilities)).order_by(Company.code)
        )
    )
    return accounts, companies


def _form(
    request: Request,
    session: deps.DB,
    customer: Customer,
    spec: Business,
    status_code: int = 200,
    **context: Any,
) -> Response:
    accounts, companies = _choices(session, customer, spec)
    context.setdefault("values", {})
    context.setdefault("declared", set())
    context.setdefault("problems", {})
    context.setdefault("error", None)
    context.setdefault("limit", None)
    context.setdefault("chosen_account", "")
    context.setdefault("chosen_company", "")
    return _page(
        request,
        "business/form.html",
        status_code=status_code,
        business=spec,
        accounts=accounts,
        companies=companies,
        lang_code=_lang(request),
        **context,
    )


@routes.get("/business/{code}", response_class=HTMLResponse)
def form_page(
    request: Request, session: deps.DB, customer: deps.SignedInCustomer, code: BusinessCode
) -> Response:
    spec = _business(code)
    return _form(request, session, customer, spec)


def _business(code: str) -> Business:
    try:
        return catalogue.business(code)
    except catalogue.UnknownBusiness as exc:
        raise NotFound(str(exc)) from None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@routes.post("/business/{code}", response_class=HTMLResponse)
def submit(
    request: Request,
    session: deps.DB,
    customer: deps.SignedInCustomer,
    code: BusinessCode,
    form: PostedForm,
) -> Response:
    """Check and submit the form: the new application's page, or the form with its problems."""
    check_csrf(request, _text(form, CSRF_FIELD))
    spec = _business(code)
    accounts, companies = _choices(session, customer, spec)
    values = {f.name: _text(form, f.name) for f in spec.fields}
    declared = [d for d in form.getlist("documents") if isinstance(d, str)][:50]
    keep = {
        "values": values,
        "declared": set(declared),
        "chosen_account": _text(form, "account"),
        "chosen_company": _text(form, "company"),
    }
    chosen = _text(form, "account")
    account = next((a for a in accounts if str(a.id) == chosen), None)
    if chosen and account is None:
        raise NotFound("that account is not among your bound accounts")
    if account is not None:
        company = next((c for c in companies if c.id == account.company_id), None)
    else:
        wanted = _text(form, "company")
        company = next((c for c in companies if c.code == wanted), None)
        if company is None and len(companies) == 1:
            company = companies[0]
    settings = request.app.state.settings
    try:
        if company is None:
            raise SanbutingError("choose the utility to apply to")
        application = applications.submit(
            session=session,
            business=spec.code,
            company=company,
            account=account,
            customer=customer,
            fields=values,
            documents=declared,
            now=business_now(request),
            max_open=settings.open_applications_per_customer,
            max_per_day=settings.applications_per_customer_day,
        )
    except applications.TooManyOpen as exc:
        limit = translator(language(request))("business.limit.open", limit=exc.limit)
        return _form(request, session, customer, spec, 429, limit=limit, **keep)
    except applications.TooManyToday as exc:
        limit = translator(language(request))("business.limit.day", limit=exc.limit)
        return _form(request, session, customer, spec, 429, limit=limit, **keep)
    except InvalidApplication as exc:
        lang = _lang(request)
        problems: dict[str, list[str]] = {}
        for problem in exc.problems:
            problems.setdefault(problem.name, []).append(problem.text(lang))
        return _form(request, session, customer, spec, 422, problems=problems, **keep)
    except SanbutingError as exc:
        return _form(request, session, customer, spec, 422, error=str(exc), **keep)
    return RedirectResponse(f"/applications/{application.number}?submitted=1", status_code=303)


@routes.get("/applications", response_class=HTMLResponse)
def mine(
    request: Request,
    session: deps.DB,
    customer: deps.SignedInCustomer,
    page_number: Annotated[Page, Query(alias="page")] = 1,
) -> Response:
    rows = applications.for_customer(
        session=session, customer=customer, page=page_number, size=PAGE_SIZE
    )
    names = {b.code: b for b in catalogue.catalogue()}
    return _page(
        request,
        "business/mine.html",
        rows=rows,
        names=names,
        page_number=page_number,
        more=len(rows) == PAGE_SIZE,
    )


@routes.get("/applications/{number}", response_class=HTMLResponse)
def detail(
    request: Request,
    session: deps.DB,
    customer: deps.SignedInCustomer,
    number: ApplicationNumber,
    submitted: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    found = applications.get_for_customer(session=session, customer=customer, number=number)
    spec = catalogue.business(found.business)
    values = applications.fields_of(found)
    shown = []
    for spec_field in spec.fields:
        if spec_field.name in values:
            value = values[spec_field.name]
            if spec_field.kind == "phone":
                value = mask_phone(value)
            elif spec_field.kind == "choice":
                choice = next((c for c in spec_field.choices if c.value == value), None)
                if choice is not None:
                    value = choice.zh if _lang(request) == "zh" else choice.en
            shown.append((spec_field, value))
    account = session.get(Account, found.account) if found.account is not None else None
    return _page(
        request,
        "business/detail.html",
        application=found,
        business=spec,
        account=account,
        fields=shown,
        history=[
            (event, mask_text(event.note))
            for event in applications.history(session=session, application=found)
        ],
        can_cancel=found.status in CUSTOMER_CANCELS,
        submitted=bool(submitted),
    )


@routes.post("/applications/{number}/cancel")
def cancel(
    request: Request,
    session: deps.DB,
    customer: deps.SignedInCustomer,
    number: ApplicationNumber,
    form: PostedForm,
) -> Response:
    """The customer withdraws an application not yet in progress."""
    check_csrf(request, _text(form, CSRF_FIELD))
    found = applications.get_for_customer(session=session, customer=customer, number=number)
    if found.status not in CUSTOMER_CANCELS:
        raise applications.IllegalMove(
            f"application {found.number} is {found.status}: call us to stop it"
        )
    applications.transition(
        session=session,
        application=found,
        status="cancelled",
        note="",
        by="customer",
        now=business_now(request),
    )
    return RedirectResponse(f"/applications/{found.number}", status_code=303)
