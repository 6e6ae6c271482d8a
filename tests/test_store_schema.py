"""The store's schema on SQLite and PostgreSQL: migrations up and down, and the invariants the
database itself enforces (positive amounts, unique idempotency keys, an append-only ledger,
balanced postings on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.store.database import make_engine
from sanbuting.store.migrations import downgrade, upgrade
from store_databases import BACKENDS, database

TABLES = {
    "companies",
    "accounts",
    "bills",
    "payments",
    "postings",
    "ledger_lines",
    "outbox",
    "policy_versions",
    "runs",
    "actions",
    "protection_events",
    "usage",
    "imports",
    "customers",
    "login_codes",
    "bindings",
    "holders",
    "staff",
    "web_sessions",
    "audit_log",
    "applications",
    "application_events",
    "checkout_orders",
    "sms_opt_outs",
    "sms_refusals",
    "sms_broadcasts",
}
NOW = datetime(2020, 2, 3, 2, 15, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database(request.param, tmp_path)


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO companies (id, code, name, utility, ruleset) VALUES "
                "(1, 'gd-power', '廣東電網', 'power', 'cn-power-1996')"
            )
        )
        c.execute(
            text(
                "INSERT INTO accounts (id, company_id, account_id, utility, "
                "customer_class, region, billing_mode, tags, state, credit_limit_fen) "
                "VALUES (1, 1, 'A1', 'power', 'residential', '440305', 'postpaid', '', "
                "'active', 0)"
            )
        )
    yield engine
    engine.dispose()


def test_migrations_go_up_to_head_and_back_down(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()
    downgrade(url)
    engine = make_engine(url)
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()


def test_amounts_must_be_positive(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO bills (company_id, bill_id, account, period, issued_on, "
                "due_on, amount_fen) VALUES (1, 'B1', 1, '2020-01', :d, :d, 0)"
            ),
            {"d": date(2020, 1, 5)},
        )


def test_a_payment_key_is_unique_per_company(engine: Engine) -> None:
    insert = text(
        "INSERT INTO payments (company_id, key, content, account, paid_at, "
        "amount_fen) VALUES (1, 'K1', 'c', 1, :at, 100)"
    )
    with engine.begin() as c:
        c.execute(insert, {"at": NOW})
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(insert, {"at": NOW})


def _posting(engine: Engine, key: str, lines: list[int]) -> None:
    with engine.begin() as c:
        posting = c.execute(
            text(
                "INSERT INTO postings (company_id, key, kind, account, effective_on, created_at) "
                "VALUES (1, :key, 'payment', 1, :on, :at) RETURNING id"
            ),
            {"key": key, "on": date(2020, 2, 3), "at": NOW},
        ).scalar_one()
        for amount in lines:
            c.execute(
                text(
                    "INSERT INTO ledger_lines (posting, book, amount_fen) VALUES (:p, 'cash', :a)"
                ),
                {"p": posting, "a": amount},
            )


def test_the_ledger_is_append_only(engine: Engine) -> None:
    _posting(engine, "P1", [100, -100])
    for change in (
        "UPDATE ledger_lines SET amount_fen = 5",
        "DELETE FROM ledger_lines",
        "DELETE FROM postings",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text(change))


def test_zero_lines_are_refused(engine: Engine) -> None:
    with pytest.raises(IntegrityError):
        _posting(engine, "P0", [0])


def test_postgresql_refuses_an_unbalanced_posting_at_commit(engine: Engine, url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("SQLite has no deferred constraint triggers: the posting service checks")
    _posting(engine, "OK", [250, -200, -50])
    with pytest.raises(DBAPIError, match="not balanced"):
        _posting(engine, "BAD", [250, -200])


def test_db_init_creates_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'sanbuting.db'}"
    monkeypatch.setenv("SANBUTING_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["db", "init"])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()
