"""The sending rules (`sms.rules.submit`), on SQLite and PostgreSQL, as literal tables: quiet
hours 21:00–08:00 Asia/Shanghai hold every message but emergencies and sign-in codes until
08:00; a number opted out of a company's non-essential messages gets none of them (essential
notices and emergencies still go, and other companies still send); a number's daily cap
refuses non-essential messages past it, counted on the day they go out; a refusal is recorded
once under its key, and a key is never queued twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sanbuting.domain import SHANGHAI
from sanbuting.sms import rules
from sanbuting.sms.queue import SmsMessage
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company
from sanbuting.store.sms_controls import SmsOptOut, SmsRefusal
from store_databases import BACKENDS, database

PHONE = "13800000001"


def local(text: str) -> datetime:
    """An Asia/Shanghai wall time, `2020-02-03 21:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("at", "category", "goes"),
    [
        ("2020-02-03 07:59", "essential", "2020-02-03 08:00"),
        ("2020-02-03 08:00", "essential", None),
        ("2020-02-03 12:00", "public_service", None),
        ("2020-02-03 20:59", "marketing_free", None),
        ("2020-02-03 21:00", "essential", "2020-02-04 08:00"),
        ("2020-02-03 23:30", "public_service", "2020-02-04 08:00"),
        ("2020-02-04 00:00", "marketing_free", "2020-02-04 08:00"),
        ("2020-02-03 23:30", "emergency", None),
        ("2020-02-03 03:00", "sign_in", None),
    ],
)
def test_quiet_hours(at: str, category: str, goes: str | None) -> None:
    held = rules.quiet_until(local(at), category)
    assert held == (local(goes) if goes else None)
    assert rules.quiet_until(local(at).astimezone(UTC), category) == held  # the same instant


@pytest.mark.parametrize(
    ("given", "mobile"),
    [
        ("13800000001", "13800000001"),
        ("+86 138 0000 0001", "13800000001"),
        ("8613800000001", "13800000001"),
        ("138-0000-0001", "13800000001"),
        ("020-12345678", None),
        ("12345678901", None),
        ("", None),
        (None, None),
    ],
)
def test_only_mainland_mobiles_take_a_message(given: str | None, mobile: str | None) -> None:
    assert rules.mobile_of(given) == mobile


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for url in database(request.param, tmp_path):
        upgrade(url)
        made = make_engine(url)
        with sessions(made).begin() as session:
            for code, utility in (("power", "power"), ("gas", "gas")):
                session.add(Company(code=code, name=code, utility=utility, ruleset=f"cn-{utility}"))
        yield made
        made.dispose()


def company(session: Session, code: str) -> int:
    found = session.scalar(select(Company.id).where(Company.code == code))
    assert found is not None
    return found


def send(
    session: Session, key: str, category: str, at: str, *, to: str = "power", cap: int = 3
) -> rules.Outcome:
    return rules.submit(
        session,
        company_id=company(session, to),
        key=key,
        phone=PHONE,
        text=f"message {key}",
        category=category,
        now=local(at),
        cap=cap,
    )


def test_quiet_hours_hold_the_queued_message(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        held = send(session, "k1", "essential", "2020-02-03 22:00")
        code = send(session, "k2", "sign_in", "2020-02-03 22:00")
        warning = send(session, "k3", "emergency", "2020-02-03 22:00")
        rows = {m.key: m for m in session.scalars(select(SmsMessage))}
    assert (held.status, held.not_before) == ("held", local("2020-02-04 08:00"))
    assert (code.status, warning.status) == ("queued", "queued")
    assert rows["k1"].not_before.replace(tzinfo=None) == datetime(2020, 2, 4, 0, 0)  # UTC
    assert rows["k2"].not_before == rows["k2"].created_at


def test_an_opted_out_number_gets_only_what_is_essential(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        rules.set_opt_out(
            session,
            company_ids=[company(session, "power")],
            phone=PHONE,
            out=True,
            source="portal",
            now=local("2020-02-03 09:00"),
        )
        outcomes = {
            key: send(session, key, category, "2020-02-03 10:00", to=to).status
            for key, category, to in (
                ("broadcast", "public_service", "power"),
                ("news", "marketing_free", "power"),
                ("notice", "essential", "power"),
                ("storm", "emergency", "power"),
                ("gas-broadcast", "public_service", "gas"),
            )
        }
        again = send(session, "broadcast", "public_service", "2020-02-03 11:00")
        refusals = [(r.key, r.reason) for r in session.scalars(select(SmsRefusal))]
        queued = sorted(session.scalars(select(SmsMessage.key)))
    assert outcomes == {
        "broadcast": "refused",
        "news": "refused",
        "notice": "queued",
        "storm": "queued",
        "gas-broadcast": "queued",  # another company: not opted out there
    }
    assert again.status == "repeated"
    assert sorted(refusals) == [("broadcast", "opted_out"), ("news", "opted_out")]
    assert queued == ["gas-broadcast", "notice", "storm"]


def test_opting_back_in(engine: Engine) -> None:
    with sessions(engine).begin() as session:
        both = [company(session, "power"), company(session, "gas")]
        now = local("2020-02-03 09:00")
        rules.set_opt_out(
            session, company_ids=both, phone=PHONE, out=True, source="portal", now=now
        )
        rules.set_opt_out(
            session, company_ids=both, phone=PHONE, out=True, source="portal", now=now
        )
        assert rules.opted_out_everywhere(session, phone=PHONE)
        assert len(session.scalars(select(SmsOptOut)).all()) == 2
        rules.set_opt_out(
            session, company_ids=both, phone=PHONE, out=False, source="portal", now=now
        )
        assert not rules.opted_out_everywhere(session, phone=PHONE)
        assert send(session, "after", "public_service", "2020-02-03 10:00").status == "queued"


def test_the_daily_cap_refuses_only_what_is_not_essential(engine: Engine) -> None:
    sent = [
        # key, category, when (Shanghai), expected
        ("n1", "marketing_free", "2020-02-03 09:00", "queued"),
        ("n2", "public_service", "2020-02-03 10:00", "queued"),
        ("e1", "essential", "2020-02-03 11:00", "queued"),  # counts: 3 today
        ("n3", "public_service", "2020-02-03 12:00", "refused"),
        ("e2", "essential", "2020-02-03 13:00", "queued"),  # essential: past the cap, still goes
        ("s1", "sign_in", "2020-02-03 13:30", "queued"),  # codes are not counted
        ("x1", "emergency", "2020-02-03 14:00", "queued"),
        ("n4", "marketing_free", "2020-02-03 22:00", "held"),  # goes tomorrow: tomorrow's count
        ("n5", "marketing_free", "2020-02-04 09:00", "queued"),
        ("n6", "marketing_free", "2020-02-04 10:00", "queued"),
        ("n7", "marketing_free", "2020-02-04 11:00", "refused"),
        ("g1", "public_service", "2020-02-04 11:00", "queued"),  # another company's own count
    ]
    with sessions(engine).begin() as session:
        got = [
            (key, send(session, key, category, at, to="gas" if key == "g1" else "power").status)
            for key, category, at, _ in sent
        ]
        reasons = {r.key: r.reason for r in session.scalars(select(SmsRefusal))}
        day = rules.sent_on(
            session,
            company_id=company(session, "power"),
            phone=PHONE,
            day=local("2020-02-03 00:00").date(),
        )
    assert got == [(key, expected) for key, _, _, expected in sent]
    assert reasons == {"n3": "daily_cap", "n7": "daily_cap"}
    assert day == 5  # n1, n2, e1, e2, x1 (the code is not counted; n4 goes on the 4th)


def test_a_key_is_queued_once_and_a_long_key_is_hashed(engine: Engine) -> None:
    long = "power:notice:" + "A" * 300
    with sessions(engine).begin() as session:
        first = send(session, long, "essential", "2020-02-03 10:00")
        second = send(session, long, "essential", "2020-02-03 10:05")
        keys = session.scalars(select(SmsMessage.key)).all()
        no_phone = rules.submit(
            session,
            company_id=company(session, "power"),
            key="fixed",
            phone="020-12345678",
            text="x",
            category="essential",
            now=local("2020-02-03 10:00") + timedelta(minutes=1),
        )
    assert (first.status, second.status, no_phone.status) == ("queued", "repeated", "no_phone")
    assert len(keys) == 1 and len(keys[0]) == 200 and keys[0].startswith("power:notice:AAA")
