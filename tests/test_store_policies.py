"""Activating relief-policy sets in the store, on SQLite and PostgreSQL: each activation is a
new version of one scope (a company's own set, or the deployment's) with who and when; a bad
file is refused whole and the sets in force stay; the CLI says which company (`--company`,
`--deployment`, or the only company there is, else an error listing them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from sanbuting.cli import app
from sanbuting.errors import PolicyError
from sanbuting.jobs.activation import activate
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company
from sanbuting.store.policy_versions import _PARSED, in_force, policies_for
from sanbuting.store.web_models import AuditEntry
from store_databases import BACKENDS, database, import_into, write_folder

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "policies" / "2020-epidemic.yaml"
AT = datetime(2020, 1, 24, 1, 0, tzinfo=UTC)
ACCOUNTS = """
    account_id,utility,customer_class,region
    P1,power,residential,420102
    S1,gas,residential,420102
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,P1,2019-12,2019-12-05,2019-12-20,10000
"""


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        yield value


def import_two_companies(url: str, tmp_path: Path) -> None:
    import_into(url, write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS), tmp_path)


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
        first = activate(session=session, path=EXAMPLE, by="policy-admin", at=AT, company=None)
    assert (first.version, first.policies) == (1, 11)
    with pytest.raises(PolicyError, match=r"bad\.yaml:5"), open_session.begin() as session:
        activate(session=session, path=bad, by="policy-admin", at=AT, company=None)
    import_two_companies(url, tmp_path)
    with open_session.begin() as session:
        power = session.scalar(select(Company).where(Company.code == "power"))
        assert power is not None
        sets = in_force(session=session, company_id=power.id)
        assert sets.deployment is not None and sets.own is None
        assert (sets.deployment.version, sets.deployment.activated_by) == (1, "policy-admin")
        assert [p.id for p in sets.policies][:2] == [
            "gd-power-exempt-residential-2020",
            "gd-power-exempt-epidemic-key-2020",
        ]
    with open_session.begin() as session:
        again = activate(session=session, path=EXAMPLE, by="supervisor", at=AT, company=None)
        assert (again.version, again.companies) == (2, ())  # the same set: nothing changed
    with (  # the same ids as the deployment's: refused
        pytest.raises(PolicyError, match="in force in the deployment-wide set"),
        open_session.begin() as session,
    ):
        activate(session=session, path=EXAMPLE, by="x", at=AT, company=power)
    engine.dispose()


def said(result: Result) -> str:
    """What a command printed, or the one-line error `sanbuting`'s edge would print."""
    return result.output + str(result.exception or "")


def test_the_policy_commands_say_which_company(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setenv("SANBUTING_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    shown = runner.invoke(app, ["policy", "show"])
    assert "deployment: no set activated" in shown.output
    done = runner.invoke(app, ["policy", "activate", str(EXAMPLE), "--by", "admin"])
    assert done.exit_code == 0, done.output
    assert "no company yet: the set covers the whole deployment" in done.output
    assert "policy version 1 in force for deployment: 11 policies" in done.output
    assert "deployment: version 1, 2020-epidemic.yaml, 11 policies, activated by admin" in (
        runner.invoke(app, ["policy", "show"]).output
    )

    import_two_companies(url, tmp_path)
    own = tmp_path / "own.yaml"
    own.write_text(
        "policies:\n  - id: own-exempt\n    effect: exempt\n    scope: {utility: [gas]}\n"
        "    window: {start: 2020-02-01, end: 2020-03-01}\n",
        encoding="utf-8",
    )
    several = runner.invoke(app, ["policy", "activate", str(own)])
    assert several.exit_code == 1
    assert "several companies (gas, power)" in said(several) and "--company" in said(several)
    both = runner.invoke(app, ["policy", "activate", str(own), "--company", "gas", "--deployment"])
    assert both.exit_code == 1 and "not both" in said(both)
    unknown = runner.invoke(app, ["policy", "activate", str(own), "--company", "water"])
    assert unknown.exit_code == 1 and "companies: gas, power" in said(unknown)
    gas = runner.invoke(app, ["policy", "activate", str(own), "--company", "gas", "--by", "ops"])
    assert gas.exit_code == 0, gas.output
    assert "policy version 2 in force for gas: 1 policies" in gas.output
    listing = runner.invoke(app, ["policy", "show"]).output
    assert "gas: version 2, own.yaml" in listing and "gas: 12 policies in force" in listing
    assert "power: no set activated" in listing and "power: 11 policies in force" in listing

    engine = make_engine(url)
    with sessions(engine).begin() as session:
        audited = session.execute(
            select(Company.code, AuditEntry.actor, AuditEntry.action)
            .join(Company, Company.id == AuditEntry.company_id)
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert [tuple(row) for row in audited] == [("gas", "ops (command line)", "activate_policies")]


def test_the_light_read_of_the_policies_in_force_equals_the_versions(
    url: str, tmp_path: Path
) -> None:
    """`policies_for` (two hashes in one query, the parsed sets cached) gives what
    `in_force` gives: the deployment's set, then the company's own; a set activated in the
    same transaction is seen at once; a set not parsed yet in this process is parsed."""
    import_two_companies(url, tmp_path)
    own = tmp_path / "own.yaml"
    own.write_text(
        "policies:\n  - id: own-gas-waive\n    effect: waive_late_fee\n"
        "    scope: {utility: gas}\n    window: {start: 2020-02-01, end: 2020-03-01}\n",
        encoding="utf-8",
    )
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        gas = session.scalar(select(Company).where(Company.code == "gas"))
        assert gas is not None
        assert policies_for(session=session, company_id=gas.id) == []
        activate(session=session, path=EXAMPLE, by="t", at=AT, company=None)
        activate(session=session, path=own, by="t", at=AT, company=gas)
        light = policies_for(session=session, company_id=gas.id)
        assert [p.id for p in light][-1] == "own-gas-waive"
        assert len(light) == 12
        assert light == list(in_force(session=session, company_id=gas.id).policies)
    _PARSED.clear()
    with sessions(engine).begin() as session:
        assert policies_for(session=session, company_id=gas.id) == light
    engine.dispose()
