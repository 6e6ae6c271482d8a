"""Every console list exports as CSV and XLSX, on SQLite and PostgreSQL (`web.console.exports`):
each export route answers 200 with its content type, the CSV (UTF-8 with a BOM) and the XLSX
hold the same rows, phones are masked as on screen, and each export is in the audit log with
its row count and form. A what-if's changed accounts export for their maker alone; an unknown
form is not found; a role that cannot read a list cannot export it.

The store is test_console_access.py's, recorded through 2020-01-24: H1 (Wuhan, phone
13800000001) owes a bill due 2019-12-20, noticed on 01-20 and cut off on 01-23; no policy is in
force.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from test_console_access import (  # noqa: F401  (fixtures: a store run through 2020-01-24)
    audit_rows,
    client,
    csrf,
    engine,
    sign_in,
    submit_repair,
    url,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HUBEI = """\
policies:
  - id: hb-exempt
    effect: exempt
    scope: {utility: [power], region: ["42"]}
    window: {start: 2020-01-20, end: 2020-03-01}
"""


def shown(cell: openpyxl.cell.cell.Cell) -> str:
    """An XLSX cell as the CSV writes it."""
    value = cell.value
    if value is None:
        return ""
    if cell.number_format == "#,##0.00":
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def exported(browser: TestClient, path: str, **params: str) -> list[list[str]]:
    """The list at `path` as CSV and as XLSX: both answer as files, with the same rows."""
    as_csv = browser.get(f"{path}.csv", params=params)
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"].startswith("attachment; filename=")
    assert as_csv.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    as_xlsx = browser.get(f"{path}.xlsx", params=params)
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    assert [[shown(cell) for cell in row] for row in sheet.iter_rows()] == [
        [cell.lstrip("'") for cell in row] for row in rows
    ]
    return rows


def exports_of(store: Engine, username: str) -> list[tuple[str, str, object, object]]:
    return [
        (action, target, detail["rows"], detail["form"])
        for action, target, detail in audit_rows(store, username)
        if action.startswith("export_")
    ]


def test_every_list_of_a_supervisor_exports(client: TestClient, engine: Engine) -> None:  # noqa: F811
    number = submit_repair(engine, "H1")
    assert sign_in(client, "power-super") == 303
    promised = client.post(
        "/console/accounts/H1/holds",
        data={"csrf_token": csrf(client), "kind": "promise", "reason": "hardship",
              "until": "2020-02-05", "amount": "80.00"},
        follow_redirects=False,
    )  # fmt: skip
    assert promised.status_code == 303
    worklist = exported(client, "/console/worklist", day="2020-01-25")
    assert worklist[0][:2] == ["户号", "动作"]
    accounts = exported(client, "/console/accounts", q="H1")
    assert accounts == [
        ["户号", "业务", "地区", "状态", "欠费（元）", "联系电话"],
        ["H1", "电力", "湖北省 武汉市 江岸区", "已停止服务", "100.00", "13800000001"],
    ]
    holds = exported(client, "/console/accounts/H1/holds")
    assert [row[1:] for row in holds[1:]] == [
        ["缴费承诺", "", "2020-01-25", "2020-02-05", "80.00", "", "生活困难", "power-super"]
    ]
    queue = exported(client, "/console/applications", status="all")
    assert [row[0] for row in queue[1:]] == [number]
    assert queue[1][2:4] == ["是", "已提交"]
    tickets = exported(client, "/console/tickets", view="all", lang="en")
    assert tickets[0][:3] == ["Number", "Business", "Priority"]
    assert [row[0] for row in tickets[1:]] == [number]
    assert exported(client, "/console/field", view="open")[1:] == []
    assert exported(client, "/console/orders") == [["日期", "待放行"]]
    versions = exported(client, "/console/policies")
    assert versions == [
        ["版本", "范围", "文件", "政策数", "启用人", "启用时间", "当前生效", "sha256"]
    ]
    listed = [
        ("export_worklist", "2020-01-25", len(worklist) - 1),
        ("export_accounts", "H1", 1),
        ("export_holds", "H1", 1),
        ("export_applications", "all", 1),
        ("export_tickets", "all", 1),
        ("export_field", "open", 0),
        ("export_held_orders", "", 0),
        ("export_policy_versions", "", 0),
    ]
    expected = [(a, target, rows, form) for a, target, rows in listed for form in ("csv", "xlsx")]
    assert exports_of(engine, "power-super") == expected
    # The audit log: each export is logged after it is read, so the XLSX holds the CSV's entry.
    audit_csv = client.get("/console/audit.csv")
    logged = list(csv.reader(io.StringIO(audit_csv.content.decode("utf-8-sig"))))
    assert logged[1][1:4] == ["power-super", "export_policy_versions", ""]  # newest first
    audit_xlsx = client.get("/console/audit.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(audit_xlsx.content)).worksheets[0]
    read = [[shown(cell) for cell in row] for row in sheet.iter_rows()]
    assert read[0] == logged[0] == ["时间", "操作人", "操作", "对象", "详情"]
    assert read[1][2] == "export_audit" and read[2:] == logged[1:]
    assert exports_of(engine, "power-super")[-2:] == [
        ("export_audit", "", len(logged) - 1, "csv"),
        ("export_audit", "", len(logged), "xlsx"),
    ]


def test_phones_are_masked_as_on_screen_and_roles_hold(client: TestClient, engine: Engine) -> None:  # noqa: F811
    assert sign_in(client, "power-agent") == 303
    found = exported(client, "/console/accounts", q="13800000001")
    assert [row[5] for row in found[1:]] == ["138****0001"]
    assert exports_of(engine, "power-agent") == [
        ("export_accounts", "138****0001", 1, "csv"),  # the target is masked in the log too
        ("export_accounts", "138****0001", 1, "xlsx"),
    ]
    assert client.get("/console/audit.csv").status_code == 403  # agents do not read the log
    assert client.get("/console/policies.csv").status_code == 403
    assert client.get("/console/accounts.pdf", params={"q": "H1"}).status_code == 404
    assert client.get("/console/accounts/S1/holds.csv").status_code == 404  # gas's account
    assert [a for a, _, _, _ in exports_of(engine, "power-agent")] == ["export_accounts"] * 2


def upload(browser: TestClient, text: str) -> str:
    page = browser.get("/console/policies").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = browser.post(
        "/console/policies/what-if",
        data={"csrf_token": token.group(1)},
        files={"file": ("hubei.yaml", text.encode("utf-8"), "application/yaml")},
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_what_if_shows_and_exports_what_changes(
    client: TestClient,  # noqa: F811
    engine: Engine,  # noqa: F811
) -> None:
    """hb-exempt (01-20 up to 03-01) stops H1's notice of 01-20 and so its cut-off of 01-23."""
    assert sign_in(client, "power-admin") == 303
    page = upload(client, HUBEI)
    assert re.findall(r"<li data-test=\"policy-change\">(.*?)</li>", page) == [
        "新增 hb-exempt：免停；2020-01-20 至 2020-02-29；行业 电力；地区 湖北省（42）"
    ]
    assert re.findall(
        r'data-test="changed-row" data-account="(\w+)" data-day="([\d-]+)" '
        r'data-before="([\w+]*)" data-after="([\w+]*)"',
        page,
    ) == [("H1", "2020-01-20", "notice", ""), ("H1", "2020-01-23", "disconnect", "")]
    assert 'data-chart="whatif_cutoffs"' in page and 'data-chart="whatif_events"' in page
    assert 'data-figure="changed"' in page
    trial = re.search(r'href="/console/policies/what-if/(\d+)/changes\.csv"', page)
    assert trial is not None
    path = f"/console/policies/what-if/{trial.group(1)}/changes"
    rows = exported(client, path)
    assert rows[0] == [
        "单位",
        "户号",
        "日期",
        "现行政策下的动作",
        "新政策下的动作",
        "引起变化的政策",
    ]
    assert [row[1:] for row in rows[1:]] == [
        ["H1", "2020-01-20", "notice", "—", "hb-exempt"],
        ["H1", "2020-01-23", "disconnect", "—", "hb-exempt"],
    ]
    assert exports_of(engine, "power-admin") == [
        ("export_what_if_changes", trial.group(1), 2, "csv"),
        ("export_what_if_changes", trial.group(1), 2, "xlsx"),
    ]
    client.post("/console/signout", data={"csrf_token": csrf(client)})
    assert sign_in(client, "power-regulator") == 303
    assert client.get(f"{path}.csv").status_code == 404  # someone else's what-if


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_an_unknown_trial_is_not_found(client: TestClient, form: str) -> None:  # noqa: F811
    assert sign_in(client, "power-admin") == 303
    assert client.get(f"/console/policies/what-if/999/changes.{form}").status_code == 404
    assert client.get("/console/policies/what-if/1/changes.txt").status_code == 404
