"""Manual late-fee waivers and write-offs with four eyes (`desk.adjustments`), on SQLite and
PostgreSQL, over the console's store (H1 owes bill BH1, 100 yuan due 2019-12-20; the store is
recorded through 2020-01-24 and it is 2020-01-25 in Shanghai).

BH1's fee (cn-power-1996, residential: 1 per mille a day, in the year it fell due and after):
12-21..01-25, 36 days x 10 fen = 360 fen through 01-25.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.desk.adjustments import AdjustmentRequest, ask, decide
from sanbuting.desk.holds import InvalidHold
from sanbuting.errors import Conflict, Forbidden
from sanbuting.payments.service import PaymentIn, PaymentRefused, post_payment
from sanbuting.relief.position import account_position
from sanbuting.store.database import sessions
from sanbuting.store.models import Account, AccountHold
from sanbuting.store.web_models import Staff
from test_console_access import (  # noqa: F401  (fixtures: a store run through 2020-01-24)
    audit_rows,
    client,
    company,
    csrf,
    engine,
    sign_in,
    url,
)
from test_open_items import ledger

NOW = datetime(2020, 1, 25, 2, 0, tzinfo=UTC)
TODAY = date(2020, 1, 25)


def staff(session: Session, username: str) -> Staff:
    found = session.scalar(select(Staff).where(Staff.username == username))
    assert found is not None
    return found


def pay(store: Engine, key: str, amount: int) -> None:
    with sessions(store).begin() as session:
        paid = PaymentIn("H1", amount, key, datetime(2020, 1, 25, 9, tzinfo=UTC), "counter")
        post_payment(session=session, payment=paid, now=NOW)


def position(store: Engine) -> tuple[int, int, int]:
    """H1's arrears, BH1's fee and what relief waived of it, on 01-25."""
    with sessions(store).begin() as session:
        account = session.scalar(select(Account).where(Account.account_id == "H1"))
        assert account is not None
        seen = account_position(session=session, account=account, on=TODAY, now=NOW)
    (bill,) = seen.bills
    return seen.arrears_fen, bill.fee_fen, bill.waived_fen


def test_a_waiver_asked_by_one_and_approved_by_another_reverses_the_fee(
    engine: Engine,  # noqa: F811
    url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    pay(engine, "P1", 10_000)  # the principal: the fee is finalized at 360 and still owed
    assert position(engine) == (360, 360, 0)
    with sessions(engine).begin() as session:
        power = company(session, "power")
        asked = ask(
            session=session,
            company=power,
            request=AdjustmentRequest("H1", "waive_fee", "hardship", "家中有病人"),
            by=staff(session, "power-agent"),
            now=NOW,
        )
        assert (asked.kind, asked.amount_fen, asked.until_on, asked.status) == (
            "waive_fee", 360, TODAY, "pending",
        )  # fmt: skip
        number = asked.number
        with pytest.raises(InvalidHold) as twice:
            ask(
                session=session,
                company=power,
                request=AdjustmentRequest("H1", "waive_fee", "hardship"),
                by=staff(session, "power-super"),
                now=NOW,
            )
        assert twice.value.code == "pending"
    with sessions(engine).begin() as session, pytest.raises(Forbidden):
        decide(
            session=session, company=company(session, "power"), number=number, approve=True,
            by=staff(session, "power-agent"), now=NOW,
        )  # fmt: skip
    with sessions(engine).begin() as session:
        done = decide(
            session=session, company=company(session, "power"), number=number, approve=True,
            by=staff(session, "power-super"), now=NOW, note="同意",
        )  # fmt: skip
        assert done.status == "approved" and done.made is not None
        hold = session.scalar(select(AccountHold).where(AccountHold.hold_id == done.made))
        assert hold is not None
        assert (hold.kind, hold.start_on, hold.until_on, hold.set_by) == (
            "waive_fee", TODAY, TODAY, "power-agent/power-super",
        )  # fmt: skip
    assert position(engine) == (0, 0, 360)
    fees = [(p[0], p[1], p[4]) for p in ledger(url) if "BH1" in str(p[0])]
    assert fees == [
        ("charge:BH1", "charge", None),
        ("fee:BH1", "late_fee", None),
        ("reversal:fee:BH1", "reversal", "fee:BH1"),
        ("waiver:BH1", "waiver", None),
    ]
    runner, env = CliRunner(), {"SANBUTING_DATABASE_URL": url}
    for args in (["daily", "--through", "2020-01-31"], ["db", "export", str(tmp_path / "out")]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "late_fees.csv").open(encoding="utf-8", newline="") as handle:
        (row,) = [r for r in csv.DictReader(handle) if r["bill_id"] == "BH1"]
    assert (row["charged_fen"], row["waived_fen"], row["waived_days"]) == ("0", "360", "36")


def test_a_write_off_settles_what_is_owed_overdue_and_no_payer_can_post_one(
    engine: Engine,  # noqa: F811
    url: str,  # noqa: F811
) -> None:
    def asked_write_off() -> tuple[str, int]:
        with sessions(engine).begin() as session:
            made = ask(
                session=session,
                company=company(session, "power"),
                request=AdjustmentRequest("H1", "write_off", "hardship", "低保户"),
                by=staff(session, "power-agent"),
                now=NOW,
            )
            return made.number, made.amount_fen

    def decided(number: str, approve: bool) -> str:
        with sessions(engine).begin() as session:
            return decide(
                session=session, company=company(session, "power"), number=number,
                approve=approve, by=staff(session, "power-super"), now=NOW,
            ).status  # fmt: skip

    first, amount = asked_write_off()
    assert amount == 10_360  # the principal and the fee due if it were paid today
    pay(engine, "P1", 1_000)
    with pytest.raises(Conflict):  # what is owed changed: the approval is refused
        decided(first, approve=True)
    assert decided(first, approve=False) == "rejected"
    second, amount = asked_write_off()
    assert amount == 9_360
    assert decided(second, approve=True) == "approved"
    assert position(engine)[0] == 0
    books = {
        (p[0], p[1]): {line[0] for line in p[5]}  # type: ignore[union-attr]
        for p in ledger(url)
        if str(p[0]).startswith("pay:")
    }
    assert books[(f"pay:write-off:{second}", "write_off")] >= {"bad_debt", "principal"}
    assert "cash" not in books[(f"pay:write-off:{second}", "write_off")]
    with sessions(engine).begin() as session, pytest.raises(PaymentRefused) as forged:
        post_payment(
            session=session,
            payment=PaymentIn("H1", 100, "write-off:ADJ-FAKE", NOW, "counter"),
            now=NOW,
        )
    assert forged.value.code == "reserved"


def test_the_console_asks_and_another_supervisor_decides_with_the_reason_audited(
    client: TestClient,  # noqa: F811
    engine: Engine,  # noqa: F811
) -> None:
    assert sign_in(client, "power-agent") == 303
    form = {"csrf_token": csrf(client), "reason": "medical", "note": "居家透析"}
    nothing = client.post(
        "/console/accounts/G1/adjustments", data={**form, "kind": "waive_fee"},
        follow_redirects=False,
    )  # fmt: skip
    assert nothing.headers["location"] == "/console/accounts/G1?adjustment=nothing#adjustments"
    asked = client.post(
        "/console/accounts/H1/adjustments", data={**form, "kind": "waive_fee"},
        follow_redirects=False,
    )  # fmt: skip
    assert asked.headers["location"] == "/console/accounts/H1#adjustments"
    page = client.get("/console/accounts/H1")
    assert 'data-status="pending"' in page.text and "居家透析" in page.text
    (ask_row,) = [d for a, t, d in audit_rows(engine, "power-agent") if a == "ask_adjustment"]
    assert (ask_row["kind"], ask_row["fen"], ask_row["reason"], ask_row["note"]) == (
        "waive_fee", 360, "medical", "居家透析",
    )  # fmt: skip
    number = ask_row["number"]
    refused = client.post(
        f"/console/adjustments/{number}/decision",
        data={"csrf_token": csrf(client), "verdict": "approve"},
        follow_redirects=False,
    )
    assert refused.status_code == 403  # an agent asks; a supervisor decides

    client.post("/console/signout", data={"csrf_token": csrf(client)})
    assert sign_in(client, "power-super") == 303
    listed = client.get("/console/adjustments")
    assert f'data-approve="{number}"' in listed.text
    approved = client.post(
        f"/console/adjustments/{number}/decision",
        data={"csrf_token": csrf(client), "verdict": "approve", "note": "属实"},
        follow_redirects=False,
    )
    assert approved.headers["location"] == "/console/adjustments"
    assert 'data-status="approved"' in client.get("/console/accounts/H1").text
    (decided,) = [d for a, t, d in audit_rows(engine, "power-super") if a == "approve_adjustment"]
    assert (decided["fen"], decided["note"]) == (360, "属实")
    assert position(engine) == (10_000, 0, 360)  # the fee is waived, the principal owed
