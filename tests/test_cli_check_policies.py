"""`sanbuting check-policies`: a valid set printed in words, every problem of an invalid
one on stderr with exit 1, and the words it describes scopes, effects and windows in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from helpers_policy import EXAMPLE, GOOD
from sanbuting.cli.app import app
from sanbuting.cli.policies import describe_effect, describe_scope, describe_window
from sanbuting.policy import Scope, Window, load_policies

# -- check-policies ----------------------------------------------------------------------------


def test_check_policies_prints_the_example() -> None:
    result = CliRunner().invoke(app, ["check-policies", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "gd-power-exempt-residential-2020" in result.stdout
    assert "crgas-hubei-exempt-2020" in result.stdout
    assert "power · residential · in 广东省 (44) except 深圳市 (4403)" in result.stdout
    assert "examples/policies/2020-epidemic.yaml:18" in result.stdout
    assert "2020-01-24 → 2020-02-29" in result.stdout
    assert "11 policies in 1 file: valid." in result.stdout
    assert result.stderr == ""


def test_check_policies_reports_problems_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("end: 2020-03-01", "end: 2020-01-01"), encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    result = CliRunner().invoke(app, ["check-policies", str(EXAMPLE), str(bad), str(missing)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{bad}:5: window end 2020-01-01 is not after start 2020-01-24 (policy 'gd-power'; "
        "the window is [start, end): end is the first day no longer covered)",
        f"{missing}: cannot read the file (No such file or directory)",
    ]


def test_descriptions_in_words() -> None:
    loaded = {p.id: p for p in load_policies([EXAMPLE])}
    guangdong = loaded["gd-power-exempt-epidemic-key-2020"]
    assert describe_scope(guangdong.scope) == (
        "power · in 广东省 (44) except 深圳市 (4403) · tagged hospital or epidemic_key"
    )
    assert describe_scope(Scope()) == "every account"
    assert describe_scope(Scope(region=("4403", "420102"))) == (
        "in 湖北省 武汉市 江岸区 (420102), 广东省 深圳市 (4403)"
    )
    assert describe_effect(loaded["telecom-defer-30-2020"]) == "defer (緩停) by 30 days"
    assert describe_effect(loaded["telecom-exempt-hubei-2020"]) == (
        "exempt (免停); reconnects those cut off"
    )
    assert describe_effect(loaded["sz-power-waive-2020"]) == (
        "waive late fee (免違約金): bills issued in 2020-01, 2020-02"
    )
    assert describe_effect(loaded["crgas-hubei-credit-2020"]) == "emergency credit 100.00 yuan"
    assert describe_window(Window(date(2020, 1, 31), date(2020, 3, 1))) == (
        "2020-01-31 → 2020-02-29 (30 days)"
    )
