"""Activating relief-policy sets in the store, on SQLite and PostgreSQL: each activation is a
new version with who and when; a bad file is refused whole and the active set stays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.errors import PolicyError
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.policies import activate, active
from store_databases import BACKENDS, database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
AT = datetime(2020, 1, 24, 1, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        yield value


def test_versions_are_added_and_a_bad_file_changes_nothing(url: str, tmp_path: Path) -> None:
    engine = make_engine(url)
    open_session = sessions(engine)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "policies:\n  - id: x\n    effect: exempt\n    scope: {}\n"
        "    window: {start: 2020-02-01, end: 2020-01-01}\n",
        encoding="utf-8",
    )
    with open_session.begin() as session:
        first = activate(session=session, path=EXAMPLE, by="policy-admin", at=AT)
    assert (first.version, first.policies) == (1, 11)
    with pytest.raises(PolicyError, match=r"bad\.yaml:5"), open_session.begin() as session:
        activate(session=session, path=bad, by="policy-admin", at=AT)
    with open_session.begin() as session:
        version, loaded = active(session=session)
        assert version is not None and version.version == 1
        assert version.activated_by == "policy-admin"
        assert [p.id for p in loaded][:2] == [
            "gd-power-exempt-residential-2020",
            "gd-power-exempt-epidemic-key-2020",
        ]
    with open_session.begin() as session:
        assert activate(session=session, path=EXAMPLE, by="supervisor", at=AT).version == 2
    engine.dispose()


def test_policy_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANBUTING_DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    shown = runner.invoke(app, ["policy", "show"])
    assert "no policy set has been activated" in shown.output
    done = runner.invoke(app, ["policy", "activate", str(EXAMPLE), "--by", "admin"])
    assert done.exit_code == 0, done.output
    assert "policy version 1 active: 11 policies" in done.output
    assert (
        "version 1: 2020-epidemic.yaml, 11 policies, activated by admin"
        in runner.invoke(app, ["policy", "show"]).output
    )
