"""`sanbuting report`'s files and command line (docs/reports.md): the workbook opens with
openpyxl and holds the roll-up's numbers under Chinese headers, the HTML page holds the SVG
charts and no outside address, the text names provinces and companies (never their codes),
and `db import` names a company and its group in the store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.reports.labels import COLUMNS, MONEY_COLUMNS, TITLES
from sanbuting.reports.rollup import KEYS, Rollup, RollupRequest, rollup
from sanbuting.reports.rollup_page import rollup_html
from sanbuting.reports.rollup_view import total_row
from sanbuting.reports.workbook import write_workbook
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company
from store_databases import BACKENDS, database, write_folder
from test_report_rollup import tiny

runner = CliRunner()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> RollupRequest:
    return tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def result(run_folder: RollupRequest) -> Rollup:
    return rollup(run_folder)


def cell_value(name: str, value: object) -> object:
    """A frame's value as the workbook holds it."""
    if isinstance(value, int) and name in MONEY_COLUMNS:
        return round(value / 100, 2)
    return value


def test_the_workbook_holds_the_rollups_numbers(result: Rollup, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_workbook(result, path)
    book = openpyxl.load_workbook(path)

    assert book.sheetnames == ["概况", *(TITLES["zh"][by] for by in result.tables)]
    for by, frame in result.tables.items():
        sheet = book[TITLES["zh"][by]]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == [COLUMNS["zh"][c] for c in frame.columns]
        for got, want in zip(rows[1:-1], frame.iter_rows(), strict=True):
            for name, g, w in zip(frame.columns, got, want, strict=True):
                if name in KEYS[by] and by == "week":
                    assert g.date() == w
                else:
                    assert g == cell_value(name, w), (by, name)
        total = total_row(result, by)
        assert rows[-1][0] == "合计"
        for name, got_total in zip(frame.columns, rows[-1], strict=True):
            if name not in KEYS[by]:
                assert got_total == cell_value(name, total[name]), (by, name)
    money = book["按省份汇总"].cell(row=2, column=8)
    assert money.number_format == "#,##0.00"
    overview = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=5, values_only=True)}
    assert overview["受保护户日"] == 93
    assert overview["受保护欠费（元）"] == 460
    assert overview["减免违约金（元）"] == 6.98


def test_the_page_holds_the_charts_and_no_outside_address(result: Rollup) -> None:
    page = rollup_html(result)

    assert page.count("<svg") == 3
    addresses = set(re.findall(r"(?i)(?:https?|ftp)://[^\s\"'<>)]*", page))
    assert addresses <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"(?i)<script|<link|<img|@import|url\(", page)
    for title in ("按集团汇总", "按企业汇总", "按省份汇总", "按周汇总", "按周汇总：缴费"):
        assert title in page
    assert "国网湖北省电力有限公司" in page and "新疆维吾尔自治区" in page
    assert "sgcc-hb" not in page and ">42<" not in page
    assert "460.00 元" in page


def test_report_on_the_command_line(run_folder: RollupRequest, tmp_path: Path) -> None:
    out, data = str(run_folder.out), str(run_folder.data)
    policies = str(run_folder.policy_files[0])
    xlsx, html = tmp_path / "r.xlsx", tmp_path / "r.html"

    plain = runner.invoke(app, ["report", out])
    full = runner.invoke(
        app,
        [
            *("report", out, "--data", data, "--policies", policies, "--xlsx", str(xlsx)),
            *("--html", str(html), "--from", "2020-02-01", "--to", "2020-02-29"),
        ],
    )
    english = runner.invoke(
        app,
        ["report", out, "--data", data, "--policies", policies, "--by", "utility", "--lang", "en"],
    )

    assert plain.exit_code == 0, plain.output
    assert "湖北省 3, 广东省 1" in plain.output and "(42)" not in plain.output
    assert full.exit_code == 0, full.output
    assert "统计区间：2020-02-01 至 2020-02-29" in full.output
    assert "湖北电力欠费不停电：免停 1" in full.output  # policies by title
    assert "国网湖北省电力有限公司" in full.output and "sgcc-hb" not in full.output
    assert "460.00 元" in full.output
    assert openpyxl.load_workbook(xlsx).sheetnames[0] == "概况"
    assert html.read_text(encoding="utf-8").count("<svg") == 3
    assert english.exit_code == 0, english.output
    assert "By utility" in english.output and "By week" not in english.output
    assert "Total" in english.output and "250.00 yuan" in english.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "week"], "give --data DIR --policies FILE"),
        (["--data", "DATA"], "give the run's --policies"),
        (["--data", "DATA", "--policies", "POLICIES", "--by", "city"], "--by 'city': use one of"),
    ],
)
def test_report_refuses_what_it_cannot_do(
    run_folder: RollupRequest, args: list[str], message: str
) -> None:
    swapped = [
        str(run_folder.data)
        if a == "DATA"
        else str(run_folder.policy_files[0])
        if a == "POLICIES"
        else a
        for a in args
    ]
    refused = runner.invoke(app, ["report", str(run_folder.out), *swapped])
    assert refused.exit_code == 1
    assert message in refused.output


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for value in database(request.param, tmp_path):
        upgrade(value)
        yield value


def test_db_import_names_a_company_and_its_group(url: str, tmp_path: Path) -> None:
    data = write_folder(
        tmp_path / "data",
        accounts="""
            account_id,utility,customer_class,region
            A1,power,residential,420102
        """,
        bills="""
            bill_id,account_id,period,issued_on,due_on,amount_fen
            B1,A1,2020-01,2020-01-05,2020-01-20,10000
        """,
    )
    env = {"SANBUTING_DATABASE_URL": url}
    base = ["db", "import", str(data), "--rejects", str(tmp_path / "rejects.csv")]

    first = runner.invoke(
        app,
        [
            *base,
            "--start",
            "2020-01-01",
            "--company",
            "sgcc-hb",
            *("--company-name", "国网湖北省电力有限公司", "--group", "国家电网"),
        ],
        env=env,
    )
    renamed = runner.invoke(
        app, [*base, "--company", "sgcc-hb", "--company-name", "国网湖北电力"], env=env
    )
    unnamed = runner.invoke(app, [*base, "--group", "国家电网"], env=env)

    assert first.exit_code == 0, first.output
    assert renamed.exit_code == 0, renamed.output
    assert unnamed.exit_code == 1
    assert "give its code with --company" in str(unnamed.exception)
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        rows = session.execute(select(Company.code, Company.name, Company.group)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("sgcc-hb", "国网湖北电力", "国家电网")]
