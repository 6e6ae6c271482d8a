"""Online service figures per company (`reports.online`): payments by channel, online or not
(a write-off left out), and business customers filed online, on the deployment regulator's
store (test_deployment_regulator), on SQLite and PostgreSQL; shown on one company's page."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from fastapi.testclient import TestClient
from polars.testing import assert_frame_equal
from sqlalchemy import select

from sanbuting.payments.service import PaymentIn, post_payment, post_write_off
from sanbuting.reports.online import business_online, online_totals, payments_by_channel
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Application, Customer
from test_deployment_regulator import (  # noqa: F401  (fixtures)
    NOW,
    as_staff,
    client,
    store,
)

PAID_AT = datetime(2020, 3, 10, 1, 0, tzinfo=UTC)


def test_payments_by_channel_and_business_online(
    client: TestClient,  # noqa: F811
    store: tuple[str, dict[str, str]],  # noqa: F811
) -> None:
    engine = make_engine(store[0])
    with sessions(engine).begin() as session:
        for key, account, amount, channel in (
            ("W1", "P1", 1_000, "wechat"),
            ("W2", "P1", 500, "wechat"),
            ("C1", "P2", 2_000, "counter"),
            ("A1", "T1", 700, "alipay"),
        ):
            paid = PaymentIn(account, amount, key, PAID_AT, channel)
            post_payment(session=session, payment=paid, now=NOW)
        post_write_off(
            session=session, account_id="P1", company="power", amount_fen=100,
            number="ADJ-1", now=NOW,
        )  # fmt: skip
        power = session.scalar(select(Company).where(Company.code == "power"))
        p1 = session.scalar(select(Account).where(Account.account_id == "P1"))
        assert power is not None and p1 is not None
        customer = Customer(phone="13800000001", created_at=NOW)
        session.add(customer)
        session.flush()
        for number, status, customer_id in (
            ("SQ1", "completed", customer.id),
            ("SQ2", "submitted", customer.id),
            ("SQ3", "completed", None),  # filed at a counter by staff: not online
        ):
            session.add(
                Application(
                    number=number, company_id=power.id, account=p1.id, customer_id=customer_id,
                    business="power-fault-repair", status=status, created_at=NOW,
                    promised_by=NOW,
                )
            )  # fmt: skip
        companies = list(session.scalars(select(Company).order_by(Company.code)))
        payments = payments_by_channel(session, companies)
        business = business_online(session, companies)
    engine.dispose()
    assert_frame_equal(
        payments,
        pl.DataFrame(
            {
                "company": ["power", "power", "telecom"],
                "channel": ["counter", "wechat", "alipay"],
                "online": [False, True, True],
                "payments": [1, 2, 1],
                "paid_fen": [2_000, 1_500, 700],
            }
        ),
    )
    assert business.rows() == [("power", "power-fault-repair", 2, 1)]
    assert online_totals(payments, business) == {
        "online_payments": 3,
        "online_paid_fen": 2_200,
        "online_applications": 2,
    }
    answer = client.get(
        "/api/v1/figures/companies/power",
        headers={"Authorization": f"Bearer {store[1]['deployment']}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["payments_by_channel"] == [
        {"channel": "counter", "online": False, "payments": 1, "paid_fen": 2_000},
        {"channel": "wechat", "online": True, "payments": 2, "paid_fen": 1_500},
    ]
    assert answer.json()["business_online"] == [
        {"business": "power-fault-repair", "applications": 2, "done": 1}
    ]
    page = as_staff(client, store, "deployment").get("/console/companies/power")
    assert page.status_code == 200
    assert 'data-channel="wechat"' in page.text and "微信" in page.text
    assert 'data-business="power-fault-repair"' in page.text
