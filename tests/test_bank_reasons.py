"""A bank file's refusals in the bank's language (`jobs.bank_reasons`): each reason the checks
and the payment service give, with its code and its Chinese and English sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanbuting.jobs.bank_file import read_bank_file
from sanbuting.jobs.bank_reasons import CHINESE, Reason

HEADER = "payment_id,account_id,paid_at,amount_fen,channel\n"
ROWS = [
    # row, code, Chinese
    ("K1,A/1,2020-03-09T10:00:00+08:00,100,", "id_mark", "account_id 不能含有"),
    (",A1,2020-03-09T10:00:00+08:00,100,", "id_empty", "payment_id 不能为空，请填写后重新发送"),
    (
        f"{'K' * 65},A1,2020-03-09T10:00:00+08:00,100,",
        "id_too_long",
        "payment_id 最多 64 个字符（此处有 65 个），请改短后重新发送",
    ),
    ("K1,A\u200b1,2020-03-09T10:00:00+08:00,100,", "id_invisible", "account_id 不能含有空格"),
    (
        "K1,A1,yesterday,100,",
        "not_timestamp",
        "paid_at 的 'yesterday' 不是 ISO 8601 时间，请写成如 2020-02-03T10:15:00+08:00 的形式",
    ),
    ("K1,A1,2020-03-09T10:00:00+08:00,0,", "amount", "amount_fen 须为 1 到 100000000000 之间"),
    (f"K1,A1,2020-03-09T10:00:00+08:00,100,{'c' * 33}", "channel", "channel 最多 32 个可打印字符"),
]


@pytest.mark.parametrize(("row", "code", "chinese"), ROWS)
def test_each_refused_row_has_a_code_and_a_chinese_sentence(
    tmp_path: Path, row: str, code: str, chinese: str
) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    good, refused = read_bank_file(path)
    assert good == []
    reason = refused[0].reason
    assert reason is not None
    assert reason.code == code
    assert reason.text("zh").startswith(chinese)
    assert reason.text("en") != reason.text("zh")


SERVICE = [
    # code, values, Chinese
    (
        "several_companies",
        {"account": "'A1'", "companies": "gas, power"},
        "户号 'A1' 属于多家公司（gas, power），请用 --company 指定一家",
    ),
    (
        "key_reused",
        {"key": "'K1'"},
        "付款编号 'K1' 已用于另一笔付款（户号、时间、金额或渠道不同），新的付款请使用新的编号",
    ),
    ("key_imported", {"key": "'K1'"}, "付款编号 'K1' 已随付款数据导入，不能再次入账"),
    ("key_taken", {"key": "'K1'"}, "付款编号 'K1' 已被占用，新的付款请使用新的编号"),
    ("key_length", {"most": "128"}, "付款编号须有 1 到 128 个字符"),
    ("no_account", {"account": "'A9'"}, "系统中没有户号 'A9'，请核对户号"),
    ("a code of tomorrow", {}, CHINESE["refused"]),
]


@pytest.mark.parametrize(("code", "values", "chinese"), SERVICE)
def test_the_payment_services_refusals_in_chinese(
    code: str, values: dict[str, str], chinese: str
) -> None:
    reason = Reason.of(code, "the service's English sentence", **values)
    assert reason.text("zh") == chinese
    assert reason.text("en") == "the service's English sentence"
