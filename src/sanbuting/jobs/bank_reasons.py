"""Why a row of a bank's file was refused: a code the bank's programs can rely on
(`reason_code` in the result file) and a sentence in the bank's language, simplified Chinese
by default or English, saying what to do.

The English sentence is the check's own message (the one the CLI and the API give); the
Chinese one is this catalogue's, filled with the same values. A refusal without a code of its
own (`refused`) says in Chinese only that the row could not be posted and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]

CHINESE: dict[str, str] = {
    "empty_row": "该行没有任何内容，请删除该行或补全后重新发送",
    "id_empty": "{field} 不能为空，请填写后重新发送",
    "id_too_long": "{field} 最多 {limit} 个字符（此处有 {length} 个），请改短后重新发送",
    "id_mark": (
        "{field} 不能含有 / \\ < > & \" ' ` # ? % 等符号（此处含有 {mark}），"
        "请只用字母、数字和 - _ . :"
    ),
    "id_invisible": "{field} 不能含有空格、换行、制表符或其他不可见字符，请删去后重新发送",
    "not_timestamp": (
        "paid_at 的 {value} 不是 ISO 8601 时间，请写成如 2020-02-03T10:15:00+08:00 的形式"
    ),
    "no_offset": "paid_at 的时间没有时区（UTC 偏移），请加上，例如 +08:00",
    "amount": "amount_fen 须为 1 到 {most} 之间的整数（单位：分），此处为 {value}",
    "channel": "channel 最多 32 个可打印字符，请改短后重新发送",
    "key_length": "付款编号须有 1 到 {most} 个字符",
    "no_account": "系统中没有户号 {account}，请核对户号",
    "several_companies": "户号 {account} 属于多家公司（{companies}），请用 --company 指定一家",
    "key_reused": (
        "付款编号 {key} 已用于另一笔付款（户号、时间、金额或渠道不同），新的付款请使用新的编号"
    ),
    "key_imported": "付款编号 {key} 已随付款数据导入，不能再次入账",
    "key_taken": "付款编号 {key} 已被占用，新的付款请使用新的编号",
    "refused": "该行无法入账，请核对该行后重新发送；如仍被拒绝，请联系系统管理员",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """A refusal: its `code` (a key of `CHINESE`), the values its sentence names, and the
    check's English sentence."""

    code: str
    english: str
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: str, english: str, **values: str) -> Reason:
        known = code if code in CHINESE else "refused"
        return cls(known, english, tuple(sorted(values.items())))

    def text(self, lang: Lang) -> str:
        """The sentence in `lang`."""
        if lang == "en":
            return self.english
        return CHINESE[self.code].format(**dict(self.values))
