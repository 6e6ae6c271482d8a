"""Customers (`customers.service`) on SQLite and PostgreSQL, with explicit times: sign-in codes
sent through the outbox and kept only as hashes, single use, dead after 10 minutes or after
too many wrong tries, sending limited per phone; binding by region + number + holder's name
without saying what was wrong, limited per customer; ownership; masked names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sanbuting.customers import service as customers
from sanbuting.errors import NotFound, TooMany, Unauthorized
from sanbuting.guard.hashing import code_hash
from sanbuting.guard.limits import Limits
from sanbuting.settings import Settings
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import OutboxItem
from sanbuting.store.web_models import Binding, Customer, LoginCode
from store_databases import BACKENDS
from test_portal_world import ALICE, BOB, CODE, NOW, SECRET, account, stores

SETTINGS = Settings(secret_key=SECRET, codes_per_hour=5, code_attempts=5, code_ttl_minutes=10)


@pytest.fixture(params=BACKENDS)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    for url in stores(request.param, tmp_path):
        engine = make_engine(url)
        with sessions(engine).begin() as opened:
            yield opened
        engine.dispose()


def limits() -> Limits:
    return Limits(SETTINGS.sign_ins_per_minute, SETTINGS.codes_per_hour)


def send(session: Session, phone: str, minutes: float = 0) -> str:
    """Send a code at NOW + `minutes`; returns the code the SMS carries."""
    customers.send_code(
        session=session,
        phone=phone,
        settings=SETTINGS,
        limits=limits(),
        now=NOW + timedelta(minutes=minutes),
    )
    row = session.scalars(
        select(OutboxItem).where(OutboxItem.kind == "sms").order_by(OutboxItem.id.desc())
    ).first()
    assert row is not None
    payload = json.loads(row.payload)
    assert payload["phone"] == phone
    found = CODE.search(payload["text"])
    assert found is not None
    return found.group(0)


def verify(session: Session, phone: str, code: str, minutes: float = 0) -> Customer:
    return customers.verify_code(
        session=session,
        phone=phone,
        code=code,
        settings=SETTINGS,
        now=NOW + timedelta(minutes=minutes),
    )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_is_sent_through_the_outbox_and_stored_hashed(session: Session) -> None:
    code = send(session, ALICE)
    row = session.scalars(select(OutboxItem).where(OutboxItem.kind == "sms")).one()
    payload = json.loads(row.payload)
    assert payload["text"] == f"您的登录验证码是{code}，10分钟内有效"
    assert row.key.startswith("sms:signin:") and row.account is None and row.day is None
    assert row.status == "pending"
    stored = session.scalars(select(LoginCode)).one()
    assert stored.code_hash != code and code not in stored.code_hash
    assert stored.code_hash == code_hash(code, ALICE, SECRET)
    customer = verify(session, ALICE, code, minutes=1)
    assert customer.phone == ALICE
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_code_is_used_once(session: Session) -> None:
    code = send(session, ALICE)
    first = verify(session, ALICE, code)
    with pytest.raises(Unauthorized):
        verify(session, ALICE, code)
    code = send(session, ALICE, minutes=2)
    assert verify(session, ALICE, code, minutes=2).id == first.id  # same customer again


def test_a_code_expires_after_ten_minutes(session: Session) -> None:
    code = send(session, ALICE)
    with pytest.raises(Unauthorized, match="expired"):
        verify(session, ALICE, code, minutes=10)
    code = send(session, ALICE, minutes=11)
    assert verify(session, ALICE, code, minutes=20.9).phone == ALICE


def test_wrong_tries_kill_the_code(session: Session) -> None:
    code = send(session, ALICE)
    for _ in range(SETTINGS.code_attempts):
        with pytest.raises(Unauthorized):
            verify(session, ALICE, wrong(code))
    with pytest.raises(Unauthorized):  # the right code, too late
        verify(session, ALICE, code)
    assert session.scalars(select(LoginCode.attempts)).one() == SETTINGS.code_attempts


def test_failures_never_say_whether_the_phone_is_known(session: Session) -> None:
    code = send(session, ALICE)
    with pytest.raises(Unauthorized) as known:
        verify(session, ALICE, wrong(code))
    with pytest.raises(Unauthorized) as unknown:
        verify(session, BOB, code)
    with pytest.raises(Unauthorized) as garbage:
        verify(session, "not a phone", code)
    assert str(known.value) == str(unknown.value) == str(garbage.value)


def test_the_newest_code_counts(session: Session) -> None:
    old = send(session, ALICE)
    new = send(session, ALICE, minutes=2)
    if old != new:
        with pytest.raises(Unauthorized):
            verify(session, ALICE, old, minutes=3)
    assert verify(session, ALICE, new, minutes=3).phone == ALICE


def test_sending_is_limited_per_phone(session: Session) -> None:
    send(session, ALICE)
    with pytest.raises(TooMany, match="minute"):
        send(session, ALICE, minutes=0.5)
    for n in range(1, SETTINGS.codes_per_hour):
        send(session, ALICE, minutes=2 * n)
    with pytest.raises(TooMany, match="an hour"):
        send(session, ALICE, minutes=20)
    send(session, BOB, minutes=20)  # another phone is not limited by Alice's
    send(session, ALICE, minutes=61)  # the first code left the hour
    assert session.scalar(select(func.count()).select_from(LoginCode)) == 7


def test_a_phone_is_checked(session: Session) -> None:
    with pytest.raises(customers.InvalidPhone):
        customers.send_code(
            session=session, phone="12345", settings=SETTINGS, limits=limits(), now=NOW
        )
    assert customers.normal_phone("+86 138-0000-0001") == ALICE


def customer(session: Session, phone: str = ALICE) -> Customer:
    return verify(session, phone, send(session, phone))


def test_binding_needs_region_number_and_name(session: Session) -> None:
    alice = customer(session)
    bound = customers.bind_account(
        session=session,
        customer=alice,
        region="440104",
        account_id="P1",
        holder_name=" 张三 ",
        now=NOW,
        limits=limits(),
    )
    assert bound.account_id == "P1"
    mistakes = [("440104", "P1", "李四"), ("440105", "P1", "张三"), ("440104", "P9", "张三")]
    messages = set()
    for region, number, name in mistakes:
        with pytest.raises(NotFound) as refused:
            customers.bind_account(
                session=session,
                customer=alice,
                region=region,
                account_id=number,
                holder_name=name,
                now=NOW,
                limits=limits(),
            )
        messages.add(str(refused.value))
    assert messages == {"no account matches that region, number and name"}
    assert [a.account_id for a in customers.bound_accounts(session=session, customer=alice)] == [
        "P1"
    ]


def test_binding_twice_is_a_no_op_and_names_compare_loosely(session: Session) -> None:
    alice = customer(session)
    customers.set_holder(session=session, account=account(session, "K1"), name="Zhang San")
    checker = limits()
    for name in ("zhang san", "ＺＨＡＮＧ　ＳＡＮ", "ZhangSan"):
        customers.bind_account(
            session=session,
            customer=alice,
            region="440104",
            account_id="K1",
            holder_name=name,
            now=NOW,
            limits=checker,
        )
    assert session.scalar(select(func.count()).select_from(Binding)) == 1


def test_binding_attempts_are_limited(session: Session) -> None:
    alice = customer(session)
    checker = limits()
    for _ in range(10):
        with pytest.raises(NotFound):
            customers.bind_account(
                session=session,
                customer=alice,
                region="440104",
                account_id="P2",
                holder_name="guess",
                now=NOW,
                limits=checker,
            )
    with pytest.raises(TooMany):
        customers.bind_account(
            session=session,
            customer=alice,
            region="440104",
            account_id="P2",
            holder_name="李四",
            now=NOW,
            limits=checker,
        )


def test_owned_account_refuses_other_customers_accounts(session: Session) -> None:
    alice = customer(session)
    bob = customer(session, BOB)
    customers.bind_account(
        session=session,
        customer=bob,
        region="440104",
        account_id="P2",
        holder_name="李四",
        now=NOW,
        limits=limits(),
    )
    assert customers.owned_account(session=session, customer=bob, account_id="P2").account_id
    for account_id in ("P2", "NOPE"):
        with pytest.raises(NotFound) as refused:
            customers.owned_account(session=session, customer=alice, account_id=account_id)
        assert "not among your bound accounts" in str(refused.value)


def test_masked_names() -> None:
    assert customers.masked_name("张三") == "张*"
    assert customers.masked_name("王小明") == "王*明"
    assert customers.masked_name("欧阳小明") == "欧**明"
    assert customers.masked_name("李") == "*"
    assert customers.masked_name("") == ""
