"""A bank's day of payments, on SQLite and PostgreSQL: `sanbuting pay --file` and the API's
batch, each payment posted once by its key, a result for every row (posted, repeated, refused
with its reason), a refused row never undoing its neighbours, and the same file sent again
posting nothing twice.

The store is the API world (test_api_world): on 2020-03-09 P1 owes 180.00 yuan (fees still
accruing are not arrears), P2 50.00 and a fee that the payment finalizes: 20 unwaived days of
1‰ on 50.00 = 1.00 yuan (January's bills accrue nothing in February in Guangdong)."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sanbuting.cli import app
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import CheckpointDirty, Payment
from store_databases import BACKENDS
from test_api_world import World, clients, worlds

FILE = """
    payment_id,account_id,paid_at,amount_fen,channel
    ICBC-0001,P1,2020-03-09T10:00:00+08:00,5000,bank
    ICBC-0002,P2,2020-03-09T10:05:00+08:00,5000,bank
    ICBC-0003,P9,2020-03-09T10:06:00+08:00,100,bank
    ICBC-0004,P2,2020-03-09T10:07:00+08:00,12.5,bank
    ,,,,
    ICBC-0001,P1,2020-03-09T10:00:00+08:00,5000,bank
    ICBC-0005,P1,2020-03-09,100,bank
"""
AMOUNT = "amount_fen: a whole number of fen from 1 to 100000000000, not '12.5'"
NO_OFFSET = "paid_at: '2020-03-09' has no UTC offset: add one, e.g. +08:00"
NO_P9 = "no account 'P9' in the store"


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    yield from worlds(request.param, tmp_path)


def posted(world: World) -> int:
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        count = session.scalar(select(func.count()).select_from(Payment).where(Payment.posted))
    engine.dispose()
    return int(count or 0)


def test_a_bank_file_is_posted_once_with_a_result_for_every_row(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANBUTING_DATABASE_URL", world.url)
    bank = tmp_path / "icbc-20200309.csv"
    bank.write_text(textwrap.dedent(FILE).strip() + "\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["pay", "--file", str(bank), "--company", "power", "--lang", "en"])
    assert first.exit_code == 1  # some rows were refused
    assert "2 posted, 1 repeated (posted before), 4 refused" in first.output
    results = list(csv.reader(bank.with_suffix(".results.csv").open(encoding="utf-8")))
    assert results == [
        [
            "line",
            "payment_id",
            "account_id",
            "amount_fen",
            "result",
            "reason_code",
            "reason",
            "arrears_after_fen",
        ],
        ["2", "ICBC-0001", "P1", "5000", "posted", "", "", "13000"],
        ["3", "ICBC-0002", "P2", "5000", "posted", "", "", "100"],  # B3's finalized fee
        [
            "4",
            "ICBC-0003",
            "P9",
            "100",
            "refused",
            "no_account",
            "no account 'P9' in the store",
            "",
        ],
        ["5", "ICBC-0004", "P2", "12.5", "refused", "amount", AMOUNT, ""],
        ["6", "", "", "", "refused", "empty_row", "the row holds no value", ""],
        ["7", "ICBC-0001", "P1", "5000", "repeated", "", "", "13000"],
        ["8", "ICBC-0005", "P1", "100", "refused", "no_offset", NO_OFFSET, ""],
    ]
    assert posted(world) == 2
    again = runner.invoke(app, ["pay", "--file", str(bank), "--company", "power"])
    assert "入账 0 笔，重复 3 笔（此前已入账），拒绝 4 笔" in again.output
    in_chinese = list(csv.reader(bank.with_suffix(".results.csv").open(encoding="utf-8")))
    assert [row[4:7] for row in in_chinese[1:]] == [
        ["repeated", "", ""],
        ["repeated", "", ""],
        ["refused", "no_account", "系统中没有户号 'P9'，请核对户号"],
        [
            "refused",
            "amount",
            "amount_fen 须为 1 到 100000000000 之间的整数（单位：分），此处为 '12.5'",
        ],
        ["refused", "empty_row", "该行没有任何内容，请删除该行或补全后重新发送"],
        ["repeated", "", ""],
        ["refused", "no_offset", "paid_at 的时间没有时区（UTC 偏移），请加上，例如 +08:00"],
    ]
    assert posted(world) == 2
    wrong = runner.invoke(app, ["pay", "P1", "1.00", "--file", str(bank)])
    assert wrong.exit_code != 0


def test_the_api_batch_posts_each_payment_once(world: World) -> None:
    batch = {
        "payments": [
            {"key": "batch-0001", "account_id": "P1", "amount_fen": 5000},
            {"key": "batch-0002", "account_id": "P2", "amount_fen": 5_000_001},  # over the limit
            {"key": "batch-0003", "account_id": "G1", "amount_fen": 100},  # gas: not power's
            {"key": "batch-0004", "account_id": "P2", "amount_fen": 5000, "channel": "atm"},
        ]
    }
    for client in clients(world):
        answer = client.post("/api/v1/payments/batch", json=batch, headers=world.auth("bank_p"))
        assert answer.status_code == 200, answer.text
        statuses = [(r["key"], r["status"]) for r in answer.json()["results"]]
        assert statuses == [
            ("batch-0001", "posted"),
            ("batch-0002", "refused"),
            ("batch-0003", "refused"),
            ("batch-0004", "refused"),  # not one of the credential's labels
        ]
        assert "at most" in answer.json()["results"][1]["detail"]
        again = client.post("/api/v1/payments/batch", json=batch, headers=world.auth("bank_p"))
        assert again.json()["results"][0]["status"] == "repeated"
        customer = client.post("/api/v1/payments/batch", json=batch, headers=world.auth("alice"))
        assert customer.status_code == 403
        too_many = {"payments": [batch["payments"][0]] * 1001}
        assert (
            client.post("/api/v1/payments/batch", json=too_many, headers=world.auth("bank_p"))
        ).status_code == 422
    assert posted(world) == 1


def test_a_batch_and_a_single_payment_share_the_keys(world: World) -> None:
    """The batch endpoint and the single one share a namespace per credential: a key posted
    in a batch answers `repeated` when sent alone with the same content."""
    for client in clients(world):
        body = {"payments": [{"key": "shared-0001", "account_id": "P2", "amount_fen": 700}]}
        assert (
            client.post("/api/v1/payments/batch", json=body, headers=world.auth("bank_p"))
        ).json()["results"][0]["status"] == "posted"
        alone = client.post(
            "/api/v1/accounts/P2/payments",
            json={"amount_fen": 700},
            headers={**world.auth("bank_p"), "Idempotency-Key": "shared-0001"},
        )
        assert alone.status_code == 200 and alone.json()["repeated"] is True
    assert posted(world) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bank_file_into_a_recorded_day_marks_each_account_dirty(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily run has a checkpoint of 2020-03-09: every row of the file paid on that day
    marks its account (one batch reads the checkpoint's day once for all its rows); a row
    refused marks nothing."""
    made = worlds(backend, tmp_path, daily=True)  # kept: the store lives while it does
    world = next(made)
    monkeypatch.setenv("SANBUTING_DATABASE_URL", world.url)
    bank = tmp_path / "icbc-20200309.csv"
    bank.write_text(
        "payment_id,account_id,paid_at,amount_fen,channel\n"
        "D-1,P1,2020-03-09T10:00:00+08:00,5000,bank\n"
        "D-2,P9,2020-03-09T10:01:00+08:00,5000,bank\n"
        "D-3,P2,2020-03-09T10:02:00+08:00,5000,bank\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["pay", "--file", str(bank), "--company", "power"])
    assert "入账 2 笔，重复 0 笔（此前已入账），拒绝 1 笔" in result.output
    engine = make_engine(world.url)
    with sessions(engine).begin() as session:
        marks = session.execute(
            select(CheckpointDirty.account_id, CheckpointDirty.since, CheckpointDirty.cleared)
        ).all()
    engine.dispose()
    assert sorted(marks) == [("P1", date(2020, 3, 9), False), ("P2", date(2020, 3, 9), False)]
