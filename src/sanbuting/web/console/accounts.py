"""Console: find an account of the staff member's company by its number or phone, and read
its story (the engine's explain over the store), bills, ledger and outbox orders. The search's
results and an account's locks and promises export as CSV or XLSX (`web.console.exports`).
Phone numbers and holders' names are masked unless the role may see personal data; every
search, view and export is audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from sanbuting.customers.service import holder_name, masked_name
from sanbuting.desk.adjustments import ASKERS, of_account
from sanbuting.desk.holds import LOCKERS, PROMISERS, first_open_day, holds_of
from sanbuting.desk.search import CANDIDATES, Search, search_accounts
from sanbuting.domain import mask_phone, parse_yuan
from sanbuting.errors import NotFound
from sanbuting.explain import Lang
from sanbuting.ledger.service import arrears
from sanbuting.regions import full_name
from sanbuting.staff.service import can_see_personal_data
from sanbuting.store.models import Account, Bill, LedgerLine, OutboxItem, Posting
from sanbuting.store.runs import last_run_day
from sanbuting.store.web_models import Staff
from sanbuting.web import deps
from sanbuting.web.console.common import company_of, page, record
from sanbuting.web.console.exports import FileForm, export
from sanbuting.web.console.story import store_story
from sanbuting.web.console.tables import accounts_table, holds_table
from sanbuting.web.i18n import language, translator
from sanbuting.web.types import AccountId

routes = APIRouter(prefix="/console")

SearchText = Annotated[
    str, Query(max_length=64, description="户号, phone, holder's name or place name")
]
RESULTS = 50
EXPORTED = CANDIDATES
"""The most accounts a search exports (as many as it reads when it asks for arrears)."""
LEDGER_ROWS = 200


def shown_phone(staff: Staff, phone: str | None) -> str:
    if not phone:
        return ""
    return phone if can_see_personal_data(staff) else mask_phone(phone)


Yuan = Annotated[str, Query(max_length=16, pattern=r"^[0-9]*(\.[0-9]{1,2})?$")]
State = Annotated[
    str, Query(max_length=16, pattern=r"^(|active|suspended|disconnected|terminated)$")
]


def _asked(q: str, state: str, min_arrears: str, max_arrears: str) -> Search:
    return Search(
        text=q.strip(),
        state=state or None,
        min_arrears_fen=parse_yuan(min_arrears) if min_arrears else None,
        max_arrears_fen=parse_yuan(max_arrears) if max_arrears else None,
    )


def _found(
    session: deps.DB, staff: Staff, asked: Search, limit: int
) -> tuple[date | None, list[dict[str, Any]]]:
    """The last recorded day and the accounts found, phones as `staff` may see them."""
    company = company_of(session, staff)
    on = last_run_day(session, company)
    found = search_accounts(session, company.id, asked, on, limit)
    return on, [
        {
            "account": f.account,
            "state": f.state,
            "arrears": f.arrears_fen,
            "phone": shown_phone(staff, f.account.phone),
            "region": full_name(f.account.region),
        }
        for f in found
    ]


@routes.get("/accounts", response_class=HTMLResponse)
def search(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    q: SearchText = "",
    state: State = "",
    min_arrears: Yuan = "",
    max_arrears: Yuan = "",
) -> Response:
    """Accounts by number (prefix), phone, holder's name, a place's name, their state after
    the last recorded day and an arrears range (`desk.search`; this company only)."""
    asked = _asked(q, state, min_arrears, max_arrears)
    on, rows = _found(session, staff, asked, RESULTS)
    if asked.asked:
        record(session, staff, "search_accounts", asked.text, results=len(rows), state=state,
               min_arrears=min_arrears, max_arrears=max_arrears)  # fmt: skip
    return page(
        request,
        "console/accounts.html",
        staff,
        q=asked.text,
        asked=asked.asked,
        state=state,
        min_arrears=min_arrears,
        max_arrears=max_arrears,
        on=on,
        rows=rows,
        limit=RESULTS,
    )


@routes.get("/accounts.{form}")
def search_file(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    form: FileForm,
    q: SearchText = "",
    state: State = "",
    min_arrears: Yuan = "",
    max_arrears: Yuan = "",
) -> Response:
    """The search's results as CSV or XLSX, up to `EXPORTED` accounts (the page shows
    `RESULTS`), phones as on screen."""
    asked = _asked(q, state, min_arrears, max_arrears)
    _, rows = _found(session, staff, asked, EXPORTED)
    return export(
        request, session, staff, accounts_table(rows, translator(language(request))),
        form=form, name="accounts", action="export_accounts", target=asked.text,
        state=state, min_arrears=min_arrears, max_arrears=max_arrears,
    )  # fmt: skip


@routes.get("/accounts/{account_id}/holds.{form}")
def holds_file(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    account_id: AccountId,
    form: FileForm,
) -> Response:
    """The account's locks, promises to pay and instalment plans, as on its page."""
    account = _account(session, staff, account_id)
    company = company_of(session, staff)
    held = holds_table(
        holds_of(session, company, account), translator(language(request)), account.account_id
    )
    return export(
        request, session, staff, held,
        form=form, name=f"holds-{account.account_id}", action="export_holds",
        target=account.account_id,
    )  # fmt: skip


def _account(session: deps.DB, staff: Staff, account_id: str) -> Account:
    """The staff member's company's account `account_id` (NotFound otherwise)."""
    account = session.scalar(
        select(Account).where(
            Account.company_id == staff.company_id, Account.account_id == account_id
        )
    )
    if account is None:
        raise NotFound(f"no account {account_id} in your company")
    return account


@routes.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_page(
    request: Request, session: deps.DB, staff: deps.SignedInStaff, account_id: AccountId
) -> Response:
    """One account's story, bills, ledger and orders."""
    account = _account(session, staff, account_id)
    company = company_of(session, staff)
    record(session, staff, "view_account", account.account_id)
    lang: Lang = "en" if language(request) == "en" else "zh"
    story = store_story(session=session, company=company, account=account, lang=lang)
    through = story.through
    name = holder_name(session=session, account=account)
    if name and not can_see_personal_data(staff):
        name = masked_name(name)
    bills = list(
        session.scalars(
            select(Bill).where(Bill.account == account.id).order_by(Bill.due_on, Bill.bill_id)
        )
    )
    ledger = session.execute(
        select(
            Posting.effective_on, Posting.key, Posting.kind, LedgerLine.book, LedgerLine.amount_fen
        )
        .join(LedgerLine, LedgerLine.posting == Posting.id)
        .where(Posting.account == account.id)
        .order_by(Posting.effective_on, Posting.id, LedgerLine.id)
        .limit(LEDGER_ROWS)
    ).all()
    orders = list(
        session.scalars(
            select(OutboxItem)
            .where(OutboxItem.account == account.id)
            .order_by(OutboxItem.created_at, OutboxItem.id)
        )
    )
    return page(
        request,
        "console/account.html",
        staff,
        account=account,
        company=company,
        region=full_name(account.region),
        phone=shown_phone(staff, account.phone),
        holder=name,
        through=through,
        arrears=arrears(session=session, account=account, on=through) if through else 0,
        story=story.lines,
        state=story.state or account.state,
        bills=bills,
        ledger=ledger,
        ledger_limit=LEDGER_ROWS,
        orders=orders,
        holds=holds_of(session, company, account),
        first_day=first_open_day(session, company) if company.origin else None,
        can_lock=staff.role in LOCKERS,
        can_promise=staff.role in PROMISERS and company.origin is not None,
        adjustments=of_account(session, company, account),
        can_adjust=staff.role in ASKERS and company.origin is not None,
    )
