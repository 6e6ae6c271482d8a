"""`sanbuting fee`: the published late-fee examples through the command line, as text in both
languages and as JSON, a Shenzhen waiver from a policy file, and the errors a caller can make."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from helpers_policy import EXAMPLE
from sanbuting.cli import app
from sanbuting.errors import SanbutingError

runner = CliRunner()

DECEMBER_2000 = shlex.split(
    "fee --ruleset cn-power-1996 --class non_residential --amount 2000 --due 2000-12-15 "
    "--paid 2001-01-18"
)
RESIDENTIAL_4_DAYS = shlex.split(
    "fee --ruleset cn-power-1996 --class residential --amount 200 --due 2020-01-15 "
    "--paid 2020-01-19"
)
SHENZHEN_WAIVED = shlex.split(
    f"fee --ruleset cn-power-1996 --policies {shlex.quote(str(EXAMPLE))} --region 440305 "
    "--issued 2020-01-10 --due 2020-01-25 --paid 2020-03-05 --class residential --amount 500"
)


def fee_json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def fee_text(args: list[str]) -> list[str]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


# -- the published examples ----------------------------------------------------------------


def test_december_2000_bill_is_172_yuan_over_two_day_ranges() -> None:
    lines = fee_text(DECEMBER_2000)

    assert lines[0].startswith("违约金计算（cn-power-1996，非居民）")
    assert lines[1:3] == [
        "  2000-12-16 至 2000-12-31  16 天 × 2000.00 元 × 2‰ = 64.00 元",
        "  2001-01-01 至 2001-01-18  18 天 × 2000.00 元 × 3‰ = 108.00 元（跨年度）",
    ]
    assert lines[3].startswith("合计 172.00 元")
    assert "计费 34 天" in lines[3]


def test_december_2000_bill_as_json() -> None:
    answer = fee_json(DECEMBER_2000)

    assert (answer["accrued_fen"], answer["charged_fen"], answer["days"]) == (17200, 17200, 34)
    assert answer["exact_yuan"] == "172.00"
    assert [
        (s["first"], s["last"], s["days"], s["rate_permille"], s["exact_yuan"])
        for s in answer["segments"]
    ] == [
        ("2000-12-16", "2000-12-31", 16, "2", "64.00"),
        ("2001-01-01", "2001-01-18", 18, "3", "108.00"),
    ]
    assert answer["waivers"] == []


def test_january_2001_bill_is_18_yuan() -> None:
    args = [*DECEMBER_2000[:6], "3000", "--due", "2001-01-15", "--paid", "2001-01-18"]

    answer = fee_json(args)

    assert (answer["accrued_fen"], answer["charged_fen"], answer["days"]) == (1800, 1800, 3)
    assert "合计 18.00 元" in "\n".join(fee_text(args))


def test_residential_fee_under_one_yuan_is_charged_the_minimum() -> None:
    answer = fee_json(RESIDENTIAL_4_DAYS)

    assert (answer["accrued_fen"], answer["charged_fen"], answer["days"]) == (100, 100, 4)
    assert answer["minimum_applied"] is True
    assert answer["exact_yuan"] == "0.80"
    assert "不足 1.00 元，按 1.00 元收取。" in fee_text(RESIDENTIAL_4_DAYS)


def test_lang_en_prints_english() -> None:
    lines = fee_text([*RESIDENTIAL_4_DAYS, "--lang", "en"])

    assert lines == [
        "Late fee (cn-power-1996, residential): bill 200.00 yuan, due 2020-01-15, "
        "paid in full 2020-01-19",
        "  2020-01-16 to 2020-01-19  4 days × 200.00 yuan × 1‰ = 0.80 yuan",
        "Total 0.80 yuan (exactly 0.80 yuan, rounded half-up to the fen once); "
        "4 accruing days, 0 waived days (0.00 yuan)",
        "Under the 1.00-yuan minimum: charged 1.00 yuan.",
    ]


# -- a waiver from a policy file -------------------------------------------------------------


def test_shenzhen_waiver_leaves_five_accruing_days() -> None:
    answer = fee_json(SHENZHEN_WAIVED)

    assert (answer["waived_days"], answer["days"]) == (35, 5)
    assert (answer["accrued_fen"], answer["waived_fen"]) == (250, 1750)
    assert answer["waivers"] == ["sz-power-waive-2020"]


def test_shenzhen_waiver_text_names_the_policy() -> None:
    lines = fee_text(SHENZHEN_WAIVED)

    assert "  2020-01-26 至 2020-02-29  35 天 免收（本应 17.50 元）" in lines
    assert lines[-1].startswith("免收依据：sz-power-waive-2020「")
    assert lines[-1].endswith("」，2020-01-01 起至 2020-03-01 前")


# -- errors ----------------------------------------------------------------------------------


def test_amount_with_three_decimals_is_refused() -> None:
    args = [*DECEMBER_2000[:6], "12.345", *DECEMBER_2000[7:]]

    result = runner.invoke(app, args)

    assert result.exit_code != 0
    assert isinstance(result.exception, SanbutingError)
    assert "'12.345' is not an amount in yuan" in str(result.exception)


def test_unknown_ruleset_names_the_known_ones() -> None:
    result = runner.invoke(app, ["fee", "--ruleset", "cn-water-2000", *DECEMBER_2000[3:]])

    assert result.exit_code != 0
    assert isinstance(result.exception, SanbutingError)
    message = str(result.exception)
    assert "cn-water-2000" in message
    for known in ("cn-power-1996", "cn-telecom-2016", "cn-gas-default"):
        assert known in message


def test_policies_without_region_is_a_usage_error() -> None:
    args = [arg for arg in SHENZHEN_WAIVED if arg not in ("--region", "440305")]

    result = runner.invoke(app, args)

    assert result.exit_code == 2
    assert "--region" in result.stderr
    assert result.stdout == ""


def test_console_entry_prints_one_line_on_stderr_and_exits_1() -> None:
    sanbuting = Path(sys.executable).parent / "sanbuting"
    args = [*DECEMBER_2000[:6], "12.345", *DECEMBER_2000[7:]]

    done = subprocess.run(
        [str(sanbuting), *args], capture_output=True, text=True, encoding="utf-8", check=False
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: '12.345' is not an amount in yuan: write digits with at most two decimals, "
        "e.g. 12.30"
    ]
