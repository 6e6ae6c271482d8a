"""`sanbuting validate`: counts per file, the first rejects on screen with phone numbers
masked, every reject in rejects.csv, and exit 0 or 1."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from helpers_inputs import BROKEN_REJECTS, DATA
from sanbuting.cli.app import app
from sanbuting.cli.inputs import format_reject  # importing it registers `validate`
from sanbuting.errors import InputFileError
from sanbuting.io.rejects import Reject

# --- sanbuting validate -------------------------------------------------------------------

runner = CliRunner()


def test_validate_good_folder_exits_0_with_an_empty_rejects_csv(tmp_path: Path) -> None:
    out = tmp_path / "out" / "nested"

    result = runner.invoke(app, ["validate", "--data", str(DATA / "good"), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "bills.csv: 3 rows read, 3 loaded, 0 rejected" in result.output
    assert "1 repeated payment ignored" in result.output
    assert (out / "rejects.csv").read_text(encoding="utf-8") == "file,line,column,value,reason\n"


def test_validate_broken_folder_exits_1_and_writes_every_reject(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", "--data", str(DATA / "broken"), "--out", str(tmp_path)]
    )

    assert result.exit_code == 1
    assert "accounts.csv: 13 rows read, 2 loaded, 11 rejected" in result.output
    assert "accounts.csv:5: utility=water: unknown value" in result.output
    assert "first 20 of 35 rejects:" in result.output
    assert "13812345678" not in result.output
    written = pl.read_csv(tmp_path / "rejects.csv", infer_schema=False).fill_null("")
    assert [(f, int(n), c, v, r) for f, n, c, v, r in written.rows()] == BROKEN_REJECTS


def test_validate_writes_to_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["validate", "--data", str(DATA / "missing_column")])

    assert result.exit_code == 1
    assert (tmp_path / "rejects.csv").is_file()


def test_validate_lets_an_unreadable_file_reach_the_error_edge(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--data", str(DATA / "gbk"), "--out", str(tmp_path)])

    assert isinstance(result.exception, InputFileError)
    assert result.exit_code != 0


def test_validate_answers_help() -> None:
    result = runner.invoke(app, ["validate", "--help"])

    assert result.exit_code == 0
    assert "--data" in result.output
    assert "rejects.csv" in result.output


def test_a_phone_number_in_a_reject_is_printed_masked() -> None:
    reject = Reject("accounts.csv", 2, "phone", "13812345678", "bad phone")

    assert format_reject(reject) == "accounts.csv:2: phone=138****5678: bad phone"
