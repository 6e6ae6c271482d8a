"""Public-service broadcasts (公益短信, `sms.broadcasts`), on SQLite and PostgreSQL: the preview
counts the accounts a scope covers and their distinct mobile numbers (a shared number once, a
fixed line none), another supervisor approves (never the drafter, never a policy admin; the
database refuses it too), the approval queues one free `public_service` message per number
and counts it on the broadcast, an emergency reaches numbers opted out, and staff of another
company see none of it. Then the console's page and the staff API, audited.

Accounts (power unless said; phones as on record):
  H1 residential 420102 13800000001        H2 residential 420103 13800000001 (H1's number)
  H3 non-residential 420102 13800000003    H4 residential 420102 027-12345678 (a fixed line)
  H5 residential 440104 13800000005        H6 residential 420106 +86 138 0000 0006, tag medical
  S1 gas residential 420102 13800000007
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sanbuting.domain import SHANGHAI
from sanbuting.errors import Conflict, Forbidden, NotFound
from sanbuting.sms import broadcasts, rules
from sanbuting.sms.queue import SmsMessage
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company
from sanbuting.store.sms_controls import SmsBroadcast
from sanbuting.store.web_models import Staff
from store_databases import BACKENDS, database, import_into, write_folder
from test_api_world import World, clients, worlds
from test_console_access import (  # noqa: F401  (fixtures: the console's store)
    audit_rows,
    client,
    csrf,
    sign_in,
    url,
)

ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    H1,power,residential,420102,postpaid,,active,0,0,13800000001
    H2,power,residential,420103,postpaid,,active,0,0,13800000001
    H3,power,non_residential,420102,postpaid,,active,0,0,13800000003
    H4,power,residential,420102,postpaid,,active,0,0,027-12345678
    H5,power,residential,440104,postpaid,,active,0,0,13800000005
    H6,power,residential,420106,postpaid,medical,active,0,0,+86 138 0000 0006
    S1,gas,residential,420102,postpaid,,active,0,0,13800000007
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
"""
STAFF = (
    ("boss", "power", "supervisor"),
    ("deputy", "power", "supervisor"),
    ("admin", "power", "policy_admin"),
    ("clerk", "power", "agent"),
    ("gasboss", "gas", "supervisor"),
)
MORNING = datetime(2020, 2, 3, 10, 0, tzinfo=SHANGHAI)
TEXT = "寒潮来袭，请注意用电安全，勿使用大功率取暖器。"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for location in database(request.param, tmp_path):
        upgrade(location)
        import_into(
            location,
            write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS),
            tmp_path,
        )
        made = make_engine(location)
        with sessions(made).begin() as session:
            companies = {c.code: c.id for c in session.scalars(select(Company))}
            for username, code, role in STAFF:
                session.add(
                    Staff(
                        company_id=companies[code], username=username, name=username, role=role,
                        password_hash="-", active=True,
                    )
                )  # fmt: skip
        yield made
        made.dispose()


def company(session: Session, code: str) -> Company:
    found = session.scalar(select(Company).where(Company.code == code))
    assert found is not None
    return found


def staff(session: Session, username: str) -> Staff:
    found = session.scalar(select(Staff).where(Staff.username == username))
    assert found is not None
    return found


def residents_of_wuhan() -> broadcasts.Scope:
    return broadcasts.make_scope(regions=["4201"], classes=["residential"])


def test_the_preview_counts_distinct_mobile_numbers(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        power = company(session, "power")
        seen = broadcasts.preview(session=session, company=power, scope=residents_of_wuhan())
        assert (seen.accounts, seen.numbers, seen.opted_out) == (4, 2, 0)  # H1, H2, H4, H6
        assert seen.sample == ("138****0001", "138****0006")
        everyone = broadcasts.preview(session=session, company=power, scope=broadcasts.Scope())
        assert (everyone.accounts, everyone.numbers) == (6, 4)  # S1 is gas's
        tagged = broadcasts.make_scope(tags=["medical"])
        assert broadcasts.preview(session=session, company=power, scope=tagged).numbers == 1
        gas_only = broadcasts.make_scope(utilities=["gas"])
        assert broadcasts.preview(session=session, company=power, scope=gas_only).numbers == 0
        for wrong in ({"regions": ["99"]}, {"regions": ["4"]}, {"tags": ["a b"]}):
            with pytest.raises(broadcasts.InvalidBroadcast):
                broadcasts.make_scope(**wrong)  # type: ignore[arg-type]


def test_four_eyes_then_one_free_message_per_number(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        power = company(session, "power")
        with pytest.raises(Forbidden):
            broadcasts.draft(
                session=session, company=power, text=TEXT, scope=residents_of_wuhan(),
                emergency=False, by=staff(session, "clerk"), now=MORNING,
            )  # fmt: skip
        made = broadcasts.draft(
            session=session, company=power, text=TEXT, scope=residents_of_wuhan(),
            emergency=False, by=staff(session, "admin"), now=MORNING,
        )  # fmt: skip
        number = made.number
        assert (made.status, made.numbers, made.queued) == ("pending", 2, 0)
        assert session.scalars(select(SmsMessage)).all() == []  # nothing before the approval
        for who in ("admin", "clerk"):
            with pytest.raises(Forbidden):
                broadcasts.decide(
                    session=session, company=power, number=number, approve=True,
                    by=staff(session, who), now=MORNING,
                )  # fmt: skip
        own = broadcasts.draft(
            session=session, company=power, text=TEXT, scope=residents_of_wuhan(),
            emergency=False, by=staff(session, "boss"), now=MORNING,
        )  # fmt: skip
        with pytest.raises(Forbidden, match="four eyes"):
            broadcasts.decide(
                session=session, company=power, number=own.number, approve=True,
                by=staff(session, "boss"), now=MORNING,
            )  # fmt: skip
        with pytest.raises(NotFound):
            broadcasts.decide(
                session=session, company=company(session, "gas"), number=number, approve=True,
                by=staff(session, "gasboss"), now=MORNING,
            )  # fmt: skip
        done = broadcasts.decide(
            session=session, company=power, number=number, approve=True,
            by=staff(session, "boss"), now=MORNING, note="同意",
        )  # fmt: skip
        assert (done.status, done.numbers, done.queued, done.refused) == ("approved", 2, 2, 0)
        with pytest.raises(Conflict):
            broadcasts.decide(
                session=session, company=power, number=number, approve=False,
                by=staff(session, "deputy"), now=MORNING,
            )  # fmt: skip
        rejected = broadcasts.decide(
            session=session, company=power, number=own.number, approve=False,
            by=staff(session, "deputy"), now=MORNING,
        )  # fmt: skip
        assert (rejected.status, rejected.queued) == ("rejected", 0)
        sent = session.scalars(select(SmsMessage).order_by(SmsMessage.phone)).all()
        assert [(m.phone, m.category, m.key) for m in sent] == [
            ("13800000001", "public_service", f"power:broadcast:{number}:13800000001"),
            ("13800000006", "public_service", f"power:broadcast:{number}:13800000006"),
        ]
        assert {m.text for m in sent} == {f"【供电企业】{TEXT}（公益短信，客服95598）"}


def test_the_database_refuses_an_approval_by_the_drafter(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        made = broadcasts.draft(
            session=session, company=company(session, "power"), text=TEXT,
            scope=residents_of_wuhan(), emergency=False, by=staff(session, "admin"), now=MORNING,
        )  # fmt: skip
        drafter, number = made.drafted_by, made.number
    with pytest.raises(IntegrityError), sessions(engine).begin() as session:
        session.execute(
            update(SmsBroadcast)
            .where(SmsBroadcast.number == number)
            .values(status="approved", decided_by=drafter)
        )


def test_opted_out_numbers_get_only_an_emergency(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        power = company(session, "power")
        rules.set_opt_out(
            session, company_ids=[power.id], phone="13800000001", out=True, source="portal",
            now=MORNING,
        )  # fmt: skip
        assert (
            broadcasts.preview(session=session, company=power, scope=residents_of_wuhan()).opted_out
            == 1
        )
        counts = []
        for emergency in (False, True):
            made = broadcasts.draft(
                session=session, company=power, text=TEXT, scope=residents_of_wuhan(),
                emergency=emergency, by=staff(session, "admin"), now=MORNING,
            )  # fmt: skip
            done = broadcasts.decide(
                session=session, company=power, number=made.number, approve=True,
                by=staff(session, "boss"), now=MORNING.replace(hour=23),
            )  # fmt: skip
            counts.append((done.queued, done.refused))
        assert counts == [(1, 1), (2, 0)]
        night = session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
        assert [(m.category, m.not_before > m.created_at) for m in night] == [
            ("public_service", True),  # quiet hours: it waits for 08:00
            ("emergency", False),
            ("emergency", False),
        ]


def test_a_text_too_long_or_empty_is_refused(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        for text, code in (("", "text"), ("  ", "text"), ("长" * 301, "long"), ("a\x1bb", "text")):
            with pytest.raises(broadcasts.InvalidBroadcast) as refused:
                broadcasts.draft(
                    session=session, company=company(session, "power"), text=text,
                    scope=broadcasts.Scope(), emergency=False, by=staff(session, "admin"),
                    now=MORNING,
                )  # fmt: skip
            assert refused.value.code == code


# ---- the console ------------------------------------------------------------------------------


def test_the_console_page_previews_drafts_and_approves(
    url: str,  # noqa: F811
    client: TestClient,  # noqa: F811
) -> None:
    store = make_engine(url)
    with sessions(store).begin() as session:
        boss = session.scalar(select(Staff).where(Staff.username == "power-super"))
        assert boss is not None
        session.add(
            Staff(
                company_id=boss.company_id, username="power-deputy", name="deputy",
                role="supervisor", password_hash=boss.password_hash, active=True,
            )
        )  # fmt: skip
    assert sign_in(client, "power-admin") == 303
    page = client.get("/console/broadcasts")
    assert page.status_code == 200 and 'id="nav-broadcasts"' in page.text
    assert "公益短信" in page.text and 'id="broadcast-form"' in page.text
    form = {
        "csrf_token": csrf(client),
        "text": TEXT,
        "regions": "42",
        "customer_class": "residential",
    }
    seen = client.post("/console/broadcasts/preview", data=form)
    assert seen.status_code == 200, seen.text
    assert 'data-accounts="1" data-numbers="1" data-opted-out="0"' in seen.text  # H1
    assert "138****0001" in seen.text
    drafted = client.post("/console/broadcasts", data=form, follow_redirects=False)
    assert drafted.status_code == 303
    number = drafted.headers["location"].split("drafted=")[1]
    listed = client.get("/console/broadcasts").text
    assert f'data-broadcast="{number}" data-status="pending"' in listed
    assert f'data-approve="{number}"' not in listed  # a policy admin does not decide
    bad = client.post("/console/broadcasts/preview", data={**form, "regions": "99"})
    assert bad.status_code == 400 and 'id="broadcast-refused"' in bad.text
    client.post("/console/signout", data={"csrf_token": csrf(client)})
    assert sign_in(client, "power-super") == 303
    decided = client.post(
        f"/console/broadcasts/{number}/decision",
        data={"csrf_token": csrf(client), "verdict": "approve", "note": "同意"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    after = client.get("/console/broadcasts").text
    assert f'data-broadcast="{number}" data-status="approved" data-queued="1"' in after
    assert [a for a, _, _ in audit_rows(store, "power-admin") if "broadcast" in a] == [
        "preview_broadcast",
        "draft_broadcast",
    ]
    assert ("approve_broadcast", number) in [(a, t) for a, t, _ in audit_rows(store, "power-super")]
    with sessions(store).begin() as session:
        sent = session.scalars(select(SmsMessage)).all()
    assert [(m.phone, m.category) for m in sent] == [("13800000001", "public_service")]
    agent = TestClient(client.app)
    agent.get("/console/signin")
    assert sign_in(agent, "power-agent") == 303
    assert agent.get("/console/broadcasts").status_code == 403
    store.dispose()


# ---- the staff API ----------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


@pytest.fixture
def api(world: World) -> Iterator[TestClient]:
    yield from clients(world)


def test_the_staff_api(world: World, api: TestClient) -> None:
    scope = {"region": ["4401"], "customer_class": ["residential"]}
    seen = api.post("/api/v1/staff/broadcasts/preview", json=scope, headers=world.auth("admin_p"))
    assert seen.status_code == 200, seen.text
    assert seen.json() == {
        "accounts": 3,
        "numbers": 3,
        "opted_out": 0,
        "sample": ["138****0001", "138****0002", "138****0004"],
    }
    body = {"text": TEXT, "scope": scope}
    refused = api.post("/api/v1/staff/broadcasts", json=body, headers=world.auth("agent_p"))
    assert refused.status_code == 403
    made = api.post("/api/v1/staff/broadcasts", json=body, headers=world.auth("admin_p"))
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    assert made.json()["status"] == "pending" and made.json()["numbers"] == 3
    own = api.post("/api/v1/staff/broadcasts", json=body, headers=world.auth("super_p")).json()
    decision = "/api/v1/staff/broadcasts/{}/decision"
    mine = api.post(
        decision.format(own["number"]), json={"approve": True}, headers=world.auth("super_p")
    )
    assert mine.status_code == 403
    assert (
        api.post(
            decision.format(number), json={"approve": True}, headers=world.auth("admin_p")
        ).status_code
        == 403
    )
    assert api.post(
        decision.format(number), json={"approve": True}, headers=world.auth("agent_g")
    ).status_code in (403, 404)
    done = api.post(decision.format(number), json={"approve": True}, headers=world.auth("super_p"))
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["queued"], done.json()["refused"]) == (
        "approved", 3, 0,
    )  # fmt: skip
    again = api.post(decision.format(number), json={"approve": True}, headers=world.auth("super_p"))
    assert again.status_code == 409
    listed = api.get("/api/v1/staff/broadcasts", headers=world.auth("super_p")).json()
    assert [b["number"] for b in listed] == [own["number"], number]
    assert api.get("/api/v1/staff/broadcasts", headers=world.auth("agent_g")).status_code == 403
    bad = api.post(
        "/api/v1/staff/broadcasts/preview", json={"region": ["9"]}, headers=world.auth("admin_p")
    )
    assert bad.status_code == 422
