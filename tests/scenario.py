"""A small harness for scenario tests: literal input tables in, the run's output tables out.

    out = scenario(
        tmp_path,
        engine=engine,
        accounts='''
            account_id,utility,customer_class,region
            A1,power,residential,440104
        ''',
        bills='''
            B1,A1,2021-04,2021-05-05,2021-05-20,20000   # no header: the contract's is added
        ''',
        start="2021-05-01",
        end="2021-07-31",
    )
    assert out.actions == rows('''
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,A1,remind,remind,B1,
    ''')

Every literal is dedented; `#` starts a comment that runs to the end of the line (no input or
output value holds a `#`); blank lines are dropped. An input text whose first line is not a
header (it does not start with the table's first column) gets the contract's full header.
`payments` and `usage` files are written only when given; `bills.csv` always (header only
when empty). Output tables come back as lists of dicts of strings, exactly as written, in
file order, so a comparison checks the order too.

`ENGINES` lists the engines every scenario runs under: test modules parametrize over it.
"""

from __future__ import annotations

import csv
import json
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sanbuting.runner import RunOutcome, RunRequest, run

ENGINES = ("reference", "fast")
"""Engines every scenario runs under (the fast engine joins when it exists)."""

HEADERS = {
    "accounts": (
        "account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,"
        "credit_limit_fen,phone"
    ),
    "bills": "bill_id,account_id,period,issued_on,due_on,amount_fen",
    "payments": "payment_id,account_id,paid_at,amount_fen,channel",
    "usage": "account_id,date,amount_fen",
    "holds": "hold_id,account_id,kind,from,until,steps,amount_fen,instalments,reason,set_by",
}
"""The contract's input headers, added to a literal that starts with a data row."""

OUTPUT_FILES = ("actions.csv", "protections.csv", "late_fees.csv", "states.csv", "summary.json")

Table = list[dict[str, str]]


def lines(text: str) -> list[str]:
    """The literal's lines: dedented, `#` comments and surrounding blanks removed."""
    kept = (line.split("#", 1)[0].strip() for line in textwrap.dedent(text).splitlines())
    return [line for line in kept if line]


def rows(text: str) -> Table:
    """A CSV literal (header first) as a list of dicts, e.g. an expected output table."""
    return list(csv.DictReader(lines(text)))


def pick(table: Table, columns: str) -> Table:
    """Only the comma-separated `columns` of each row."""
    names = columns.split(",")
    return [{name: row[name] for name in names} for row in table]


def input_csv(table: str, text: str) -> str:
    """The file text of an input literal, with the contract's header if it has none."""
    body = lines(text)
    header = HEADERS[table]
    first_column = header.split(",", 1)[0]
    if not body or not body[0].startswith(first_column):
        body.insert(0, header)
    return "\n".join(body) + "\n"


def write_inputs(
    folder: Path,
    *,
    accounts: str,
    bills: str = "",
    payments: str = "",
    usage: str = "",
    policies: str = "policies: []",
    holds: str = "",
) -> Path:
    """Write an input folder `folder/data` and `folder/policies.yaml`; returns the data folder."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "accounts.csv").write_text(input_csv("accounts", accounts), encoding="utf-8")
    (data / "bills.csv").write_text(input_csv("bills", bills), encoding="utf-8")
    if payments:
        (data / "payments.csv").write_text(input_csv("payments", payments), encoding="utf-8")
    if usage:
        (data / "usage.csv").write_text(input_csv("usage", usage), encoding="utf-8")
    if holds:
        (data / "holds.csv").write_text(input_csv("holds", holds), encoding="utf-8")
    (folder / "policies.yaml").write_text(textwrap.dedent(policies).lstrip("\n"), encoding="utf-8")
    return data


def read_table(path: Path) -> Table:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Outputs:
    """A run's output folder read back."""

    folder: Path
    actions: Table
    protections: Table
    fees: Table
    states: Table
    summary: dict[str, Any]
    relief: Table
    """`account_relief.csv` (empty when the run had no `holds` file and wrote none)."""

    @classmethod
    def read(cls, folder: Path) -> Outputs:
        return cls(
            folder=folder,
            actions=read_table(folder / "actions.csv"),
            protections=read_table(folder / "protections.csv"),
            fees=read_table(folder / "late_fees.csv"),
            states=read_table(folder / "states.csv"),
            summary=json.loads((folder / "summary.json").read_text(encoding="utf-8")),
            relief=(
                read_table(folder / "account_relief.csv")
                if (folder / "account_relief.csv").exists()
                else []
            ),
        )


def run_folder(
    folder: Path,
    *,
    start: str,
    end: str,
    engine: str = "reference",
    allow_rejects: bool = False,
    out: Path | None = None,
) -> RunOutcome:
    """Run the inputs `write_inputs` wrote under `folder` into `out` (`folder/out`)."""
    return run(
        RunRequest(
            data=folder / "data",
            policy_files=[folder / "policies.yaml"],
            start=date.fromisoformat(start),
            end=date.fromisoformat(end),
            out=out or folder / "out",
            engine=engine,
            allow_rejects=allow_rejects,
        )
    )


def scenario(
    tmp: Path,
    *,
    accounts: str,
    bills: str = "",
    payments: str = "",
    usage: str = "",
    policies: str = "policies: []",
    holds: str = "",
    start: str,
    end: str,
    engine: str = "reference",
) -> Outputs:
    """Write the literal inputs under `tmp`, run `start`..`end` with `engine`, read the outputs."""
    write_inputs(
        tmp,
        accounts=accounts,
        bills=bills,
        payments=payments,
        usage=usage,
        policies=policies,
        holds=holds,
    )
    run_folder(tmp, start=start, end=end, engine=engine)
    return Outputs.read(tmp / "out")
