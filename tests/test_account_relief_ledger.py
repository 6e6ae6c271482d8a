"""Instalment plans through the store (docs/account-relief.md, `store.plans`), on SQLite and
PostgreSQL: plans imported with the accounts and bills, the payments posted one by one as the
cashier would post them, then the daily run. The late fees a plan stops are stopped in the
ledger as in the engines, whether a payment may be booked from the open book or only from the
history; the daily run over the store writes what `sanbuting run` writes; a second plan of an
account is refused.

The scenario is `test_account_relief.test_instalment_plans_kept_and_broken`'s: three bills of
90 yuan due 2020-01-15, each split from 02-01 into three parts of 30 yuan due 03-01, 04-01 and
05-01 with ten days' grace. I1 pays every part (kept on 04-29); I2 pays the first only (broken
on 04-12); I3 pays the second late, on 04-12, inside its grace (broken on 05-12).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.payments.service import Part, PaymentIn, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import AccountHold
from scenario import input_csv, rows
from store_databases import BACKENDS, database, import_into
from test_open_items import counted_open_items, ledger

NOW = datetime(2020, 6, 1, tzinfo=UTC)
POWER = "power,residential,440305"
ACCOUNTS = f"""
    account_id,utility,customer_class,region
    I1,{POWER}
    I2,{POWER}
    I3,{POWER}
"""
BILLS = """
    B1,I1,2020-01,2020-01-01,2020-01-15,9000
    B2,I2,2020-01,2020-01-01,2020-01-15,9000
    B3,I3,2020-01,2020-01-01,2020-01-15,9000
"""
PLANS = """
    H1,I1,instalments,2020-02-01,2020-05-01,,9000,3,hardship,S004
    H2,I2,instalments,2020-02-01,,,9000,3,hardship,S004
    H3,I3,instalments,2020-02-01,,,9000,3,hardship,S004
"""
PAID = [  # in the order the cashier posts them
    ("X1", "I1", "2020-02-28T09:00:00+08:00", 3000),
    ("X4", "I2", "2020-02-28T09:00:00+08:00", 3000),
    ("X5", "I3", "2020-02-28T09:00:00+08:00", 3000),
    ("X2", "I1", "2020-03-30T09:00:00+08:00", 3000),
    ("X6", "I3", "2020-04-12T09:00:00+08:00", 3000),
    ("X3", "I1", "2020-04-29T09:00:00+08:00", 3000),
]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        yield value


def folder(root: Path, holds: str = PLANS, payments: str = "") -> Path:
    root.mkdir(parents=True)
    for table, text in (
        ("accounts", ACCOUNTS),
        ("bills", BILLS),
        ("payments", payments),
        ("holds", holds),
    ):
        (root / f"{table}.csv").write_text(input_csv(table, text), encoding="utf-8")
    return root


def post_everything(url: str, tmp_path: Path) -> list[tuple[object, ...]]:
    import_into(url, folder(tmp_path / "in"), tmp_path)
    engine = make_engine(url)
    results = []
    for key, account, at, amount in PAID:
        with sessions(engine).begin() as session:
            paid = PaymentIn(account, amount, key, datetime.fromisoformat(at), "bank")
            done = post_payment(session=session, payment=paid, now=NOW)
            results.append((key, done.parts, done.arrears_before_fen, done.arrears_after_fen))
    engine.dispose()
    return results


def test_the_ledger_stops_the_fees_a_kept_plan_stops(url: str, tmp_path: Path) -> None:
    with counted_open_items(allowed=True) as taken:
        results = post_everything(url, tmp_path / "open")
    assert taken == []  # a planned account is booked from its history
    # I1's fee: 144 fen before the plan (01-16..01-31), none while it is kept, 3 fen on 04-29
    # when the part paid keeps it: 147 finalized with the principal and owed after.
    assert results == [
        ("X1", (Part("B1", 3000, 0),), 9000, 6000),
        ("X4", (Part("B2", 3000, 0),), 9000, 6000),
        ("X5", (Part("B3", 3000, 0),), 9000, 6000),
        ("X2", (Part("B1", 3000, 0),), 6000, 3000),
        ("X6", (Part("B3", 3000, 0),), 6000, 3000),
        ("X3", (Part("B1", 3000, 0),), 3000, 147),
    ]
    history = f"sqlite:///{tmp_path / 'history.db'}"
    upgrade(history)
    with counted_open_items(allowed=False):
        from_history = post_everything(history, tmp_path / "history")
    assert from_history == results
    assert ledger(url) == ledger(history)


def test_the_daily_run_over_the_store_books_plans_as_the_engine_does(
    url: str, tmp_path: Path
) -> None:
    post_everything(url, tmp_path)
    env = {"SANBUTING_DATABASE_URL": url}
    runner = CliRunner()
    for args in (
        ["daily", "--through", "2020-03-15"],
        ["daily", "--through", "2020-05-31"],
        ["db", "export", str(tmp_path / "exported")],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    paid = "\n".join(f"{k},{a},{at},{amount},bank" for k, a, at, amount in PAID)
    data = folder(tmp_path / "files", payments=paid)
    ran, policies = tmp_path / "ran", tmp_path / "policies.yaml"
    policies.write_text("policies: []\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["run", "--data", str(data), "--policies", str(policies), "--start", "2020-01-01",
         "--end", "2020-05-31", "--out", str(ran)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("actions.csv", "late_fees.csv", "account_relief.csv", "states.csv"):
        assert (tmp_path / "exported" / name).read_bytes() == (ran / name).read_bytes(), name
    with (ran / "late_fees.csv").open(encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle)) == rows("""
            bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
            B1,I1,147,525,147,17,88
            B2,I2,444,510,0,66,71
            B3,I3,204,603,0,36,101
        """)


def test_the_store_keeps_one_plan_at_a_time(url: str, tmp_path: Path) -> None:
    """Without payments I1's and I2's plans break on 03-12 (the first part, due 03-01, unpaid
    after ten days' grace): a plan of I1 from 03-01 is refused, one of I2 from 04-01 taken."""
    import_into(url, folder(tmp_path / "first"), tmp_path)
    second = folder(tmp_path / "second", holds="H7,I1,instalments,2020-03-01,,,6000,2,hardship,S1")
    result = CliRunner().invoke(
        app,
        ["db", "import", str(second), "--rejects", str(tmp_path / "rejects.csv")],
        env={"SANBUTING_DATABASE_URL": url},
    )
    assert result.exit_code == 1, result.output
    with (tmp_path / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        refused = [(r["file"], r["line"], r["column"]) for r in csv.DictReader(handle)]
    assert refused == [("holds.csv", "2", "kind")]
    import_into(
        url,
        folder(tmp_path / "third", holds="H8,I2,instalments,2020-04-01,,,6000,2,hardship,S1"),
        tmp_path,
    )
    engine = make_engine(url)
    with sessions(engine)() as session:
        held = session.scalars(select(AccountHold.hold_id).order_by(AccountHold.hold_id)).all()
    engine.dispose()
    assert held == ["H1", "H2", "H3", "H8"]
