"""The roll-up of a run (`reports.rollup`, docs/reports.md): its totals are `summary.json`'s and
the output files' for the shipped examples, a tiny scenario's tables are as literal as its
story, a `--from`/`--to` range keeps what is dated inside it, and companies are named by a
companies file and the accounts' `company` column."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sanbuting.errors import SanbutingError
from sanbuting.regions import lookup
from sanbuting.reports.labels import format_count, format_money_cn, format_money_en
from sanbuting.reports.rollup import BY_CHOICES, SUMMED, RollupRequest, rollup
from sanbuting.runner import RunRequest, run
from scenario import read_table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
FOLDERS = sorted(path for path in EXAMPLES.iterdir() if path.is_dir())

ACCOUNTS = """\
account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone,company
P1,power,residential,420102,postpaid,,active,0,0,,
P2,power,residential,440305,postpaid,,disconnected,0,0,,
T1,telecom,residential,420111,postpaid,,active,0,0,,ct-hb
T2,telecom,residential,420111,postpaid,,active,0,0,,cm-hb
"""
BILLS = """\
bill_id,account_id,period,issued_on,due_on,amount_fen
PB1,P1,2019-12,2020-01-02,2020-01-10,20000
TB1,T1,2019-12,2020-01-01,2020-01-20,12000
TB2,T2,2019-12,2020-01-01,2020-01-20,9000
PB2,P2,2019-11,2019-11-20,2019-12-10,5000
"""
PAYMENTS = """\
payment_id,account_id,paid_at,amount_fen,channel
X1,P1,2020-02-15T10:00:00+08:00,3000,counter
X2,T2,2020-03-05T19:00:00+08:00,20000,wechat
"""
COMPANIES = """\
company,name,group,utility,region
sgcc-hb,国网湖北省电力有限公司,国家电网,power,42
csg-gd,广东电网有限责任公司,南方电网,power,44
ct-hb,中国电信湖北分公司,中国电信,,
cm-hb,中国移动湖北公司,中国移动,,
"""
POLICIES = """\
policies:
  - id: hb-power-exempt
    title: 湖北电力欠费不停电
    effect: exempt
    scope: {utility: [power], region: ["42"]}
    window: {start: 2020-01-24, end: 2020-03-01}
  - id: gd-power-reconnect
    title: 广东电力临时复电
    effect: exempt
    scope: {utility: [power], region: ["44"]}
    window: {start: 2020-02-01, end: 2020-03-01}
    reconnect: true
  - id: power-waive
    title: 一月电费免违约金
    effect: waive_late_fee
    scope: {utility: [power]}
    bills: {issued_in: ["2020-01"]}
    window: {start: 2020-01-24, end: 2020-03-01}
  - id: telecom-defer
    title: 电信缓停三十天
    effect: defer
    scope: {utility: [telecom]}
    defer: {days: 30}
    window: {start: 2020-01-24, end: 2020-03-31}
"""
START, END = date(2020, 1, 1), date(2020, 3, 31)
# The story: P1 (Hubei power) is exempt from its notice from 02-10 (20 days to 03-01), pays
# 30 yuan at the counter, and its January bill's fee is waived for 37 days (6.98 yuan). P2
# (Guangdong power, cut off) is reconnected by the Guangdong exempt on 02-01 and exempt from its
# notice until 03-01 (29 days). T1 and T2 (telecom) are deferred from 02-20 by 30 days; T2 pays
# 200 yuan by WeChat on 03-05 (14 days deferred), T1 stays deferred through 03-20 (30 days).


def tiny(tmp_path: Path, companies: str | None = COMPANIES) -> RollupRequest:
    """The tiny scenario written and run; the request that rolls it up."""
    data = tmp_path / "data"
    data.mkdir()
    for name, text in (("accounts", ACCOUNTS), ("bills", BILLS), ("payments", PAYMENTS)):
        (data / f"{name}.csv").write_text(text, encoding="utf-8")
    if companies is not None:
        (data / "companies.csv").write_text(companies, encoding="utf-8")
    policies = tmp_path / "policies.yaml"
    policies.write_text(POLICIES, encoding="utf-8")
    out = tmp_path / "out"
    run(RunRequest(data=data, policy_files=[policies], start=START, end=END, out=out))
    return RollupRequest(out=out, data=data, policy_files=(policies,))


def literal(text: str) -> list[tuple[str, ...]]:
    """Rows of a `|`-separated literal table, cells trimmed."""
    lines = [line.strip() for line in textwrap.dedent(text).splitlines() if line.strip()]
    return [tuple(cell.strip() for cell in line.split("|")) for line in lines]


def shown(frame: pl.DataFrame) -> list[tuple[str, ...]]:
    return [tuple(str(v) for v in row) for row in frame.iter_rows()]


def run_example(folder: Path, out: Path) -> RollupRequest:
    words = (folder / "args").read_text(encoding="utf-8").split()
    args = dict(zip(words[::2], words[1::2], strict=True))
    policies = folder / "policies.yaml"
    run(
        RunRequest(
            data=folder,
            policy_files=[policies],
            start=date.fromisoformat(args["--start"]),
            end=date.fromisoformat(args["--end"]),
            out=out,
        )
    )
    return RollupRequest(out=out, data=folder, policy_files=(policies,))


def events_of(summary: dict[str, Any], kind: str) -> int:
    return sum(kinds.get(kind, 0) for kinds in summary["protection_events"].values())


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda path: path.name)
def test_the_rollups_totals_are_the_summarys_for_the_shipped_examples(
    folder: Path, tmp_path: Path
) -> None:
    request = run_example(folder, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    result = rollup(request)

    totals = result.totals
    assert totals["exempt_events"] == events_of(summary, "exempt")
    assert totals["defer_events"] == events_of(summary, "defer")
    assert totals["protected_accounts"] == summary["protected_accounts"]
    assert totals["account_days"] == summary["protected_account_days"]
    assert totals["protected_arrears_fen"] == summary["protected_arrears_fen"]
    assert totals["waived_fen"] == summary["waived_fen"]
    assert totals["accounts"] == summary["accounts"]
    assert any(totals[name] for name in ("protected_accounts", "waived_fen", "payments"))
    # the engine's output files, counted directly
    protections = read_table(tmp_path / "out" / "protections.csv")
    actions = read_table(tmp_path / "out" / "actions.csv")
    kinds = Counter(row["kind"] for row in protections)
    assert (totals["exempt_events"], totals["defer_events"]) == (kinds["exempt"], kinds["defer"])
    assert totals["policy_reconnections"] == sum(
        1 for row in actions if row["action"] == "reconnect" and row["policy_id"]
    )
    payments = read_table(folder / "payments.csv")
    assert totals["payments"] == len(payments)
    assert totals["paid_fen"] == sum(int(row["amount_fen"]) for row in payments)
    # every table adds up to the totals (户 are distinct: by week they may count twice)
    for by in BY_CHOICES:
        table = result.tables[by]
        if by == "channel":
            assert table.get_column("payments").sum() == totals["payments"]
            continue
        for name in SUMMED:
            assert table.get_column(name).sum() == totals[name], (by, name)
        if by != "week":
            assert table.get_column("protected_accounts").sum() == totals["protected_accounts"]
            assert table.get_column("accounts").sum() == totals["accounts"]
    # and the summary's own breakdowns, by name
    utilities = result.tables["utility"]
    for code, figures in summary["by_utility"].items():
        name = {"power": "电网", "telecom": "电信", "gas": "燃气"}[code]
        row = utilities.filter(pl.col("utility") == name).row(0, named=True)
        assert row["accounts"] == figures["accounts"]
        assert row["protected_accounts"] == figures["protected_accounts"]
        assert row["exempt_events"] == figures["protection_events"].get("exempt", 0)
        assert row["defer_events"] == figures["protection_events"].get("defer", 0)
        assert row["waived_fen"] == figures["waived_fen"]
    provinces = result.tables["province"]
    assert provinces.height == 31
    assert "湖北省" in provinces.get_column("province").to_list()
    assert not any(p.isdigit() for p in provinces.get_column("province").to_list())
    protected = dict(provinces.select("province", "protected_accounts").iter_rows())
    for code, figures in summary["by_province"].items():
        assert protected[lookup(code).name] == figures["protected_accounts"]


def test_a_tiny_scenarios_tables(tmp_path: Path) -> None:
    result = rollup(tiny(tmp_path))
    columns = (
        "exempt_events,defer_events,protected_accounts,account_days,protected_arrears_fen,"
        "waived_fen,policy_reconnections,payments,paid_fen,online_payments,online_paid_fen"
    )

    assert shown(result.tables["group"]) == literal("""
        中国电信 | 1 | 0 | 1 | 1 | 30 | 12000 | 0   | 0 | 0 | 0     | 0 | 0
        中国移动 | 1 | 0 | 1 | 1 | 14 | 9000  | 0   | 0 | 1 | 20000 | 1 | 20000
        南方电网 | 1 | 1 | 0 | 1 | 29 | 5000  | 0   | 1 | 0 | 0     | 0 | 0
        国家电网 | 1 | 1 | 0 | 1 | 20 | 20000 | 698 | 0 | 1 | 3000  | 0 | 0
    """)
    assert result.tables["group"].columns == ["group", "accounts", *columns.split(",")]
    assert shown(result.tables["company"].select("group", "company", "utility", "accounts")) == (
        literal("""
            中国电信 | 中国电信湖北分公司     | 电信 | 1
            中国移动 | 中国移动湖北公司       | 电信 | 1
            南方电网 | 广东电网有限责任公司   | 电网 | 1
            国家电网 | 国网湖北省电力有限公司 | 电网 | 1
        """)
    )
    assert shown(result.tables["utility"]) == literal("""
        电网 | 2 | 2 | 0 | 2 | 49 | 25000 | 698 | 1 | 1 | 3000  | 0 | 0
        电信 | 2 | 0 | 2 | 2 | 44 | 21000 | 0   | 0 | 1 | 20000 | 1 | 20000
    """)
    provinces = result.tables["province"].filter(pl.col("accounts") > 0)
    assert shown(provinces.select("province", "accounts", "account_days")) == literal("""
        湖北省 | 3 | 64
        广东省 | 1 | 29
    """)
    weeks = result.tables["week"].filter(
        (pl.col("exempt_events") + pl.col("defer_events") + pl.col("account_days")) > 0
    )
    # week, exempt, defer, 户, account-days, waived
    assert shown(
        weeks.select(
            "week_start", "exempt_events", "defer_events", "protected_accounts", "account_days"
        )
    ) == literal("""
        2020-01-27 | 1 | 0 | 1 | 2
        2020-02-03 | 0 | 0 | 0 | 7
        2020-02-10 | 1 | 0 | 1 | 14
        2020-02-17 | 0 | 2 | 2 | 22
        2020-02-24 | 0 | 0 | 0 | 26
        2020-03-02 | 0 | 0 | 0 | 10
        2020-03-09 | 0 | 0 | 0 | 7
        2020-03-16 | 0 | 0 | 0 | 5
    """)
    assert result.tables["week"].row(0, named=True)["week_start"] == START  # clipped
    assert result.tables["week"].row(-1, named=True)["week_end"] == END
    assert shown(result.tables["channel"]) == literal("""
        微信       | 是 | 1 | 20000 | 1
        营业厅柜台 | 否 | 1 | 3000  | 1
    """)


def test_from_and_to_keep_what_is_dated_inside(tmp_path: Path) -> None:
    request = tiny(tmp_path)
    whole = rollup(request, by=("utility",))
    february = rollup(request, by=("utility",), from_day=date(2020, 2, 1), to_day=date(2020, 2, 29))
    before = rollup(request, by=("utility",), to_day=date(2020, 1, 31))
    after = rollup(request, by=("utility",), from_day=date(2020, 3, 1))

    for name in SUMMED:
        parts = before.totals[name] + february.totals[name] + after.totals[name]
        assert parts == whole.totals[name], name
    assert (february.start, february.end) == (date(2020, 2, 1), date(2020, 2, 29))
    # every event is in February; account-days run on into March
    assert february.totals["exempt_events"] + february.totals["defer_events"] == 4
    assert (february.totals["account_days"], after.totals["account_days"]) == (69, 24)
    assert after.totals["protected_accounts"] == 0  # no event in March
    assert (february.totals["payments"], after.totals["online_payments"]) == (1, 1)
    # waived fees accrue day by day: 8 days of January in the window (20 fen a day), then February
    assert (before.totals["waived_fen"], february.totals["waived_fen"]) == (160, 538)
    with pytest.raises(SanbutingError, match="give days from 2020-01-01 to 2020-03-31"):
        rollup(request, from_day=date(2019, 12, 31))
    with pytest.raises(SanbutingError, match="--from not after --to"):
        rollup(request, from_day=date(2020, 3, 2), to_day=date(2020, 3, 1))


def test_without_a_companies_file_each_utility_is_one_ungrouped_company(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    request = tiny(tmp_path, companies=None)
    (data / "accounts.csv").write_text(ACCOUNTS.replace("ct-hb", "").replace("cm-hb", ""))
    run(
        RunRequest(
            data=data,
            policy_files=list(request.policy_files),
            start=START,
            end=END,
            out=request.out,
        )
    )

    result = rollup(request, by=("company", "group"), lang="en")

    assert shown(result.tables["company"].select("group", "company", "accounts")) == [
        ("Ungrouped", "Power utility", "2"),
        ("Ungrouped", "Telecom operator", "2"),
    ]
    assert shown(result.tables["group"].select("group", "accounts")) == [("Ungrouped", "4")]


def test_an_account_naming_an_unnamed_company_is_an_error(tmp_path: Path) -> None:
    request = tiny(tmp_path, companies=COMPANIES.replace("cm-hb,中国移动湖北公司,中国移动,,\n", ""))
    with pytest.raises(SanbutingError, match=r"'cm-hb', which companies\.csv does not name"):
        rollup(request)


def test_a_bad_companies_file_names_its_line(tmp_path: Path) -> None:
    request = tiny(tmp_path, companies=COMPANIES + "x,名,组,water,\n")
    with pytest.raises(SanbutingError, match=r"companies.csv:6: utility 'water'"):
        rollup(request)


def test_a_companies_file_leaves_the_runs_outputs_alone(tmp_path: Path) -> None:
    request = tiny(tmp_path, companies=None)
    before = {p.name: p.read_bytes() for p in sorted(request.out.iterdir())}
    (request.data / "companies.csv").write_text(COMPANIES, encoding="utf-8")
    again = tmp_path / "again"
    run(
        RunRequest(
            data=request.data,
            policy_files=list(request.policy_files),
            start=START,
            end=END,
            out=again,
        )
    )
    assert {p.name: p.read_bytes() for p in sorted(again.iterdir())} == before


def test_other_inputs_policies_or_figures_than_the_runs_are_refused(tmp_path: Path) -> None:
    request = tiny(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(POLICIES.replace("days: 30", "days: 20"), encoding="utf-8")
    with pytest.raises(SanbutingError, match=r"other\.yaml is not the policy file the run read"):
        rollup(RollupRequest(out=request.out, data=request.data, policy_files=(other,)))

    bills = request.data / "bills.csv"
    bills.write_text(BILLS.replace("20000", "20001"), encoding="utf-8")
    with pytest.raises(SanbutingError, match=r"bills\.csv is not the input the run read"):
        rollup(request)
    bills.write_text(BILLS, encoding="utf-8")

    path = request.out / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary["protected_account_days"] += 1
    path.write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(SanbutingError, match="do not give the run's protected_account_days"):
        rollup(request)


def test_money_and_counts_read_in_wan_and_yi() -> None:
    assert format_money_cn(123456) == "1,234.56 元"
    assert format_money_cn(142709431) == "142.71 万元"
    assert format_money_cn(1_748_000_000_000) == "174.80 亿元"
    assert format_money_cn(-5) == "-0.05 元"
    assert format_money_en(142709431) == "1.43 million yuan"
    assert format_count(1_169_500, "zh") == "116.95万"
    assert format_count(1_748_000_000, "zh") == "17.48亿"
    assert format_count(9_999, "zh") == "9,999"
    assert format_count(1_169_500, "en") == "1,169,500"
