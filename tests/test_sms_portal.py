"""The portal's "我的短信", on SQLite and PostgreSQL: a signed-in customer reads the messages sent
to their number, of every company, newest first, a sign-in code hidden and a message held by
quiet hours saying when it goes; another customer's messages are not there; the opt-out toggle
covers every company and stops non-essential messages only; the demo inbox reads the SMS
queue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sanbuting.sms import rules
from sanbuting.store.database import sessions
from sanbuting.store.models import Company
from sanbuting.store.sms_controls import SmsOptOut
from store_databases import BACKENDS
from test_portal_world import ALICE, BOB, World, last_code, post, sign_in, worlds


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def queue(world: World, company: str, key: str, phone: str, text: str, when: datetime) -> str:
    with sessions(world.engine).begin() as session:
        found = session.scalar(select(Company.id).where(Company.code == company))
        assert found is not None
        outcome = rules.submit(
            session, company_id=found, key=key, phone=phone, text=text, category="essential",
            now=when,
        )  # fmt: skip
    return outcome.status


def rows(page: str) -> list[tuple[str, str]]:
    """(status, text) of each message row, in page order."""
    return re.findall(
        r'data-test="message-row" data-status="([a-z]+)">.*?'
        r'data-test="message-text">([^<]*)</td>',
        page,
        flags=re.S,
    )


def test_my_messages_newest_first_codes_hidden(world: World) -> None:
    browser = sign_in(world, ALICE)
    code = last_code(world.engine, ALICE)
    now = datetime.now(UTC)
    noon = (now - timedelta(days=2)).replace(hour=4, minute=0)  # 12:00 in Shanghai, before
    assert queue(world, "power", "p1", ALICE, "电费提醒一", noon) == "queued"
    assert queue(world, "gas", "g1", ALICE, "燃气提醒", noon + timedelta(minutes=1)) == "queued"
    assert queue(world, "power", "b1", BOB, "别人的短信", noon + timedelta(minutes=2)) == "queued"
    night = (now + timedelta(days=2)).replace(hour=14, minute=0)  # 22:00 in Shanghai, later
    assert queue(world, "power", "p2", ALICE, "夜间提醒", night) == "held"
    page = browser.get("/messages")
    assert page.status_code == 200
    assert 'id="nav-messages"' in page.text and "我的短信" in page.text
    assert "138****0001" in page.text
    shown = rows(page.text)
    assert [text for _, text in shown] == [
        "夜间提醒",
        "您的登录验证码是******，10分钟内有效，请勿告诉他人。",
        "燃气提醒",
        "电费提醒一",
    ]
    assert [status for status, _ in shown][::2] == ["held", "queued"]
    assert code not in page.text and "别人的短信" not in page.text
    assert "夜间免打扰" in page.text and "08:00" in page.text


def test_the_opt_out_toggle(world: World) -> None:
    browser = sign_in(world, ALICE)
    assert 'data-state="off"' in browser.get("/messages").text
    toggled = post(browser, "/messages/opt-out", {"out": "on"})
    assert toggled.status_code == 303
    assert 'data-state="on"' in browser.get("/messages").text
    with sessions(world.engine).begin() as session:
        companies = session.scalars(select(Company.id)).all()
        out = session.scalars(select(SmsOptOut).where(SmsOptOut.phone == ALICE)).all()
        assert sorted(o.company_id for o in out) == sorted(companies)
        assert {o.source for o in out} == {"portal"}
        now = datetime.now(UTC).replace(hour=4)  # 12:00 in Shanghai
        power = companies[0]
        for key, category, expected in (
            ("news", "marketing_free", "refused"),
            ("broadcast", "public_service", "refused"),
            ("notice", "essential", "queued"),
            ("storm", "emergency", "queued"),
        ):
            outcome = rules.submit(
                session, company_id=power, key=key, phone=ALICE, text=key, category=category,
                now=now,
            )  # fmt: skip
            assert outcome.status == expected, key
    assert post(browser, "/messages/opt-out", {"out": "off"}).status_code == 303
    assert 'data-state="off"' in browser.get("/messages").text
    assert post(browser, "/messages/opt-out", {"out": "maybe"}).status_code == 422


def test_signed_out_the_page_asks_to_sign_in_and_the_demo_inbox_reads_the_queue(
    world: World,
) -> None:
    answer = world.client.get("/messages", follow_redirects=False)
    assert answer.status_code in (303, 401)
    sign_in(world, BOB)
    inbox = world.client.get("/demo/sms").text
    assert f'<strong data-test="sms-code">{last_code(world.engine, BOB)}</strong>' in inbox
    assert "139****0002" in inbox
