"""`sanbuting daily` on SQLite and PostgreSQL: the first day is the company's origin, a day
already run is a no-op, a skipped day is refused, `--through` runs every missing day; each
day's actions, protection events and outbox orders; and the re-check at dispatch
(`payments.recheck.recheck_order`) that cancels a cut-off for an account that paid after the
run and keeps one for an account still in arrears.

Inputs are small literal tables; expected rows are worked out by hand from the contract
(power postpaid: remind on due + 1; notice on the first day a bill is more than 30 days
overdue, i.e. due + 31; disconnect from notice + 3; an exempt window prevents enforcement)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from sanbuting.cli import app
from sanbuting.errors import SanbutingError
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.payments.recheck import recheck_order
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import (
    Account,
    OutboxItem,
    PolicyVersion,
    ProtectionEvent,
    Run,
    StoredAction,
)
from sanbuting.store.policy_versions import deployment_policies
from sanbuting.store.runs import DayDone
from store_databases import BACKENDS, database, write_folder

NOW = datetime(2020, 1, 23, 10, 0, tzinfo=UTC)

ACCOUNTS = """
    account_id,utility,customer_class,region
    N1,power,residential,440104
    N2,power,residential,440104
    R1,power,residential,440104
    X1,power,residential,440305
"""
# N1, N2, X1 owe a bill due 2019-12-20: more than 30 days overdue from 2020-01-20 (12-20 + 31).
# R1's bill is due 2020-01-10: reminded on 01-11. X1 is in Shenzhen (4403), exempt 01-15..01-31.
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    BN1,N1,2019-12,2019-12-05,2019-12-20,10000
    BN2,N2,2019-12,2019-12-05,2019-12-20,10000
    BR1,R1,2020-01,2020-01-05,2020-01-10,10000
    BX1,X1,2019-12,2019-12-05,2019-12-20,10000
"""
POLICIES = """
    policies:
      - id: sz-exempt-test
        effect: exempt
        scope: {utility: [power], region: ["4403"]}
        window: {start: 2020-01-15, end: 2020-02-01}
"""


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        outcome = import_and_book(
            data=write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS),
            start=date(2020, 1, 1),
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=tmp_path / "rejects.csv",
            url=value,
        )
        assert not outcome.refused
        policies = tmp_path / "policies.yaml"
        policies.write_text(textwrap.dedent(POLICIES).lstrip(), encoding="utf-8")
        activated = cli(value, "policy", "activate", str(policies), "--by", "test")
        assert activated.exit_code == 0, activated.output
        yield value


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"SANBUTING_DATABASE_URL": url})


def row_counts(engine: Engine) -> tuple[int, int, int, int]:
    """Runs, actions, protection events, outbox rows."""
    with sessions(engine).begin() as session:
        runs, actions, protections, orders = (
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Run, StoredAction, ProtectionEvent, OutboxItem)
        )
    return runs, actions, protections, orders


def jan(day: int) -> date:
    return date(2020, 1, day)


def run_days(engine: Engine) -> list[date]:
    with sessions(engine).begin() as session:
        return list(session.scalars(select(Run.day).order_by(Run.day)))


def test_the_first_day_must_be_the_origin(url: str, engine: Engine) -> None:
    result = cli(url, "daily", "--date", "2020-01-02")

    assert result.exit_code != 0
    assert isinstance(result.exception, SanbutingError)
    assert str(result.exception) == (
        "power: 2020-01-02 is not its first day (2020-01-01); run "
        "`sanbuting daily --through 2020-01-02` to run every day up to it"
    )
    assert row_counts(engine) == (0, 0, 0, 0)


def test_a_day_run_again_is_a_no_op_and_a_skipped_day_is_refused(url: str, engine: Engine) -> None:
    first = cli(url, "daily", "--date", "2020-01-01")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "power 2020-01-01: 0 actions, 0 protection events, 0 orders queued"
    ]
    counts = row_counts(engine)

    again = cli(url, "daily", "--date", "2020-01-01")

    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == ["power: already run through 2020-01-01; nothing to do"]
    assert row_counts(engine) == counts

    skipped = cli(url, "daily", "--date", "2020-01-03")

    assert skipped.exit_code != 0
    assert isinstance(skipped.exception, SanbutingError)
    assert str(skipped.exception) == (
        "power: 2020-01-03 is not the next day after 2020-01-01 (2020-01-02); run "
        "`sanbuting daily --through 2020-01-03` to run every day up to it"
    )
    assert row_counts(engine) == counts
    assert run_days(engine) == [date(2020, 1, 1)]

    assert cli(url, "daily", "--date", "2020-01-02").exit_code == 0
    assert run_days(engine) == [date(2020, 1, 1), date(2020, 1, 2)]


def test_through_runs_each_missing_day_and_writes_its_rows(engine: Engine) -> None:
    done = run_daily(engine=engine, through=date(2020, 1, 10), single=False, now=lambda: NOW)
    assert [d.day.day for d in done] == list(range(1, 11))  # 01-01 .. 01-10, one each
    assert all(d.actions == d.protections == d.orders == 0 for d in done)

    done = run_daily(engine=engine, through=date(2020, 1, 23), single=False, now=lambda: NOW)

    assert [d.day.day for d in done] == list(range(11, 24))  # only the missing days
    busy = [(d.day, d.actions, d.protections, d.orders) for d in done if d.actions or d.protections]
    assert busy == [
        (date(2020, 1, 11), 1, 0, 1),  # R1's reminder
        (date(2020, 1, 20), 2, 1, 2),  # N1, N2 notices; X1's notice prevented (exempt)
        (date(2020, 1, 23), 2, 0, 2),  # N1, N2 cut off (notice + 3)
    ]
    assert run_days(engine) == [date(2020, 1, n) for n in range(1, 24)]
    with sessions(engine).begin() as session:
        version = session.scalar(select(PolicyVersion))  # the only company's own set
        assert version is not None and version.company_id is not None
        used = set(session.execute(select(Run.policy_version, Run.company_policy_version)))
        assert used == {(None, version.id)}
        assert session.scalar(select(PolicyVersion.file_name)) == "policies.yaml"
        actions = session.execute(
            select(
                StoredAction.day,
                Account.account_id,
                StoredAction.action,
                StoredAction.step,
                StoredAction.bill_id,
                StoredAction.policy_id,
                Run.day,
            )
            .join(Account, Account.id == StoredAction.account)
            .join(Run, Run.id == StoredAction.run)
            .order_by(StoredAction.day, Account.account_id)
        ).all()
        protections = session.execute(
            select(
                ProtectionEvent.day,
                Account.account_id,
                ProtectionEvent.policy_id,
                ProtectionEvent.kind,
                ProtectionEvent.prevented_action,
                ProtectionEvent.deferred_to,
            ).join(Account, Account.id == ProtectionEvent.account)
        ).all()
        orders = session.execute(
            select(OutboxItem.key, OutboxItem.kind, OutboxItem.status, OutboxItem.day).order_by(
                OutboxItem.day, OutboxItem.key
            )
        ).all()
    assert [tuple(r) for r in actions] == [
        (jan(11), "R1", "remind", "remind", "BR1", "", jan(11)),
        (jan(20), "N1", "notice", "notice", "", "", jan(20)),
        (jan(20), "N2", "notice", "notice", "", "", jan(20)),
        (jan(23), "N1", "disconnect", "disconnect", "", "", jan(23)),
        (jan(23), "N2", "disconnect", "disconnect", "", "", jan(23)),
    ]
    assert [tuple(r) for r in protections] == [
        (jan(20), "X1", "sz-exempt-test", "exempt", "notice", None),
    ]
    assert [tuple(r) for r in orders] == [
        ("power:remind:R1:2020-01-11:BR1", "remind", "pending", jan(11)),
        ("power:notice:N1:2020-01-20", "notice", "pending", jan(20)),
        ("power:notice:N2:2020-01-20", "notice", "pending", jan(20)),
        ("power:disconnect:N1:2020-01-23", "disconnect", "pending", jan(23)),
        ("power:disconnect:N2:2020-01-23", "disconnect", "pending", jan(23)),
    ]
    counts = row_counts(engine)

    again = run_daily(engine=engine, through=date(2020, 1, 23), single=False, now=lambda: NOW)

    assert again == [DayDone("power", date(2020, 1, 23), 0, 0, 0, already=True)]
    assert row_counts(engine) == counts


def test_through_on_the_command_line(url: str, engine: Engine) -> None:
    result = cli(url, "daily", "--through", "2020-01-11")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 11
    assert lines[-1] == "power 2020-01-11: 1 actions, 0 protection events, 1 orders queued"
    assert row_counts(engine) == (11, 1, 0, 1)


# N2 pays on 2020-01-23 in the evening, after that day's run cut it off: principal 10000 and
# the fee of 12-21..01-23 = 11 + 23 = 34 days x 10 fen (1‰) = 340, so 10340 fen clears it.
def test_recheck_cancels_the_cut_off_of_an_account_that_paid_after_the_run(
    engine: Engine,
) -> None:
    run_daily(engine=engine, through=date(2020, 1, 23), single=False, now=lambda: NOW)
    with sessions(engine).begin() as session:
        policies = deployment_policies(session)
        paid = post_payment(
            session=session,
            payment=PaymentIn(
                "N2", 10340, "late-N2", datetime.fromisoformat("2020-01-23T19:30:00+08:00")
            ),
            policies=policies,
            now=NOW,
        )
    assert (paid.arrears_before_fen, paid.arrears_after_fen) == (10000, 0)

    with sessions(engine).begin() as session:
        policies = deployment_policies(session)
        verdicts = {}
        for key in ("power:disconnect:N1:2020-01-23", "power:disconnect:N2:2020-01-23"):
            item = session.scalar(select(OutboxItem).where(OutboxItem.key == key))
            assert item is not None
            verdicts[key] = recheck_order(session=session, item=item, policies=policies, now=NOW)

    assert verdicts == {
        "power:disconnect:N1:2020-01-23": None,  # still owes 10000: the cut-off stands
        "power:disconnect:N2:2020-01-23": (
            "arrears are 0 on 2020-01-23 (paid after the order was decided)"
        ),
    }
