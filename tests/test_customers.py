"""Customers (`customers.service`) on SQLite and PostgreSQL, with explicit times: sign-in codes
sent as `sign_in` text messages (the SMS queue) and kept only as hashes, single use, dead after
10 minutes or after too many wrong tries; sending limited per phone, per address, per number
prefix and by a site budget that never stops a customer holding a valid code; binding by
region + number + holder's name + the latest bill's amount without saying what was wrong,
limited per customer; ownership; masked names."""

from __future__ import annotations

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
from sanbuting.sms.queue import SmsMessage
from sanbuting.store.database import make_engine, sessions
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


def send(
    session: Session,
    phone: str,
    minutes: float = 0,
    ip: str = "10.0.0.1",
    settings: Settings = SETTINGS,
) -> str:
    """Send a code at NOW + `minutes` as asked from `ip`; returns the code the SMS carries."""
    customers.request_code(
        session=session,
        phone=phone,
        ip=ip,
        settings=settings,
        now=NOW + timedelta(minutes=minutes),
    )
    row = session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc())).first()
    assert row is not None
    assert row.phone == phone and row.category == "sign_in"
    found = CODE.search(row.text)
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


def test_code_is_sent_as_a_sign_in_message_and_stored_hashed(session: Session) -> None:
    code = send(session, ALICE)  # NOW is 10:00 in Shanghai; a code goes at any hour anyway
    row = session.scalars(select(SmsMessage)).one()
    assert row.text == f"您的登录验证码是{code}，10分钟内有效，请勿告诉他人。"
    assert row.key.startswith("signin:") and row.category == "sign_in"
    assert row.status == "queued" and row.not_before == row.created_at
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
        customers.request_code(
            session=session, phone="12345", ip="10.0.0.1", settings=SETTINGS, now=NOW
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
        last_bill_fen=9000,
        on=NOW.date(),
        now=NOW,
        limits=limits(),
    )
    assert bound.account_id == "P1"
    mistakes = [
        ("440104", "P1", "李四", 9000),
        ("440105", "P1", "张三", 9000),
        ("440104", "P9", "张三", 9000),
        ("440104", "P1", "张三", 8000),  # B2's amount: not the latest bill (B3, issued 03-05)
        ("440104", "P1", "张三", 27000),  # everything owed is not a bill's amount
    ]
    messages = set()
    for region, number, name, amount in mistakes:
        with pytest.raises(NotFound) as refused:
            customers.bind_account(
                session=session,
                customer=alice,
                region=region,
                account_id=number,
                holder_name=name,
                last_bill_fen=amount,
                on=NOW.date(),
                now=NOW,
                limits=limits(),
            )
        messages.add(str(refused.value))
    assert messages == {customers.NO_MATCH}
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
            last_bill_fen=5000,  # a prepaid meter without a top-up yet: its opening balance
            on=NOW.date(),
            now=NOW,
            limits=checker,
        )
    assert session.scalar(select(func.count()).select_from(Binding)) == 1


def test_binding_attempts_are_limited(session: Session) -> None:
    alice = customer(session)
    checker = limits()
    for guess in range(10):
        with pytest.raises(NotFound):
            customers.bind_account(
                session=session,
                customer=alice,
                region="440104",
                account_id="P2",
                holder_name="李四",
                last_bill_fen=4000 + guess,
                on=NOW.date(),
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
            last_bill_fen=5000,
            on=NOW.date(),
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
        last_bill_fen=5000,
        on=NOW.date(),
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


def test_sending_is_limited_per_address_and_number_prefix(session: Session) -> None:
    tight = SETTINGS.model_copy(update={"codes_per_ip_hour": 3, "codes_per_prefix_hour": 4})
    for n in range(3):  # three numbers from one address
        send(session, f"1370000000{n}", ip="10.9.9.9", settings=tight)
    with pytest.raises(TooMany, match="from this address"):
        send(session, "13700000009", ip="10.9.9.9", settings=tight)
    send(session, "13700000009", ip="10.8.8.8", settings=tight)  # the prefix's fourth
    with pytest.raises(TooMany, match="numbers like this one"):  # 1370000 is spent
        send(session, "13700000008", ip="10.7.7.7", settings=tight)
    send(session, "13800000008", ip="10.7.7.7", settings=tight)  # another prefix
    sent = session.scalars(select(LoginCode.ip).order_by(LoginCode.id)).all()
    assert sent == ["10.9.9.9"] * 3 + ["10.8.8.8", "10.7.7.7"]


def test_the_site_budget_never_stops_a_customer_with_a_code(session: Session) -> None:
    """The attack: pumping codes to 600 numbers spent the site's budget and every real
    customer got 429. Now the budget stops only sending: Alice, who asked first, signs in."""
    budget = SETTINGS.model_copy(update={"codes_per_minute": 3, "codes_per_ip_hour": 100})
    code = send(session, ALICE, settings=budget)
    for n in range(2):
        send(session, f"1350000000{n}", ip=f"10.1.1.{n}", settings=budget)
    with pytest.raises(TooMany, match="right now"):
        send(session, "13600000009", ip="10.2.2.2", settings=budget)
    assert verify(session, ALICE, code).phone == ALICE
    send(session, "13600000009", minutes=1.5, ip="10.2.2.2", settings=budget)  # a new minute


def test_codes_expire_on_the_wall_clock_in_every_channel(session: Session) -> None:
    """The API took the business clock (`serve --today`): an expired code still signed in.
    Both channels now call `sign_in_with_code` with the wall clock; a code made now and used
    eleven minutes later is refused whatever day the business clock shows."""
    code = send(session, ALICE)
    with pytest.raises(Unauthorized):
        customers.sign_in_with_code(
            session=session,
            phone=ALICE,
            code=code,
            ip="10.0.0.1",
            settings=SETTINGS,
            limits=limits(),
            now=NOW + timedelta(minutes=11),
        )
