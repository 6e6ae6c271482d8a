"""Personal data in applications (issue 11, item 8), on SQLite and PostgreSQL: phone, ID card
and bank card numbers masked inside any text (`sanbuting.privacy`) for every role, in the
console and in the API; the application's assignee (who accepted it, or the agent a supervisor
handed it to) reveals its contact phone, audited, and nobody else may (403); a regulator reads
figures, not the application queue (403). The customer sees the text they wrote whole in the
portal, staff notes masked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sanbuting.domain import mask_phone as domain_mask_phone
from sanbuting.privacy import mask_phone, mask_text
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Company
from sanbuting.store.web_models import AuditEntry, Staff
from sanbuting.web.api.common import masked_phone
from sanbuting.web.security import SESSION_COOKIE
from store_databases import BACKENDS
from test_api_world import PASSWORD, World, clients, new_session, password_hash, worlds


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("0086 138 1234 5678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),  # full-width, as an input method types it
        ("020-12345678", "020-****5678"),
        ("0755 1234 5678", "0755-****5678"),
        ("(010)12345678", "010-****5678"),
        ("（010）12345678", "010-****5678"),
        ("+86 20 12345678", "020-****5678"),
        ("11010119900307123X", "110101********123X"),
        ("110101199003071234", "110101********1234"),
        ("110101900307123", "110101******123"),
        ("6222021234567890123", "***************0123"),
        ("6222 0212 3456 7890", "************7890"),
        (
            "请回电13812345678或020-12345678，身份证11010119900307123X。",
            "请回电138****5678或020-****5678，身份证110101********123X。",
        ),
    ],
)
def test_numbers_that_identify_a_person_are_masked_inside_any_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "SQ20200310000001",  # an application number
        "2020-03-10 12:00",
        "账期 2020-01，金额 100.00 元",
        "138123456789",  # 12 digits: no mobile number
        "户号 0201234567890",
        "表号 3301234567",
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_a_phone_field_is_masked_whatever_its_shape() -> None:
    assert mask_phone("13812345678") == domain_mask_phone("13812345678") == "138****5678"
    assert mask_phone(" 0755-12345678 ") == domain_mask_phone("0755-12345678") == "0755-****5678"
    assert mask_phone("(010)12345678") == "010-****5678"
    assert mask_phone("12345678") == "****5678"
    assert mask_phone("1234") == "****"
    # an account's phone in the API (agents, regulators) is masked the same way
    assert masked_phone("020-12345678") == "020-****5678"
    assert masked_phone(None) == ""


# ---- over HTTP ----------------------------------------------------------------------------

DESCRIPTION = (
    "电表走字太快。身份证 11010119900307123X，座机 020-12345678，"
    "另一手机 +86 139-1234-5678，退费卡号 6222021234567890123。"
)
CONTACT = "0755 1234 5678"
NOTE = "已电话联系 13712345678，核对身份证 110101900307123"
WHOLE = (
    "11010119900307123X",
    "020-12345678",
    "139-1234-5678",
    "6222021234567890123",
    "0755 1234 5678",
    "13712345678",
    "110101900307123",
)
MASKED = (
    "110101********123X",
    "020-****5678",
    "139****5678",
    "***************0123",
    "0755-****5678",
    "137****5678",
    "110101******123",
)


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """The API world with a second agent of power, `agent_p2`."""
    for built in worlds(request.param, tmp_path):
        engine = make_engine(built.url)
        with sessions(engine).begin() as session:
            power = session.scalar(select(Company).where(Company.code == "power"))
            assert power is not None
            member = Staff(
                company_id=power.id,
                username="agent_p2",
                name="agent_p2",
                role="agent",
                password_hash=password_hash(),
                active=True,
            )
            session.add(member)
            session.flush()
            built.tokens["agent_p2"] = new_session(session, staff_id=member.id)
        engine.dispose()
        yield built


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    yield from clients(world)


def apply(client: TestClient, world: World) -> str:
    """Alice asks for a meter test of P1, her form full of personal data."""
    answer = client.post(
        "/api/v1/applications",
        json={
            "business": "power-meter-test",
            "account_id": "P1",
            "fields": {"description": DESCRIPTION, "contact_phone": CONTACT},
            "documents": ["id_card"],
        },
        headers=world.auth("alice"),
    )
    assert answer.status_code == 201, answer.text
    number: str = answer.json()["number"]
    return number


def move(client: TestClient, world: World, who: str, number: str, status: str) -> Any:
    return client.post(
        f"/api/v1/staff/applications/{number}/transitions",
        json={"status": status, "note": NOTE},
        headers=world.auth(who),
    )


def reveal(client: TestClient, world: World, who: str, number: str) -> Any:
    return client.post(f"/api/v1/staff/applications/{number}/reveal-phone", headers=world.auth(who))


def assert_masked(text: str) -> None:
    for whole in WHOLE:
        assert whole not in text, whole
    for masked in MASKED:
        assert masked in text, masked


def console_sign_in(client: TestClient, username: str) -> None:
    client.cookies.delete(SESSION_COOKIE)
    form = client.get("/console/signin")
    signed = client.post(
        "/console/signin",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def audit_rows(world: World, action_prefix: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(Staff.username, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
            .join(Staff, Staff.id == AuditEntry.staff_id)
            .where(AuditEntry.action.startswith(action_prefix))
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    return [(who, action, target, json.loads(detail)) for who, action, target, detail in rows]


def test_the_api_masks_every_field_and_note_for_every_role(
    world: World, client: TestClient
) -> None:
    number = apply(client, world)
    accepted = move(client, world, "agent_p", number, "accepted")
    assert accepted.status_code == 200
    assert_masked(accepted.text)
    for who in ("agent_p", "super_p", "admin_p"):
        one = client.get(f"/api/v1/staff/applications/{number}", headers=world.auth(who))
        assert one.status_code == 200
        assert_masked(one.text)
        assert one.json()["fields"]["contact_phone"] == "0755-****5678"
        assert one.json()["assignee"] == "agent_p"
        queue = client.get("/api/v1/staff/applications", headers=world.auth(who))
        assert [a["assignee"] for a in queue.json()["items"]] == ["agent_p"]
        assert "11010119900307123X" not in queue.text
    # the customer's API answers are masked too: a program holds the token, not the person
    mine = client.get(f"/api/v1/applications/{number}", headers=world.auth("alice"))
    assert_masked(mine.text)
    assert "assignee" not in mine.json()


def test_the_console_masks_the_form_and_the_notes_for_agents_and_supervisors(
    world: World, client: TestClient
) -> None:
    number = apply(client, world)
    assert move(client, world, "agent_p", number, "accepted").status_code == 200
    for who in ("agent_p", "super_p"):
        console_sign_in(client, who)
        page = client.get(f"/console/applications/{number}")
        assert page.status_code == 200
        assert_masked(page.text)
        assert 'data-field="contact_phone">0755-****5678<' in page.text
        assert 'id="application-assignee" data-assignee="agent_p"' in page.text
        queue = client.get("/console/applications")
        assert 'data-test="assignee" data-assignee="agent_p"' in queue.text


def test_the_customer_sees_their_own_text_whole_and_staff_notes_masked(
    world: World, client: TestClient
) -> None:
    number = apply(client, world)
    assert move(client, world, "agent_p", number, "accepted").status_code == 200
    client.cookies.set(SESSION_COOKIE, world.tokens["alice"])
    page = client.get(f"/applications/{number}")
    assert page.status_code == 200
    assert "11010119900307123X" in page.text and "6222021234567890123" in page.text
    assert 'data-field="contact_phone">0755-****5678<' in page.text
    assert "137****5678" in page.text and "13712345678" not in page.text


def test_the_assignee_reveals_the_contact_phone_and_the_audit_log_has_it(
    world: World, client: TestClient
) -> None:
    number = apply(client, world)
    assert reveal(client, world, "agent_p", number).status_code == 403  # nobody's yet
    assert move(client, world, "agent_p", number, "accepted").status_code == 200
    shown = reveal(client, world, "agent_p", number)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "number": number,
        "phone": CONTACT,
        "source": "form",
        "field": "contact_phone",
    }
    console_sign_in(client, "agent_p")
    page = client.get(f"/console/applications/{number}")
    assert 'id="reveal-phone"' in page.text and CONTACT not in page.text
    no_csrf = client.post(f"/console/applications/{number}/reveal-phone", data={})
    assert no_csrf.status_code == 403 and CONTACT not in no_csrf.text
    revealed = client.post(
        f"/console/applications/{number}/reveal-phone",
        data={"csrf_token": csrf_of(page.text)},
    )
    assert revealed.status_code == 200
    assert 'id="revealed-phone"' in revealed.text and CONTACT in revealed.text
    rows = audit_rows(world, "reveal_phone")
    assert [(who, action, target) for who, action, target, _ in rows] == [
        ("agent_p", "reveal_phone.refused", number),
        ("agent_p", "reveal_phone", number),
        ("agent_p", "reveal_phone", number),
    ]
    assert [detail["via"] for *_, detail in rows[1:]] == ["api", "console"]
    assert rows[1][3]["source"] == "form"


def test_nobody_but_the_assignee_reveals(world: World, client: TestClient) -> None:
    number = apply(client, world)
    assert move(client, world, "agent_p", number, "accepted").status_code == 200
    for who, status in (("agent_p2", 403), ("super_p", 403), ("reg_p", 403), ("agent_g", 404)):
        refused = reveal(client, world, who, number)
        assert refused.status_code == status, (who, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert CONTACT not in refused.text
    console_sign_in(client, "agent_p2")
    page = client.get(f"/console/applications/{number}")
    assert 'id="reveal-phone"' not in page.text
    refused = client.post(
        f"/console/applications/{number}/reveal-phone",
        data={"csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 403 and CONTACT not in refused.text
    rows = audit_rows(world, "reveal_phone")
    assert [(who, action) for who, action, _, _ in rows] == [
        ("agent_p2", "reveal_phone.refused"),
        ("super_p", "reveal_phone.refused"),
        ("reg_p", "reveal_phone.refused"),
        ("agent_g", "reveal_phone.refused"),
        ("agent_p2", "reveal_phone.refused"),
    ]


def test_a_supervisor_hands_an_application_to_an_agent_of_the_company(
    world: World, client: TestClient
) -> None:
    number = apply(client, world)
    path = f"/api/v1/staff/applications/{number}/assignee"

    def hand(who: str, username: str) -> Any:
        return client.put(path, json={"username": username}, headers=world.auth(who))

    assert hand("agent_p", "agent_p2").status_code == 403
    assert hand("super_p", "reg_p").status_code == 400  # not an agent
    assert hand("super_p", "agent_g").status_code == 404  # another company's
    assert hand("agent_g", "agent_g").status_code in (403, 404)
    handed = hand("super_p", "agent_p2")
    assert handed.status_code == 200, handed.text
    assert handed.json()["assignee"] == "agent_p2"
    assert reveal(client, world, "agent_p2", number).status_code == 200
    assert reveal(client, world, "agent_p", number).status_code == 403
    console_sign_in(client, "super_p")
    page = client.get(f"/console/applications/{number}")
    assert 'id="assign-form"' in page.text and 'id="reveal-phone"' not in page.text
    moved = client.post(
        f"/console/applications/{number}/assignee",
        data={"username": "agent_p", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert 'data-assignee="agent_p"' in client.get(f"/console/applications/{number}").text
    assert reveal(client, world, "agent_p", number).status_code == 200
    console_sign_in(client, "agent_p")
    page = client.get(f"/console/applications/{number}")
    assert 'id="assign-form"' not in page.text
    refused = client.post(
        f"/console/applications/{number}/assignee",
        data={"username": "agent_p", "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 403
    assert audit_rows(world, "assign_application") == [
        ("super_p", "assign_application", number, {"after": "agent_p", "before": "agent_p2"})
    ]
    assert [who for who, *_ in audit_rows(world, "api.applications.assign")] == [
        "agent_p",  # refused: not a supervisor
        "super_p",  # refused: reg_p is not an agent
        "super_p",  # refused: agent_g is another company's
        "agent_g",  # refused
        "super_p",
    ]


def test_a_regulator_reads_figures_not_the_queue(world: World, client: TestClient) -> None:
    number = apply(client, world)
    for path in ("/api/v1/staff/applications", f"/api/v1/staff/applications/{number}"):
        refused = client.get(path, headers=world.auth("reg_p"))
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/figures", headers=world.auth("reg_p")).status_code == 200
    console_sign_in(client, "reg_p")
    assert 'id="nav-applications"' not in client.get("/console").text
    assert client.get("/console/applications").status_code == 403
    page = client.get(f"/console/applications/{number}")
    assert page.status_code == 403 and "11010119900307123X" not in page.text
    console_sign_in(client, "agent_p")
    assert 'id="nav-applications"' in client.get("/console").text
    refusals = audit_rows(world, "api.applications")
    assert [(who, action) for who, action, _, _ in refusals] == [
        ("reg_p", "api.applications.list.refused"),
        ("reg_p", "api.applications.read.refused"),
    ]
