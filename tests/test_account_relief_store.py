"""Account relief through the store (docs/account-relief.md), on SQLite and PostgreSQL: a
`holds` file imported with the other inputs, the policies activated, `daily` run in uneven
batches (the later batches resume from checkpoints with the holds compiled on every payment)
exports exactly what `sanbuting run` writes; a lock imported later, from a day not yet run,
holds that day's step. Instalment plans through the store: `test_account_relief_ledger`."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sanbuting.cli import app
from sanbuting.store.migrations import upgrade
from scenario import input_csv, rows
from store_databases import BACKENDS, database

OUTPUT_FILES = (
    "actions.csv",
    "protections.csv",
    "late_fees.csv",
    "states.csv",
    "summary.json",
    "account_relief.csv",
)
POWER = "power,residential,440305"
ACCOUNTS = f"""
    account_id,utility,customer_class,region,tags
    L1,{POWER},
    P1,{POWER},
    P2,{POWER},
    E1,{POWER},hospital
    N1,{POWER},
"""
BILLS = """
    B1,L1,2020-01,2020-01-01,2020-01-15,10000
    B2,P1,2020-01,2020-01-01,2020-01-15,10000
    B3,P2,2020-01,2020-01-01,2020-01-15,10000
    B4,E1,2020-01,2020-01-01,2020-01-15,10000
    B5,N1,2020-01,2020-01-01,2020-01-15,10000
"""
PAYMENTS = """
    X1,P1,2020-02-17T09:00:00+08:00,3000
    X2,P2,2020-02-17T09:00:00+08:00,4000
    X3,P2,2020-02-21T09:00:00+08:00,6370
"""
HOLDS = """
    H1,L1,hold,2020-02-10,2020-02-29,all,,,dispute,S001
    H2,P1,promise,2020-02-16,2020-02-19,,10000,,hardship,S003
    H3,P2,promise,2020-02-16,2020-02-25,,10370,,hardship,S003
    H4,E1,hold,2020-02-10,2020-02-20,,,,medical,S001
"""
POLICIES = """
policies:
  - id: hospitals
    effect: exempt
    scope: {utility: [power], tags: [hospital]}
    window: {start: 2020-02-01, end: 2020-03-01}
"""


def cli(*args: str, url: str | None = None, code: int = 0) -> Result:
    env = {"SANBUTING_DATABASE_URL": url} if url else None
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


def folder(root: Path, holds: str) -> Path:
    data = root / "data"
    data.mkdir(parents=True)
    for table, text in (
        ("accounts", ACCOUNTS),
        ("bills", BILLS),
        ("payments", PAYMENTS),
        ("holds", holds),
    ):
        (data / f"{table}.csv").write_text(input_csv(table, text), encoding="utf-8")
    (root / "policies.yaml").write_text(POLICIES.lstrip("\n"), encoding="utf-8")
    return data


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        yield value


def test_the_store_runs_holds_as_sanbuting_run_does(url: str, tmp_path: Path) -> None:
    data = folder(tmp_path, HOLDS)
    policies = str(tmp_path / "policies.yaml")
    ran = tmp_path / "ran"
    cli("run", "--data", str(data), "--policies", policies, "--start", "2020-01-01",
        "--end", "2020-03-31", "--out", str(ran))  # fmt: skip
    cli("db", "import", str(data), "--start", "2020-01-01", url=url)
    cli("policy", "activate", policies, "--deployment", "--by", "test", url=url)
    cli("daily", "--through", "2020-02-15", url=url)
    cli("daily", "--date", "2020-02-16", url=url)
    cli("daily", "--through", "2020-03-31", url=url)
    cli("db", "export", str(tmp_path / "exported"), url=url)
    for name in OUTPUT_FILES:
        assert (tmp_path / "exported" / name).read_bytes() == (ran / name).read_bytes(), name
    with (ran / "protections.csv").open(encoding="utf-8", newline="") as handle:
        assert list(csv.DictReader(handle)) == rows("""
            date,account_id,policy_id,kind,prevented_action,deferred_to
            2020-02-15,E1,hospitals,exempt,notice,
            2020-02-15,L1,H1,hold,notice,
            2020-02-18,P1,H2,promise,disconnect,
            2020-02-18,P2,H3,promise,disconnect,
        """)


def test_a_lock_set_before_its_day_is_run_holds_that_day(url: str, tmp_path: Path) -> None:
    """N1's notice is due on 02-15. The store has run through 02-14 when a lock of N1 from
    02-15 to 02-20 is imported: the run of 02-15 on resumes from the checkpoint of 02-14 and
    the notice waits until 02-21 (the cut-off: 02-24)."""
    data = folder(tmp_path / "first", HOLDS)
    cli("db", "import", str(data), "--start", "2020-01-01", url=url)
    cli("daily", "--through", "2020-02-14", url=url)
    later = folder(tmp_path / "later", HOLDS + "H5,N1,hold,2020-02-15,2020-02-20,,,,hardship,S9")
    imported = cli("db", "import", str(later), url=url)
    assert (
        "added 0 accounts, 0 bills, 0 payments, 0 usage, 1 holds; 17 rows were already in the store"
        in imported.output
    )
    cli("daily", "--through", "2020-03-31", url=url)
    cli("db", "export", str(tmp_path / "exported"), url=url)
    with (tmp_path / "exported" / "actions.csv").open(encoding="utf-8", newline="") as handle:
        mine = [(r["date"], r["action"]) for r in csv.DictReader(handle) if r["account_id"] == "N1"]
    assert mine == [
        ("2020-01-16", "remind"),
        ("2020-02-21", "notice"),
        ("2020-02-24", "disconnect"),
    ]
