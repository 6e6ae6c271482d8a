"""Online business: the catalogue, submitting (fields checked against the catalogue, numbers,
promises, priority), the lifecycle, and the customer's pages (`/business`, `/applications`), on
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sanbuting.applications import catalogue
from sanbuting.applications import service as applications
from sanbuting.applications.catalogue import InvalidApplication
from sanbuting.domain import SHANGHAI
from sanbuting.errors import NotFound
from sanbuting.guard.hashing import new_token, token_hash
from sanbuting.jobs.activation import activate_text
from sanbuting.jobs.importing import import_and_book
from sanbuting.settings import Settings
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Binding, Customer, WebSession
from sanbuting.web.app import create_app
from sanbuting.web.security import CSRF_COOKIE, SESSION_COOKIE
from store_databases import BACKENDS, database, write_folder

MONDAY = datetime(2020, 2, 3, 10, 0, tzinfo=SHANGHAI)
ACCOUNTS = """
    account_id,utility,customer_class,region,phone
    H1,power,residential,420102,13800000001
    G1,power,residential,440104,13800000002
    S1,gas,residential,420102,13800000003
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    BH1,H1,2019-12,2019-12-05,2019-12-20,10000
"""
ISSUE_BUSINESSES = {
    "power-new-connection",
    "power-capacity-increase",
    "power-capacity-decrease",
    "power-suspension",
    "name-change",
    "split-merge",
    "account-closure",
    "power-tariff-change",
    "relocation",
    "power-meter-test",
    "reading-dispute",
    "e-invoice",
    "power-fault-repair",
    "appliance-damage",
    "power-reconnection",
    "complaint",
    "ev-charger",
    "pv-connection",
    "gas-opening",
    "gas-safety-inspection",
    "ic-card-replacement",
    "telecom-plan-change",
}


def test_the_catalogue_has_every_business_of_the_issue_each_with_fields_and_a_promise() -> None:
    listed = catalogue.catalogue()
    assert len(listed) >= 22
    assert {b.code for b in listed} >= ISSUE_BUSINESSES
    for business in listed:
        assert business.zh and business.en and business.utilities
        assert business.category in ("business", "ticket")
        assert business.fields, business.code
        promise = business.promise
        assert [promise.hours, promise.working_days, promise.minutes].count(None) == 2
        assert business.promise.source
        for field in business.fields:
            assert field.zh and field.en and field.kind in catalogue.KINDS
    tickets = {b.code for b in listed if b.category == "ticket"}
    assert {"power-fault-repair", "complaint", "gas-fault-repair"} <= tickets
    assert {u.value for b in listed for u in b.utilities} == {"power", "gas", "telecom"}


def test_promises_count_hours_around_the_clock_and_working_days_to_the_end_of_the_day() -> None:
    repair = catalogue.business("power-fault-repair").promise  # 45/90/120 minutes by area
    claim = catalogue.business("appliance-damage").promise  # 24 hours
    connect = catalogue.business("power-new-connection").promise  # 5 working days
    friday = datetime(2020, 2, 7, 18, 0, tzinfo=SHANGHAI)
    assert catalogue.promised_by(repair, friday) == datetime(2020, 2, 7, 18, 45, tzinfo=SHANGHAI)
    assert catalogue.promised_by(repair, friday, "rural") == friday + timedelta(minutes=120)
    assert catalogue.promised_by(claim, friday) == datetime(2020, 2, 8, 18, 0, tzinfo=SHANGHAI)
    # Monday 02-03 + 5 working days = Monday 02-10, done by its end.
    end_of = datetime(2020, 2, 10, 23, 59, 59, tzinfo=SHANGHAI)
    assert catalogue.promised_by(connect, MONDAY) == end_of
    # Friday 02-07 + 5 working days = Friday 02-14 (the weekend does not count).
    end_of = datetime(2020, 2, 14, 23, 59, 59, tzinfo=SHANGHAI)
    assert catalogue.promised_by(connect, friday) == end_of


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        outcome = import_and_book(
            data=write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS),
            start=date(2020, 1, 1),
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=tmp_path / "rejects.csv",
            url=value,
        )
        assert not outcome.refused
        yield value


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    made = make_engine(url)
    yield made
    made.dispose()


def customer_with(session: Session, phone: str, *account_ids: str) -> Customer:
    """A customer with these accounts bound (Binding rows written directly)."""
    customer = Customer(phone=phone, created_at=MONDAY)
    session.add(customer)
    session.flush()
    for account_id in account_ids:
        account = session.scalar(select(Account).where(Account.account_id == account_id))
        assert account is not None
        session.add(Binding(customer_id=customer.id, account=account.id, created_at=MONDAY))
    session.flush()
    return customer


def account(session: Session, account_id: str) -> tuple[Company, Account]:
    found = session.scalar(select(Account).where(Account.account_id == account_id))
    assert found is not None
    company = session.get(Company, found.company_id)
    assert company is not None
    return company, found


GOOD_CONNECTION = {
    "address": "武汉市江岸区某路 1 号",
    "customer_class": "residential",
    "capacity_kva": "8",
    "contact_name": "张三",
    "contact_phone": "13800000009",
}


def test_submit_checks_every_field_and_document(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        company, _ = account(session, "H1")
        customer = customer_with(session, "13900000001", "H1")
        with pytest.raises(InvalidApplication) as refused:
            applications.submit(
                session=session,
                business="power-new-connection",
                company=company,
                account=None,
                customer=customer,
                fields={
                    "customer_class": "factory",
                    "capacity_kva": "8.125",
                    "contact_name": "张三",
                    "contact_phone": "12345",
                    "preferred_date": "2020-02-03",
                    "colour": "red",
                },
                documents=["id_card", "passport"],
                now=MONDAY,
            )
        problems = {(p.name, p.key, tuple(p.values.values())) for p in refused.value.problems}
        assert problems == {
            ("colour", "unknown", ()),
            ("address", "required", ()),
            ("customer_class", "choice", ()),
            ("capacity_kva", "number", ()),
            ("contact_phone", "phone", ()),
            ("preferred_date", "too_early", ("2020-02-04",)),
            ("passport", "document_unknown", ()),
            ("property_certificate", "document_missing", ()),
        }
        message = str(refused.value)
        assert message.startswith("power-new-connection: ")
        assert "Capacity asked (kVA) (capacity_kva) must be a number (at most two decimals)" in (
            message
        )
        with pytest.raises(Exception, match="needs one of your accounts"):
            applications.submit(
                session=session,
                business="power-meter-test",
                company=company,
                account=None,
                customer=customer,
                fields={},
                documents=[],
                now=MONDAY,
            )
        gas, s1 = account(session, "S1")
        with pytest.raises(Exception, match="not offered for gas"):
            applications.submit(
                session=session,
                business="power-meter-test",
                company=gas,
                account=s1,
                customer=customer,
                fields={},
                documents=[],
                now=MONDAY,
            )


def submit(
    session: Session, business: str, account_id: str, fields: dict[str, str], now: datetime
) -> str:
    company, found = account(session, account_id)
    docs = [d.code for d in catalogue.business(business).documents if d.required]
    made = applications.submit(
        session=session,
        business=business,
        company=company,
        account=found,
        customer=None,
        fields=fields,
        documents=docs,
        now=now,
    )
    return made.number


METER_TEST = {"description": "走字太快", "contact_phone": "13800000009"}
REPAIR = {"fault": "no_power", "address": "某路 1 号", "contact_phone": "13800000009"}


HUBEI_RELIEF = """\
policies:
  - id: hubei-power-2020
    title: 湖北 欠费不停电
    effect: exempt
    scope: {utility: [power], region: ["42"]}
    window: {start: 2020-01-24, end: 2020-04-01}
"""


def test_numbers_promises_and_the_queue_serve_hubei_first(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        activate_text(
            session=session,
            text=HUBEI_RELIEF,
            file_name="hubei.yaml",
            company=None,
            by="test",
            at=MONDAY,
        )
    with sessions(engine).begin() as session:
        ordinary = submit(session, "power-meter-test", "G1", METER_TEST, MONDAY)
        hubei = submit(session, "power-meter-test", "H1", METER_TEST, MONDAY)
        ticket = submit(session, "power-fault-repair", "G1", REPAIR, MONDAY)
        hubei_ticket = submit(session, "power-fault-repair", "H1", REPAIR, MONDAY)
        tomorrow = submit(session, "power-meter-test", "G1", METER_TEST, MONDAY + timedelta(1))
    assert [ordinary, hubei, ticket, hubei_ticket] == [f"SQ20200203{n:06d}" for n in (1, 2, 3, 4)]
    assert tomorrow == "SQ20200204000001"
    with sessions(engine).begin() as session:
        company, _ = account(session, "H1")
        queue = applications.for_company(
            session=session, company_id=company.id, status="open", page=1, size=10
        )
        assert [(a.number, a.priority) for a in queue] == [
            (hubei_ticket, 2),  # a ticket in a region a relief policy names
            (ticket, 3),  # a ticket, promised in 45 minutes
            (hubei, 5),  # a Hubei account, promised in 5 working days
            (ordinary, 6),
            (tomorrow, 6),  # promised a day later
        ]
        first = applications.get_for_company(
            session=session, company_id=company.id, number=ordinary
        )
        assert applications.fields_of(first) == METER_TEST
        assert applications.documents_of(first) == ["id_card"]
        gas, _ = account(session, "S1")
        with pytest.raises(NotFound):
            applications.get_for_company(session=session, company_id=gas.id, number=ordinary)


def test_the_lifecycle_and_illegal_moves(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        number = submit(session, "power-meter-test", "H1", METER_TEST, MONDAY)
        company, _ = account(session, "H1")
        found = applications.get_for_company(session=session, company_id=company.id, number=number)
        later = MONDAY + timedelta(hours=1)
        with pytest.raises(applications.IllegalMove) as illegal:
            applications.transition(
                session=session, application=found, status="completed", note="", by="x", now=later
            )
        assert str(illegal.value) == (
            f"application {number} is submitted: it can move to accepted or rejected or "
            "cancelled, not completed"
        )
        for status in ("accepted", "in_progress", "completed"):
            applications.transition(
                session=session,
                application=found,
                status=status,
                note=f"note {status}",
                by="staff:agent",
                now=later,
            )
        with pytest.raises(applications.IllegalMove, match="is completed: it is closed"):
            applications.transition(
                session=session, application=found, status="cancelled", note="", by="x", now=later
            )
        with pytest.raises(Exception, match="'done' is not a status"):
            applications.transition(
                session=session, application=found, status="done", note="", by="x", now=later
            )
        events = applications.history(session=session, application=found)
        assert [(e.status, e.note, e.by) for e in events] == [
            ("submitted", "", "channel"),
            ("accepted", "note accepted", "staff:agent"),
            ("in_progress", "note in_progress", "staff:agent"),
            ("completed", "note completed", "staff:agent"),
        ]
        counts = applications.counts_by_status(session=session, company_id=company.id)
        assert counts["completed"] == 1 and counts["submitted"] == 0


# ---- the customer's pages -------------------------------------------------------------------


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=url, secret_key="k" * 32))
    if not any(getattr(r, "path", "") == "/business" for r in app.routes):
        from sanbuting.web.business import router

        app.include_router(router)
    with TestClient(app) as made:
        made.get("/business")  # the CSRF cookie
        yield made
    app.state.engine.dispose()


def sign_in(client: TestClient, engine: Engine, phone: str, *account_ids: str) -> None:
    """A customer session made directly (the portal's sign-in is tested elsewhere)."""
    token, form_token = new_token(), new_token()
    with sessions(engine).begin() as session:
        customer = customer_with(session, phone, *account_ids)
        moment = datetime.now(tz=UTC)
        session.add(
            WebSession(
                token_hash=token_hash(token),
                kind="customer",
                customer_id=customer.id,
                staff_id=None,
                csrf_token=form_token,
                created_at=moment,
                last_seen_at=moment,
            )
        )
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.delete(CSRF_COOKIE)  # replaced by the session's token, as a sign-in does
    client.cookies.set(CSRF_COOKIE, form_token)


def csrf(client: TestClient) -> str:
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    return token


def test_the_catalogue_page_lists_every_business_by_utility(client: TestClient) -> None:
    page = client.get("/business")
    assert page.status_code == 200
    codes = set(re.findall(r'data-code="([a-z0-9-]+)"', page.text))
    assert codes == {b.code for b in catalogue.catalogue()}
    assert 'id="business-power-power-fault-repair"' in page.text
    assert client.get("/business/power-meter-test", follow_redirects=False).status_code == 303


def test_a_customer_applies_follows_and_cancels(client: TestClient, engine: Engine) -> None:
    sign_in(client, engine, "13900000002", "H1", "S1")
    form = client.get("/business/power-meter-test")
    assert form.status_code == 200
    assert 'data-account="H1"' in form.text and 'data-account="S1"' not in form.text
    with sessions(engine).begin() as session:
        _, h1 = account(session, "H1")
    bad = client.post(
        "/business/power-meter-test",
        data={"csrf_token": csrf(client), "account": str(h1.id), "contact_phone": "1"},
    )
    assert bad.status_code == 422
    assert 'id="error-description"' in bad.text and 'id="error-contact_phone"' in bad.text
    assert 'id="error-doc-id_card"' in bad.text
    good = client.post(
        "/business/power-meter-test",
        data={
            "csrf_token": csrf(client),
            "account": str(h1.id),
            "description": "走字太快",
            "contact_phone": "13800000009",
            "documents": ["id_card"],
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    number = good.headers["location"].split("/")[-1].split("?")[0]
    assert re.fullmatch(r"SQ[0-9]{8}000001", number)
    shown = client.get(good.headers["location"])
    assert 'id="submitted"' in shown.text and number in shown.text
    assert "138****0009" in shown.text and "13800000009" not in shown.text
    # a complaint needs no account: the company is chosen on the form
    complaint = client.post(
        "/business/complaint",
        data={
            "csrf_token": csrf(client),
            "company": "gas",
            "subject": "billing",
            "description": "账单有误",
            "contact_phone": "13800000009",
        },
        follow_redirects=False,
    )
    assert complaint.status_code == 303, complaint.text
    mine = client.get("/applications")
    assert mine.text.count('data-test="my-application"') == 2
    no_csrf = client.post(f"/applications/{number}/cancel", data={})
    assert no_csrf.status_code == 403
    cancelled = client.post(f"/applications/{number}/cancel", data={"csrf_token": csrf(client)})
    assert cancelled.status_code == 200
    assert 'data-status="cancelled"' in cancelled.text
    # another customer sees neither the application nor the account
    sign_in(client, engine, "13900000003", "G1")
    assert client.get(f"/applications/{number}").status_code == 404
    assert (
        client.post(
            "/business/power-meter-test",
            data={"csrf_token": csrf(client), "account": str(h1.id), "description": "x"},
        ).status_code
        == 404
    )
    assert 'id="no-applications"' in client.get("/applications").text
