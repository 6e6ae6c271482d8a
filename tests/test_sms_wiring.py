"""Where text messages come from, on SQLite and PostgreSQL: each outbox order the dispatcher
sends to a customer queues its message (the order's key + `:sms`, in simplified Chinese, with
the ledger's amounts, the cut-off day the ruleset allows and the promised reconnection time),
an order cancelled at dispatch sends none, a fixed line gets none, night-time orders wait for
08:00; and a member of staff moving a ticket tells its customer, a customer cancelling does
not.

A1 (power, residential, postpaid, Guangzhou 越秀区 440104, phone 13800000001) owes B1 100.00
due 2020-01-20 and B2 80.00 due 2020-02-20: cn-power-1996 reminds it on 01-21 and 02-21,
serves a notice on 02-20 (arrears 100.00: B2 is not overdue that day; the cut-off may come
3 days later, 02-23) and disconnects it on 02-23 (arrears 180.00; 12 hours to reconnect).
A2 (phone 13800000002) owes B3 50.00 due 01-20 and pays it in full on 02-22, before the
dispatcher runs: its notice and disconnection are cancelled, only its reminder goes.
A3 has a fixed line (020-12345678): no message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sanbuting.applications import service as applications
from sanbuting.cli import app
from sanbuting.cli.dispatch import on_sent
from sanbuting.dispatch import FileSink, run_dispatcher
from sanbuting.jobs.daily import run_daily
from sanbuting.payments.recheck import make_recheck
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.sms.queue import SmsMessage
from sanbuting.sms.reminders import queue_day
from sanbuting.store.companies import name_company
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, AccountHold, Company, OutboxItem
from sanbuting.store.web_models import Staff
from store_databases import BACKENDS, database, import_into, write_folder
from test_portal_world import stores

ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    A1,power,residential,440104,postpaid,,active,0,0,13800000001
    A2,power,residential,440104,postpaid,,active,0,0,13800000002
    A3,power,residential,440104,postpaid,,active,0,0,020-12345678
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,A1,2020-02,2020-02-05,2020-02-20,8000
    B3,A2,2020-01,2020-01-05,2020-01-20,5000
    B4,A3,2020-01,2020-01-05,2020-01-20,5000
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
"""
NAME = "【广州供电局】"
RUN_AT = datetime(2020, 2, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for url in database(request.param, tmp_path):
        upgrade(url)
        folder = write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS)
        import_into(url, folder, tmp_path)
        made = make_engine(url)
        with sessions(made).begin() as session:
            name_company(session=session, code="power", name="广州供电局", group="南方电网")
            power = session.scalar(select(Company).where(Company.code == "power"))
            assert power is not None
            session.add(
                Staff(
                    company_id=power.id, username="repair", name="repair", role="supervisor",
                    password_hash="-", active=True,
                )
            )  # fmt: skip
        run_daily(engine=made, through=date(2020, 2, 23), single=False, now=lambda: RUN_AT)
        yield made
        made.dispose()


def dispatch(engine: Engine, now: datetime, sink: Path) -> None:
    run_dispatcher(
        engine=engine,
        sink=FileSink(sink),
        recheck=make_recheck(lambda: now, []),
        stop_when_idle=True,
        now=lambda: now,
        on_sent=on_sent,
    )


def pay(engine: Engine, account_id: str, fen: int, key: str, paid_at: str) -> None:
    with sessions(engine).begin() as session:
        post_payment(
            session=session,
            payment=PaymentIn(account_id, fen, key, at(paid_at), "counter"),
            now=at(paid_at),
        )


def messages(session: Session) -> dict[str, SmsMessage]:
    return {m.key: m for m in session.scalars(select(SmsMessage))}


def test_each_order_sent_to_a_customer_queues_its_message(engine: Engine, tmp_path: Path) -> None:
    pay(engine, "A2", 5000 + 3300, "A2-in-full", "2020-02-22T10:00:00+08:00")
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), tmp_path / "orders.jsonl")
    with sessions(engine).begin() as session:
        orders = {
            (o.kind, o.day.isoformat() if o.day else "", o.status): o.key
            for o in session.scalars(
                select(OutboxItem)
                .join(Account, Account.id == OutboxItem.account)
                .where(Account.account_id.in_(["A1", "A2"]))
            )
        }
        sent = messages(session)
    a1 = {kind: key for (kind, _, _), key in orders.items() if ":A1:" in key}
    assert sent[f"{a1['notice']}:sms"].text == (
        f"{NAME}停电通知：您尾号A1的户号欠费100.00元，经催交仍未缴清，最早将于2020年2月23日停电。"
        "请尽快缴费（网上国网App、微信、支付宝或营业厅），缴清即不停电。客服95598"
    )
    assert sent[f"{a1['disconnect']}:sms"].text == (
        f"{NAME}您尾号A1的户号因欠费180.00元，已于2020年2月23日停电。"
        "缴清欠费后12小时内恢复供电（网上国网App、微信、支付宝或营业厅）。客服95598"
    )
    # a reminder says what clears the bill that day: its principal and the fee so far (the
    # 1-yuan minimum of cn-power-1996 on the first day)
    assert sent["power:remind:A1:2020-01-21:B1:sms"].text == (
        f"{NAME}您尾号A1的户号账单已于2020年1月20日到期，现应缴101.00元，"
        "请及时缴费（网上国网App、微信、支付宝或营业厅）。客服95598"
    )
    assert "现应缴81.00元" in sent["power:remind:A1:2020-02-21:B2:sms"].text
    a2 = sorted(key for key in sent if ":A2:" in key)
    assert len(a2) == 1 and ":remind:A2:" in a2[0]  # its notice and cut-off were cancelled
    assert not any(":A3:" in key for key in sent)  # a fixed line
    assert {(m.phone, m.category) for m in sent.values()} == {
        ("13800000001", "essential"),
        ("13800000002", "essential"),
    }
    assert all(m.not_before == m.created_at for m in sent.values())  # 09:30: not quiet


def test_a_reconnection_says_when_and_night_orders_wait_for_morning(
    engine: Engine, tmp_path: Path
) -> None:
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), tmp_path / "orders.jsonl")
    pay(engine, "A1", 18000 + 500, "A1-clears", "2020-02-23T21:10:00+08:00")
    dispatch(engine, at("2020-02-23T21:30:00+08:00"), tmp_path / "orders.jsonl")
    with sessions(engine).begin() as session:
        sent = messages(session)
    (reconnect,) = [m for key, m in sent.items() if ":reconnect:A1:" in key]
    assert reconnect.text == (  # paid 21:10, China Southern Power Grid's 12 hours
        f"{NAME}您尾号A1的户号已缴清欠费，我们将于2020年2月24日09:10前恢复供电。客服95598"
    )
    assert reconnect.not_before.astimezone(UTC) == at("2020-02-24T08:00:00+08:00")


def test_staff_moving_a_ticket_tells_the_customer(engine: Engine) -> None:
    now = at("2020-02-23T10:00:00+08:00")
    with sessions(engine).begin() as session:
        power = session.scalar(select(Company).where(Company.code == "power"))
        assert power is not None
        ticket = applications.submit(
            session=session, business="power-fault-repair", company=power, account=None,
            customer=None, now=now, documents=[],
            fields={"fault": "no_power", "address": "越秀区1号", "contact_phone": "13900000009"},
        )  # fmt: skip
        number = ticket.number
        staff = session.scalar(select(Staff).where(Staff.username == "repair"))
        applications.transition(
            session=session, application=ticket, status="accepted", note="", by="repair",
            now=now, staff=staff,
        )  # fmt: skip
        applications.transition(
            session=session, application=ticket, status="cancelled", note="", by="customer",
            now=now,
        )  # fmt: skip
        sent = [m for m in session.scalars(select(SmsMessage)) if number in m.key]
    assert [(m.phone, m.category, m.text) for m in sent] == [
        (
            "13900000009",
            "marketing_free",
            f"{NAME}您的服务工单{number}（故障报修）状态更新为：已受理。"
            "详情请登录网上营业厅查看。客服95598",
        )
    ]


# ---- a recorded day's messages no order carries ----------------------------------------------


@pytest.fixture(params=BACKENDS)
def portal_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The portal's world (`test_portal_world`: the 免停 gz-exempt-2020 covers Guangzhou's
    residential power accounts 2020-01-23 to 03-31), each account with a phone, a promise to
    pay 50.00 by 03-15 on P2 and a plan of 30.00 in 2 monthly parts from 02-25 on S1, run
    through 03-31."""
    for location in stores(request.param, tmp_path):
        made = make_engine(location)
        with sessions(made).begin() as session:
            name_company(session=session, code="power", name="广州供电局", group="南方电网")
            accounts = {a.account_id: a for a in session.scalars(select(Account))}
            for number, account in enumerate(sorted(accounts), 1):
                accounts[account].phone = f"1380000000{number}"
            for hold_id, account_id, kind, start, until, fen, parts in (
                ("PR-1", "P2", "promise", date(2020, 3, 1), date(2020, 3, 15), 5000, None),
                ("PL-1", "S1", "instalments", date(2020, 2, 25), None, 3000, 2),
            ):
                session.add(
                    AccountHold(
                        company_id=accounts[account_id].company_id,
                        account=accounts[account_id].id, hold_id=hold_id, kind=kind,
                        start_on=start, until_on=until, steps="all", amount_fen=fen,
                        instalments=parts, reason="hardship", set_by="test", set_at=RUN_AT,
                    )
                )  # fmt: skip
        run_daily(engine=made, through=date(2020, 3, 31), single=False, now=lambda: RUN_AT)
        yield made
        made.dispose()


def test_relief_promises_and_instalments_of_a_recorded_day(portal_store: Engine) -> None:
    phones = {"P1": "13800000004", "P2": "13800000005", "S1": "13800000006"}  # D1 G1 K1 P1 …
    days = ("2020-02-20", "2020-03-14", "2020-03-22", "2020-03-29", "2020-03-29", "2020-03-30")
    with sessions(portal_store).begin() as session:
        power = session.scalar(select(Company).where(Company.code == "power"))
        assert power is not None
        lines = [
            queue_day(
                session=session, company=power, day=date.fromisoformat(day),
                now=at("2020-04-01T10:00:00+08:00"),
            ).line()
            for day in days
        ]  # fmt: skip
        sent = {m.key: (m.phone, m.text) for m in session.scalars(select(SmsMessage))}
    assert lines == [
        "power 2020-02-20: relief_granted 1 (queued 1)",
        "power 2020-03-14: promise_reminder 1 (queued 1)",
        "power 2020-03-22: instalment_reminder 1 (queued 1); relief_granted 1 (queued 1)",
        "power 2020-03-29: relief_ending 2 (queued 2)",
        "power 2020-03-29: relief_ending 2 (repeated 2)",  # a day again: nothing twice
        "power 2020-03-30: no messages",
    ]
    pay_how = "（网上国网App、微信、支付宝或营业厅）"
    assert sent == {
        "power:relief:P1:gz-exempt-2020:sms": (
            phones["P1"],
            f"{NAME}根据保供政策，您尾号P1的户号欠费不停电，至2020年3月31日止。期间请尽量缴费"
            f"{pay_how}。客服95598",
        ),
        "power:relief:P2:gz-exempt-2020:sms": (
            phones["P2"],
            f"{NAME}根据保供政策，您尾号P2的户号欠费不停电，至2020年3月31日止。期间请尽量缴费"
            f"{pay_how}。客服95598",
        ),
        "power:promise:PR-1:sms": (
            phones["P2"],
            f"{NAME}提醒：您承诺于2020年3月15日前为尾号P2的户号缴费50.00元，请按时缴纳{pay_how}，"
            "逾期将恢复催费。客服95598",
        ),
        "power:instalment:PL-1:1:sms": (
            phones["S1"],
            f"{NAME}提醒：您尾号S1的户号分期还款第1期（共2期）15.00元将于2020年3月25日到期，"
            f"请按时缴纳{pay_how}。客服95598",
        ),
        "power:relief_end:P1:gz-exempt-2020:sms": (
            phones["P1"],
            f"{NAME}您尾号P1的户号欠费不停电的保供期至2020年3月31日结束，目前欠费270.00元。"
            f"期满后仍欠费的，将按规定重新发出停电通知，请尽快缴费{pay_how}。客服95598",
        ),
        "power:relief_end:P2:gz-exempt-2020:sms": (
            phones["P2"],
            f"{NAME}您尾号P2的户号欠费不停电的保供期至2020年3月31日结束，目前欠费50.00元。"
            f"期满后仍欠费的，将按规定重新发出停电通知，请尽快缴费{pay_how}。客服95598",
        ),
    }


def test_a_prepaid_meters_guarantee_tells_it_the_relief(
    portal_store: Engine, tmp_path: Path
) -> None:
    dispatch(portal_store, at("2020-03-31T12:00:00+08:00"), tmp_path / "orders.jsonl")
    with sessions(portal_store).begin() as session:
        sent = messages(session)
    assert sent["power:guarantee_on:K1:2020-01-23:sms"].text == (
        f"{NAME}根据保供政策，您尾号K1的户号欠费不停电，至2020年3月31日止。期间请尽量缴费"
        "（网上国网App、微信、支付宝或营业厅）。客服95598"
    )
    assert not any(key.startswith("power:notice:S1:") for key in sent)  # its plan locks it


def test_the_hotline_and_reminders_commands(engine: Engine) -> None:
    runner = CliRunner()
    env = {"SANBUTING_DATABASE_URL": engine.url.render_as_string(hide_password=False)}

    def run(*args: str) -> tuple[int, str]:
        done = runner.invoke(app, ["sms", *args], env=env)
        return done.exit_code, done.output.strip()

    assert run("hotline", "--company", "power") == (0, "power: 95598")  # 南方电网
    assert run("hotline", "--company", "power", "020-95598") == (0, "power: 020-95598")
    assert run("hotline", "--company", "power", "call us")[0] == 1
    with sessions(engine).begin() as session:
        power = session.scalar(select(Company).where(Company.code == "power"))
        assert power is not None and power.hotline == "020-95598"
    assert run("hotline", "--company", "power", "--default") == (0, "power: 95598")
    assert run("reminders", "--date", "2020-02-23") == (0, "power 2020-02-23: no messages")
    code, said = run("reminders", "--date", "2020-02-24")
    assert code == 1 and "has not recorded 2020-02-24 yet" in said
