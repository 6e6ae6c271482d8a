"""`sanbuting explain`: one account's story, on the shipped example scenarios and a few small
folders written here; the assertions look for key phrases and dates, not whole texts."""

from __future__ import annotations

import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.errors import SanbutingError
from sanbuting.explain import ExplainRequest, Lang, UnknownAccount, explain

SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
P1 = SCENARIOS / "p1-power-partial-payment"
P2 = SCENARIOS / "p2-telecom-exempt-then-defer"
D = date.fromisoformat
runner = CliRunner()


def story(folder: Path, account: str, start: str, end: str, lang: Lang = "zh") -> list[str]:
    request = ExplainRequest(
        data=folder,
        policy_files=[folder / "policies.yaml"],
        account_id=account,
        start=D(start),
        end=D(end),
        lang=lang,
    )
    return explain(request).lines


def line_of(lines: list[str], prefix: str) -> str:
    """The one line starting with `prefix` (a date, or a date range)."""
    found = [line for line in lines if line.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def dated(lines: list[str]) -> list[str]:
    return [line for line in lines if line[:4].isdigit() and line[4] == "-"]


# --- p2: telecom, an exempt and then a defer ------------------------------------------------


def test_p2_y1_exempt_then_defer_then_suspension_in_chinese() -> None:
    lines = story(P2, "Y1", "2020-01-01", "2020-03-31")
    text = "\n".join(lines)

    exempt = line_of(lines, "2020-02-20  ")
    assert "本应停机" in exempt
    assert "tel-frontline-exempt「No suspension for frontline medical staff」" in exempt
    assert "免于停机" in exempt
    assert "已逾期 31 天，超过 30 天" in exempt
    assert "2020-02-21 至 2020-02-29  政策 tel-frontline-exempt 继续免于停机" in text
    defer = line_of(lines, "2020-03-01  ")
    assert "tel-defer-30" in defer
    assert "顺延至 2020-03-31" in defer
    assert "2020-03-02 至 2020-03-30  停机暂缓，顺延至 2020-03-31（政策 tel-defer-30）" in text
    assert line_of(lines, "2020-03-31  ").startswith("2020-03-31  已停机：账单 YB1")
    assert "2020-01-21  催缴：账单 YB1" in text
    assert "2020-03-31 结束时：状态停机，预存余额 0.00 元，欠费 120.00 元" in text
    assert "违约金 25.56 元（计费 71 天）" in text
    assert "保护事件 2 次" in text


def test_p2_y1_in_english() -> None:
    lines = story(P2, "Y1", "2020-01-01", "2020-03-31", "en")
    text = "\n".join(lines)

    exempt = line_of(lines, "2020-02-20  ")
    assert "policy tel-frontline-exempt" in exempt
    assert "prevented the suspension" in exempt
    assert "deferred it to 2020-03-31" in line_of(lines, "2020-03-01  ")
    assert "2020-03-02 to 2020-03-30  The suspension is held until 2020-03-31" in text
    assert line_of(lines, "2020-03-31  ").startswith("2020-03-31  Service suspended: bill YB1")
    assert "late fee 25.56 yuan (71 accruing days), still accruing" in text


def test_p2_header_names_the_policies_in_scope_and_masks_the_phone() -> None:
    langs: tuple[Lang, ...] = ("zh", "en")
    for lang in langs:
        y1 = "\n".join(story(P2, "Y1", "2020-01-01", "2020-03-31", lang))
        y2 = "\n".join(story(P2, "Y2", "2020-01-01", "2020-03-31", lang))
        assert "132****0011" in y1
        assert "132****0012" in y2
        assert "13200000011" not in y1
        assert "13200000012" not in y2
        assert "cn-telecom-2016" in y1
        assert "湖北省 武汉市 洪山区" in y1
        assert "frontline_medical" in y1
        assert "tel-frontline-exempt" in y1
        assert "tel-frontline-exempt" not in y2  # Y2 has no frontline tag: out of scope
        assert "tel-defer-30" in y2
    zh = "\n".join(story(P2, "Y1", "2020-01-01", "2020-03-31"))
    assert "2020-01-24 至 2020-02-29（共 37 天）" in zh
    assert "期内暂停催缴" in zh


def test_p2_y2_payment_ends_the_episode_and_nothing_happens_on_the_deferred_day() -> None:
    zh = story(P2, "Y2", "2020-01-01", "2020-03-31")
    en = story(P2, "Y2", "2020-01-01", "2020-03-31", "en")

    assert "2020-02-21 至 2020-03-09  停机暂缓，顺延至 2020-03-21" in "\n".join(zh)
    payment = [line for line in zh if line.startswith("2020-03-10  缴费 103.50 元")]
    assert payment
    assert "账单 YB2 本金 90.00 元及违约金 13.50 元" in payment[0]
    assert "2020-03-10  逾期欠费已结清，本次欠费结束。" in zh
    assert "2020-03-10  Arrears cleared: this arrears episode ends." in en
    assert not [line for line in dated(zh) if line.startswith("2020-03-21")]
    assert not [line for line in en if "suspended" in line.lower() and line[:1].isdigit()]


# --- p1: power, a partial payment, notice, disconnect, reconnect ----------------------------


def test_p1_partial_payment_notice_disconnect_reconnect_and_fee() -> None:
    zh = story(P1, "X1", "2019-12-01", "2020-02-29")
    en = story(P1, "X1", "2019-12-01", "2020-02-29", "en")

    assert "缴费 400.00 元，用于：账单 XB1 本金 400.00 元；尚欠逾期费用 600.00 元" in line_of(
        zh, "2020-01-10  "
    )
    assert line_of(zh, "2020-01-20  ").startswith("2020-01-20  已发出停电通知")
    cut = line_of(zh, "2020-01-23  ")
    assert cut.startswith("2020-01-23  已停电") and "已于 2020-01-20 发出通知" in cut
    assert "2020-02-05  已复电：逾期欠费已全部结清。" in zh
    assert any("违约金 98.80 元（计费 47 天）" in line for line in zh)

    assert "bill XB1 principal 400.00 yuan; 600.00 yuan still overdue" in line_of(
        en, "2020-01-10  "
    )
    assert line_of(en, "2020-01-20  ").startswith("2020-01-20  Cut-off notice served")
    cut = line_of(en, "2020-01-23  ")
    assert "Power disconnected" in cut
    assert "a notice was served on 2020-01-20, at least 3 days before" in cut
    assert "more than 30" in cut
    assert "2020-02-05  Power reconnected: the arrears are paid in full." in en
    assert any("principal 600.00 yuan and late fee 98.80 yuan" in line for line in en)
    assert any("late fee 98.80 yuan (47 accruing days), settled at 98.80" in line for line in en)
    assert any("Relief policies for this account: none" in line for line in en)


def test_p1_started_late_sums_up_the_days_before_the_period_in_one_line() -> None:
    cases: tuple[tuple[Lang, str], ...] = (
        ("zh", "2020-01-22 之前："),
        ("en", "Before 2020-01-22: "),
    )
    for lang, before in cases:
        lines = story(P1, "X1", "2020-01-22", "2020-02-29", lang)
        summary = [line for line in lines if line.startswith(before)]
        assert len(summary) == 1
        assert "600.00" in summary[0]
        assert "2020-01-20" in summary[0]  # the notice in force on the start
        assert all(line[:10] >= "2020-01-22" for line in dated(lines))
        assert [line for line in dated(lines) if line.startswith("2020-01-23")]


# --- prepaid: balance, low balance, 保电, a meter that closes itself ------------------------


def write_folder(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


PREPAID_POLICIES = """\
policies:
  - id: hb-power
    title: 湖北欠费不停电
    effect: exempt
    scope: {utility: [power], region: ["42"]}
    window: {start: 2020-01-03, end: 2020-01-06}
  - id: hb-gas-credit
    title: 湖北燃气应急额度
    effect: emergency_credit
    scope: {utility: [gas], region: ["42"], billing_mode: [prepaid]}
    credit_fen: 1000
    window: {start: 2020-01-05, end: 2020-01-08}
"""


@pytest.fixture
def prepaid(tmp_path: Path) -> Path:
    usage = "\n".join(f"P1,2020-01-0{d},1000\nG1,2020-01-0{d},1000" for d in range(1, 10))
    folder = write_folder(
        tmp_path / "prepaid",
        accounts="""\
            account_id,utility,customer_class,region,billing_mode,state,balance_fen,phone
            P1,power,residential,420111,prepaid,active,4000,13812345678
            G1,gas,residential,420111,prepaid,active,4000,
        """,
        bills="bill_id,account_id,period,issued_on,due_on,amount_fen\n",
        payments="""\
            payment_id,account_id,paid_at,amount_fen
            PP1,P1,2020-01-08T09:00:00+08:00,5000
        """,
        usage="account_id,date,amount_fen\n" + usage + "\n",
    )
    (folder / "policies.yaml").write_text(PREPAID_POLICIES, encoding="utf-8")
    return folder


def test_prepaid_power_low_balance_guarantee_and_cut_off(prepaid: Path) -> None:
    zh = story(prepaid, "P1", "2020-01-01", "2020-01-09")
    en = story(prepaid, "P1", "2020-01-01", "2020-01-09", "en")

    assert "138****5678" in "\n".join(zh) and "13812345678" not in "\n".join(zh + en)
    assert "2020-01-01  用量扣费 10.00 元，余额 30.00 元。" in zh
    assert "2020-01-02  余额不足提醒：余额 20.00 元，低于 30.00 元。" in zh
    assert line_of(zh, "2020-01-03  开启保电").endswith("电表拒绝跳闸指令。")
    assert "2020-01-06  解除保电：政策 hb-power「湖北欠费不停电」期满。" in zh
    assert "2020-01-04  本应发出停电通知（余额 0.00 元不高于停用线 0.00 元）" in "\n".join(zh)
    assert "2020-01-05  政策 hb-power 继续免于发出停电通知（又 1 天）。" in zh
    assert "2020-01-08  Top-up of 50.00 yuan; balance 20.00 yuan." in en
    assert any(line.startswith("2020-01-06  Cut-off notice served: balance") for line in en)
    assert any(line.startswith("2020-01-07  Power disconnected: balance") for line in en)
    assert any(line.startswith("2020-01-08  Power reconnected: balance 20.00") for line in en)


def test_prepaid_gas_meter_closes_itself_and_credit_reopens_it(prepaid: Path) -> None:
    en = story(prepaid, "G1", "2020-01-01", "2020-01-09", "en")
    zh = story(prepaid, "G1", "2020-01-01", "2020-01-09")

    closed = line_of(en, "2020-01-04  The IC-card gas meter closed itself")
    assert "no relief policy stops it" in closed
    assert any(line.startswith("2020-01-05  Gas reconnected") for line in en)
    assert any("hb-gas-credit" in line and "2020-01-05" in line for line in en)
    assert any(line.startswith("2020-01-04  燃气表已自动关阀") for line in zh)
    assert any(line.startswith("2020-01-05  已复气：政策 hb-gas-credit") for line in zh)


# --- errors, rejects and the command line ----------------------------------------------------


def test_unknown_account_is_an_error_naming_it() -> None:
    with pytest.raises(UnknownAccount, match="'NOPE'"):
        story(P2, "NOPE", "2020-01-01", "2020-03-31")


def test_end_before_start_is_an_error() -> None:
    with pytest.raises(SanbutingError, match="before --start"):
        story(P2, "Y1", "2020-03-31", "2020-01-01")


def args(folder: Path, account: str, start: str, end: str, *more: str) -> list[str]:
    return [
        "explain",
        "--data",
        str(folder),
        "--policies",
        str(folder / "policies.yaml"),
        "--account",
        account,
        "--start",
        start,
        "--end",
        end,
        *more,
    ]


def test_cli_tells_the_story_in_both_languages() -> None:
    zh = runner.invoke(app, args(P2, "Y1", "2020-01-01", "2020-03-31"))
    en = runner.invoke(app, args(P2, "Y1", "2020-01-01", "2020-03-31", "--lang", "en"))

    assert zh.exit_code == 0, zh.output
    assert "2020-03-31  已停机" in zh.stdout
    assert "132****0011" in zh.stdout and "13200000011" not in zh.stdout
    assert en.exit_code == 0, en.output
    assert "prevented the suspension" in en.stdout
    assert "2020-03-31  Service suspended" in en.stdout


def test_cli_unknown_account_is_one_line_on_stderr() -> None:
    result = runner.invoke(app, args(P2, "NOPE", "2020-01-01", "2020-03-31"))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "NOPE" in result.stderr


def test_cli_refuses_an_unknown_language() -> None:
    result = runner.invoke(app, args(P2, "Y1", "2020-01-01", "2020-03-31", "--lang", "fr"))

    assert result.exit_code == 1
    assert "--lang" in result.stderr


def test_cli_runs_on_the_good_rows_and_warns_about_rejects(tmp_path: Path) -> None:
    folder = tmp_path / "p2"
    shutil.copytree(P2, folder)
    with (folder / "payments.csv").open("a", encoding="utf-8") as payments:
        payments.write("YP2,Y1,not-a-time,100,app\n")

    result = runner.invoke(app, args(folder, "Y1", "2020-01-01", "2020-03-31", "--lang", "en"))

    assert result.exit_code == 0, result.output
    assert "warning: 1 input rows rejected" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "2020-03-31  Service suspended" in result.stdout
