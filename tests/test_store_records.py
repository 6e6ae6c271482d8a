"""The two ways the store hands accounts to the engine agree, on SQLite and PostgreSQL:
`store.records.load_records` (row by row, what a payment uses) builds exactly the records that
`accounts_from_frames(*load_frames(...))` builds (the daily run's fast path), for a generated
dataset with payments posted at odd instants (same day, same second, microseconds, keys that
sort before and after); and `entries_arrears` over an account's derived entries equals the
ledger's `arrears` once booked, for every account on several days, as do the arrears and
balance an account's position tells (the portal's and the API's figures)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.engine.relief import relief_for
from sanbuting.engine.simulate import accounts_from_frames
from sanbuting.jobs.activation import activate
from sanbuting.ledger.entries import account_entries
from sanbuting.ledger.service import arrears, balances, entries_arrears
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.relief.position import account_position
from sanbuting.rules import load_ruleset
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.frames import load_frames
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company
from sanbuting.store.policy_versions import deployment_policies
from sanbuting.store.records import load_records
from store_databases import BACKENDS, database, import_into

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
ORIGIN = date(2020, 1, 1)
DAYS = (date(2020, 1, 1), date(2020, 2, 3), date(2020, 2, 21), date(2020, 3, 31))
PLUS8 = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated") / "data"
    result = CliRunner().invoke(
        app, ["generate", "--accounts", "150", "--seed", "11", "--out", str(folder)]
    )
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path, generated: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        engine = make_engine(value)
        with sessions(engine).begin() as session:
            activate(
                session=session,
                path=POLICIES,
                by="test",
                at=datetime(2020, 1, 1, tzinfo=UTC),
                company=None,
            )
        engine.dispose()
        import_into(value, generated, tmp_path, ORIGIN)
        yield value


# Payments at instants that test the ordering: the same second twice (keys decide), a
# microsecond apart, 23:59:59 local (still that day) and 00:00 local (the next day).
ODD_PAYMENTS = (
    ("k-b", datetime(2020, 2, 3, 10, 0, 0, tzinfo=PLUS8), 1234),
    ("k-a", datetime(2020, 2, 3, 10, 0, 0, tzinfo=PLUS8), 100),
    ("k-c", datetime(2020, 2, 3, 10, 0, 0, 1, tzinfo=PLUS8), 55),
    ("k-d", datetime(2020, 2, 3, 23, 59, 59, tzinfo=PLUS8), 777),
    ("k-e", datetime(2020, 2, 3, 16, 0, 0, tzinfo=UTC), 999),
)


def test_row_records_equal_frame_records_and_arrears_agree(url: str) -> None:
    engine = make_engine(url)
    try:
        with sessions(engine).begin() as session:
            policies = deployment_policies(session)
            first = session.scalars(select(Account).order_by(Account.account_id)).first()
            assert first is not None
            for key, at, fen in ODD_PAYMENTS:
                post_payment(
                    session=session,
                    payment=PaymentIn(first.account_id, fen, key, at),
                    policies=policies,
                    now=datetime(2020, 4, 1, tzinfo=UTC),
                )
        with sessions(engine).begin() as session:
            companies = session.scalars(select(Company)).all()
            ids = session.scalars(select(Account.id).order_by(Account.id)).all()
            by_rows = load_records(session, ids)
            by_frames = accounts_from_frames(
                *load_frames(session, [company.id for company in companies], None)
            )
            assert len(by_rows) == len(ids) == 150
            assert by_rows == by_frames
            odd = next(r for r in by_rows if r.account_id == first.account_id)
            assert [p.payment_id for p in odd.payments if p.payment_id.startswith("k-")] == [
                "k-a",
                "k-b",
                "k-c",
                "k-d",
                "k-e",
            ]
            assert {p.paid_on for p in odd.payments if p.payment_id in ("k-d", "k-e")} == {
                date(2020, 2, 3),
                date(2020, 2, 4),
            }

            stored = {a.account_id: a for a in session.scalars(select(Account))}
            company_of = {c.id: c for c in companies}
            compared = 0
            for record in by_rows:
                account = stored[record.account_id]
                company = company_of[account.company_id]
                assert company.origin is not None
                entries = account_entries(
                    record,
                    load_ruleset(company.ruleset),
                    relief_for(record, policies),
                    company.origin,
                    DAYS[-1],
                )
                for day in DAYS:
                    expected = arrears(session=session, account=account, on=day)
                    assert entries_arrears(entries, record, day) == expected, (record, day)
                    compared += expected > 0
                # The position's figures, on these days and on each bill's due date (the day
                # before its principal counts as arrears).
                for day in sorted({*DAYS, *(bill.due_on for bill in record.bills)}):
                    told = account_position(session=session, account=account, on=day)
                    credit = balances(session=session, account=account.id, on=day).get("credit", 0)
                    assert (told.arrears_fen, told.balance_fen) == (
                        arrears(session=session, account=account, on=day),
                        -credit,
                    ), (record.account_id, day)
            assert compared > 20  # the comparison saw real arrears, not only zeros
    finally:
        engine.dispose()
