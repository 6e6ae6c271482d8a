"""The worked examples shipped in `examples/scenarios/`: each folder is run with its `args` and
`policies.yaml`, and its outputs compared with its `expected_*.csv` the way the contract's
scenario check compares them: only the columns each expected file shows, rows as sets (order
free, an empty cell meaning empty or absent), and for fees and states only the rows named
(by their first column). The expected rows and their derivations are in each README.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from sanbuting.runner import RunRequest, run
from scenario import ENGINES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
FOLDERS = sorted(path for path in EXAMPLES.iterdir() if path.is_dir())
COMPARED = (
    ("actions", "actions.csv"),
    ("protections", "protections.csv"),
    ("fees", "late_fees.csv"),
    ("states", "states.csv"),
)


def cells(path: Path, columns: list[str] | None = None) -> tuple[list[str], list[tuple[str, ...]]]:
    """The columns (the file's own unless given) and each row's trimmed cells for them."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        names = columns if columns is not None else list(reader.fieldnames or [])
        return names, [tuple((row.get(c) or "").strip() for c in names) for row in reader]


def run_args(folder: Path) -> dict[str, str]:
    """`--start X --end Y` from the folder's `args` file."""
    words = (folder / "args").read_text(encoding="utf-8").split()
    return dict(zip(words[::2], words[1::2], strict=True))


def test_the_examples_are_there() -> None:
    assert [f.name for f in FOLDERS][:2] == [
        "p1-power-partial-payment",
        "p2-telecom-exempt-then-defer",
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("folder", FOLDERS, ids=lambda path: path.name)
def test_shipped_example_matches_its_expected_files(
    folder: Path, engine: str, tmp_path: Path
) -> None:
    args = run_args(folder)
    run(
        RunRequest(
            data=folder,
            policy_files=[folder / "policies.yaml"],
            start=date.fromisoformat(args["--start"]),
            end=date.fromisoformat(args["--end"]),
            out=tmp_path,
            engine=engine,
        )
    )
    compared = 0
    for name, produced in COMPARED:
        expected_file = folder / f"expected_{name}.csv"
        if not expected_file.exists():
            continue
        columns, expected = cells(expected_file)
        _, got = cells(tmp_path / produced, columns)
        if name in ("fees", "states"):
            named = {row[0] for row in expected}
            got = [row for row in got if row[0] in named]
        assert sorted(got) == sorted(expected), f"{folder.name}: {produced}"
        compared += 1
    assert compared > 0, f"{folder.name} has no expected_*.csv"
