"""The run's output folder as a whole: deterministic bytes, a summary that agrees with the
files, headers on empty files, a bad policy file refused before anything is written, rejected
input rows, and `sanbuting run` on the command line."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.errors import PolicyError
from sanbuting.runner import RejectedInputs
from scenario import (
    ENGINES,
    OUTPUT_FILES,
    Outputs,
    read_table,
    rows,
    run_folder,
    write_inputs,
)

# A little of everything: an exempt (with 保電 for the prepaid meter), a defer, a waiver,
# a payment, usage, a low balance, notices and cut-offs.
MIXED = {
    "accounts": """
        account_id,utility,customer_class,region,billing_mode,tags,balance_fen
        M1,power,residential,440104,postpaid,,0
        M2,telecom,residential,420111,postpaid,,0
        M3,power,residential,440104,prepaid,,2000
        M4,power,non_residential,440305,postpaid,hospital,0
        M5,telecom,residential,420102,postpaid,,0
    """,
    "bills": """
        MB1,M1,2020-12,2021-01-05,2021-02-01,20000
        MB2,M2,2020-12,2021-01-05,2021-02-01,10000
        MB4,M4,2020-12,2021-01-05,2021-02-01,50000
        MB5,M5,2020-12,2021-01-05,2021-02-01,12000
        MB6,M5,2021-01,2021-02-05,2021-03-01,12000
    """,
    "payments": """
        MP4,M4,2021-03-20T10:00:00+08:00,60000,bank
        MP5,M5,2021-03-10T10:00:00+08:00,5000,app
    """,
    "usage": """
        M3,2021-03-01,1500
        M3,2021-03-02,1500
        M3,2021-03-03,1500
    """,
    "policies": """
        policies:
          - id: gz-power-exempt
            effect: exempt
            scope: {utility: [power], region: ["4401"]}
            window: {start: 2021-03-01, end: 2021-03-10}
          - id: tel-defer
            effect: defer
            scope: {utility: [telecom]}
            defer: {days: 10}
            window: {start: 2021-03-01, end: 2021-03-31}
          - id: waive-dec
            effect: waive_late_fee
            scope: {utility: [power]}
            bills: {period_in: ["2020-12"]}
            window: {start: 2021-02-10, end: 2021-02-20}
    """,
}
START, END = "2021-02-01", "2021-04-30"

runner = CliRunner()


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("engine", ENGINES)
def test_same_inputs_give_byte_identical_outputs(tmp_path: Path, engine: str) -> None:
    write_inputs(tmp_path / "a", **MIXED)
    write_inputs(tmp_path / "b", **MIXED)
    run_folder(tmp_path / "a", start=START, end=END, engine=engine)
    run_folder(tmp_path / "a", start=START, end=END, engine=engine, out=tmp_path / "a" / "again")
    run_folder(tmp_path / "b", start=START, end=END, engine=engine)

    first = folder_bytes(tmp_path / "a" / "out")
    assert sorted(first) == sorted(OUTPUT_FILES)
    assert folder_bytes(tmp_path / "a" / "again") == first
    assert folder_bytes(tmp_path / "b" / "out") == first  # another folder, the same bytes
    assert len(read_table(tmp_path / "a" / "out" / "actions.csv")) > 5  # not a vacuous run


@pytest.mark.parametrize("engine", ENGINES)
def test_summary_counts_agree_with_the_output_files(tmp_path: Path, engine: str) -> None:
    write_inputs(tmp_path, **MIXED)
    run_folder(tmp_path, start=START, end=END, engine=engine)
    out = Outputs.read(tmp_path / "out")
    summary = out.summary

    actions = Counter(row["action"] for row in out.actions)
    assert {a: n for a, n in summary["actions"].items() if n} == dict(actions)
    events: dict[str, Counter[str]] = defaultdict(Counter)
    for row in out.protections:
        events[row["policy_id"]][row["kind"]] += 1
    assert summary["protection_events"] == {p: dict(k) for p, k in events.items()}
    assert summary["protected_accounts"] == len({row["account_id"] for row in out.protections})
    assert summary["waived_fen"] == sum(int(row["waived_fen"]) for row in out.fees)
    assert summary["rejects"] == 0
    assert summary["period"] == {"start": START, "end": END}
    assert sorted(summary["inputs"]) == ["accounts.csv", "bills.csv", "payments.csv", "usage.csv"]
    assert list(summary["policies"]) == ["policies.yaml"]
    assert list(summary) == sorted(summary)
    # the mixed run does exercise every kind of count
    assert set(actions) >= {"remind", "notice", "disconnect", "suspend", "guarantee_on"}
    assert {row["kind"] for row in out.protections} == {"exempt", "defer"}
    assert summary["waived_fen"] > 0


# Each malformed policy file and the line its problem is reported on.
BAD_POLICIES = {
    "unknown key": (
        """
        policies:
          - id: gz-power-exempt
            effect: exempt
            scope: {utility: [power]}
            window: {start: 2021-03-01, end: 2021-03-10}
            pause: true
        """,
        6,
    ),
    "end before start": (
        """
        policies:
          - id: gz-power-exempt
            effect: exempt
            scope: {utility: [power]}
            window: {start: 2021-03-10, end: 2021-03-01}
        """,
        5,
    ),
    "unknown region prefix": (
        """
        policies:
          - id: gz-power-exempt
            effect: exempt
            scope: {utility: [power], region: ["4499"]}
            window: {start: 2021-03-01, end: 2021-03-10}
        """,
        4,
    ),
    "duplicate id": (
        """
        policies:
          - id: gz-power-exempt
            effect: exempt
            scope: {utility: [power]}
            window: {start: 2021-03-01, end: 2021-03-10}
          - id: gz-power-exempt
            effect: exempt
            scope: {utility: [power]}
            window: {start: 2021-03-01, end: 2021-03-10}
        """,
        6,
    ),
    "bad date": (
        """
        policies:
          - id: gz-power-exempt
            effect: exempt
            scope: {utility: [power]}
            window: {start: 2021-02-30, end: 2021-03-10}
        """,
        5,
    ),
}


@pytest.mark.parametrize("problem", sorted(BAD_POLICIES))
def test_a_bad_policy_file_stops_the_run_before_any_output(tmp_path: Path, problem: str) -> None:
    text, line = BAD_POLICIES[problem]
    write_inputs(tmp_path, **{**MIXED, "policies": text})
    policy_file = tmp_path / "policies.yaml"

    with pytest.raises(PolicyError) as refused:
        run_folder(tmp_path, start=START, end=END)

    assert [p.split(": ", 1)[0] for p in refused.value.problems] == [f"{policy_file}:{line}"]
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


BAD_ROWS = {
    **MIXED,
    "bills": """
        MB1,M1,2020-12,2021-01-05,2021-02-01,20000
        MB2,M2,2020-12,2021-01-05,2021-02-01,0
    """,
}


def test_rejected_rows_stop_the_run_after_writing_rejects(tmp_path: Path) -> None:
    write_inputs(tmp_path, **BAD_ROWS)

    with pytest.raises(RejectedInputs):
        run_folder(tmp_path, start=START, end=END)

    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["rejects.csv"]
    rejects = read_table(out / "rejects.csv")
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in rejects] == [
        ("bills.csv", "3", "amount_fen", "0")  # line 1 is the header
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_allow_rejects_runs_on_the_good_rows(tmp_path: Path, engine: str) -> None:
    write_inputs(tmp_path, **BAD_ROWS)
    run_folder(tmp_path, start=START, end=END, engine=engine, allow_rejects=True)
    out = Outputs.read(tmp_path / "out")

    assert len(read_table(tmp_path / "out" / "rejects.csv")) == 1
    assert out.summary["rejects"] == 1
    assert [row["bill_id"] for row in out.fees] == ["MB1"]  # MB2 was refused
    reminded = [row["bill_id"] for row in out.actions if row["action"] == "remind"]
    assert reminded == ["MB1"]
    assert {row["account_id"] for row in out.states} == {"M1", "M2", "M3", "M4", "M5"}


@pytest.mark.parametrize("engine", ENGINES)
def test_every_output_file_has_its_header_even_with_no_rows(tmp_path: Path, engine: str) -> None:
    write_inputs(
        tmp_path,
        accounts="""
            account_id,utility,customer_class,region,billing_mode,balance_fen
            Z1,power,residential,440104,prepaid,5000
        """,
    )
    run_folder(tmp_path, start=START, end=END, engine=engine)
    out = tmp_path / "out"

    assert (out / "actions.csv").read_text() == "date,account_id,action,step,bill_id,policy_id\n"
    assert (out / "protections.csv").read_text() == (
        "date,account_id,policy_id,kind,prevented_action,deferred_to\n"
    )
    assert (out / "late_fees.csv").read_text() == (
        "bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days\n"
    )
    assert read_table(out / "states.csv") == rows("""
        account_id,state,balance_fen,arrears_fen
        Z1,active,5000,0
    """)


@pytest.mark.parametrize("engine", ENGINES)
def test_no_accounts_at_all_still_writes_every_header(tmp_path: Path, engine: str) -> None:
    write_inputs(tmp_path, accounts="account_id,utility,customer_class,region")
    run_folder(tmp_path, start=START, end=END, engine=engine)

    assert (tmp_path / "out" / "states.csv").read_text() == (
        "account_id,state,balance_fen,arrears_fen\n"
    )
    assert Outputs.read(tmp_path / "out").actions == []


@pytest.mark.parametrize("engine", ENGINES)
def test_cli_run_writes_what_the_runner_writes(tmp_path: Path, engine: str) -> None:
    data = write_inputs(tmp_path, **MIXED)
    run_folder(tmp_path, start=START, end=END, engine=engine)
    cli_out = tmp_path / "cli-out"

    result = runner.invoke(
        app,
        [
            "run",
            "--data",
            str(data),
            "--policies",
            str(tmp_path / "policies.yaml"),
            "--start",
            START,
            "--end",
            END,
            "--out",
            str(cli_out),
            "--engine",
            engine,
        ],
    )

    assert result.exit_code == 0, result.output
    assert "5 accounts" in result.output
    assert folder_bytes(cli_out) == folder_bytes(tmp_path / "out")


def test_cli_run_with_rejects_exits_non_zero_unless_allowed(tmp_path: Path) -> None:
    data = write_inputs(tmp_path, **BAD_ROWS)
    args = [
        "run",
        "--data",
        str(data),
        "--policies",
        str(tmp_path / "policies.yaml"),
        "--start",
        START,
        "--end",
        END,
        "--out",
    ]

    refused = runner.invoke(app, [*args, str(tmp_path / "refused")])
    allowed = runner.invoke(app, [*args, str(tmp_path / "allowed"), "--allow-rejects"])

    assert refused.exit_code == 1
    assert "--allow-rejects" in refused.output
    assert sorted(p.name for p in (tmp_path / "refused").iterdir()) == ["rejects.csv"]
    assert allowed.exit_code == 0, allowed.output
    assert sorted(p.name for p in (tmp_path / "allowed").iterdir()) == sorted(
        [*OUTPUT_FILES, "rejects.csv"]
    )


def test_cli_run_with_a_bad_policy_file_writes_nothing(tmp_path: Path) -> None:
    text, _ = BAD_POLICIES["unknown key"]
    data = write_inputs(tmp_path, **{**MIXED, "policies": text})
    out = tmp_path / "out"

    result = runner.invoke(
        app,
        [
            "run",
            "--data",
            str(data),
            "--policies",
            str(tmp_path / "policies.yaml"),
            "--start",
            START,
            "--end",
            END,
            "--out",
            str(out),
        ],
    )

    assert result.exit_code != 0
    assert isinstance(result.exception, PolicyError)  # `main` prints its file:line lines
    assert not out.exists()
