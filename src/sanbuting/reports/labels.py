"""The words of the roll-up (`reports.rollup`) in simplified Chinese and English: table
titles, column headers, the names of utilities, payment channels and default companies, and
the formatting of money (元, 万元, 亿元) and counts (万, 亿) for text.

A frame of the roll-up holds money as integer fen and counts as integers; only what is shown
to a reader goes through the functions here. No internal code reaches a reader: provinces,
companies and groups are shown by name, channels by their Chinese name where one is known.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

MONEY_COLUMNS = frozenset({"protected_arrears_fen", "waived_fen", "paid_fen", "online_paid_fen"})
"""Columns of integer fen (shown as 元 with two decimals)."""
DATE_COLUMNS = frozenset({"week_start", "week_end"})

COLUMNS: dict[Lang, dict[str, str]] = {
    "zh": {
        "group": "集团",
        "company": "企业",
        "utility": "行业",
        "province": "省份",
        "week_start": "起始日",
        "week_end": "截止日",
        "channel": "缴费渠道",
        "online": "线上",
        "accounts": "户数",
        "exempt_events": "免停人次",
        "defer_events": "缓停人次",
        "protected_accounts": "受保护户数",
        "account_days": "受保护户日",
        "protected_arrears_fen": "受保护欠费（元）",
        "waived_fen": "减免违约金（元）",
        "policy_reconnections": "政策启动复电复机户次",
        "payments": "缴费笔数",
        "paid_fen": "缴费金额（元）",
        "online_payments": "线上缴费笔数",
        "online_paid_fen": "线上缴费金额（元）",
        "paying_accounts": "缴费户数",
    },
    "en": {
        "group": "Group",
        "company": "Company",
        "utility": "Utility",
        "province": "Province",
        "week_start": "From",
        "week_end": "To",
        "channel": "Payment channel",
        "online": "Online",
        "accounts": "Accounts",
        "exempt_events": "Exempt (events)",
        "defer_events": "Deferred (events)",
        "protected_accounts": "Protected accounts",
        "account_days": "Protected account-days",
        "protected_arrears_fen": "Protected arrears (yuan)",
        "waived_fen": "Late fees waived (yuan)",
        "policy_reconnections": "Reconnected at policy start",
        "payments": "Payments",
        "paid_fen": "Paid (yuan)",
        "online_payments": "Online payments",
        "online_paid_fen": "Paid online (yuan)",
        "paying_accounts": "Paying accounts",
    },
}

TITLES: dict[Lang, dict[str, str]] = {
    "zh": {
        "group": "按集团汇总",
        "company": "按企业汇总",
        "province": "按省份汇总",
        "utility": "按行业汇总",
        "week": "按周汇总",
        "channel": "按缴费渠道汇总",
    },
    "en": {
        "group": "By group",
        "company": "By company",
        "province": "By province",
        "utility": "By utility",
        "week": "By week",
        "channel": "Payments by channel",
    },
}
PAYMENTS_TITLE: dict[Lang, str] = {"zh": "{title}：缴费", "en": "{title}: payments"}
"""The page shows each table's payment columns apart (a page is narrower than a sheet)."""

WORDS: dict[Lang, dict[str, str]] = {
    "zh": {
        "total": "合计",
        "yes": "是",
        "no": "否",
        "ungrouped": "未分组",
        "no_channel": "未注明",
        "report": "三不停汇总报告",
        "range": "统计区间：{start} 至 {end}（运行区间 {run_start} 至 {run_end}，"
        "截至 {end} 24:00）",
    },
    "en": {
        "total": "Total",
        "yes": "yes",
        "no": "no",
        "ungrouped": "Ungrouped",
        "no_channel": "Not given",
        "report": "sanbuting roll-up report",
        "range": "From {start} to {end} (run {run_start} to {run_end}; as of {end} 24:00)",
    },
}

UTILITIES: dict[Lang, dict[str, str]] = {
    "zh": {"telecom": "电信", "power": "电网", "gas": "燃气"},
    "en": {"telecom": "Telecom", "power": "Power", "gas": "Gas"},
}
"""Utility names, the regulator summary's and the charts' too (`regulator.UTILITY_NAMES`)."""
UTILITY_ORDER = ("power", "telecom", "gas")

DEFAULT_COMPANIES: dict[Lang, dict[str, str]] = {
    "zh": {"power": "供电企业", "telecom": "电信运营企业", "gas": "燃气企业"},
    "en": {"power": "Power utility", "telecom": "Telecom operator", "gas": "Gas company"},
}
"""The name of a utility's company when no companies file names one."""

CHANNELS: dict[Lang, dict[str, str]] = {
    "zh": {
        "app": "手机客户端",
        "wechat": "微信",
        "alipay": "支付宝",
        "web": "网上营业厅",
        "sandbox-pay": "网上支付",
        "counter": "营业厅柜台",
        "bank": "银行",
        "kiosk": "自助终端",
        "agent": "代收网点",
    },
    "en": {
        "app": "App",
        "wechat": "WeChat",
        "alipay": "Alipay",
        "web": "Website",
        "sandbox-pay": "Online checkout",
        "counter": "Counter",
        "bank": "Bank",
        "kiosk": "Kiosk",
        "agent": "Collection agent",
    },
}
ONLINE_CHANNELS = frozenset({"app", "wechat", "alipay", "web", "sandbox-pay"})
"""Payment channels counted as online (the customer pays without a counter, bank branch,
kiosk or agent); the portal's checkout posts as `sandbox-pay`."""


def column_names(lang: Lang) -> dict[str, str]:
    """Column key → header in `lang`."""
    return COLUMNS[lang]


def channel_name(label: str | None, lang: Lang) -> str:
    """A payment channel's name in `lang` (an unknown label as given)."""
    if label is None or not label.strip():
        return WORDS[lang]["no_channel"]
    return CHANNELS[lang].get(label, label)


def _rounded(fen: int, unit_fen: int) -> Decimal:
    return (Decimal(fen) / Decimal(unit_fen)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_money_cn(fen: int) -> str:
    """Fen as 元 below ten thousand yuan, 万元 below a hundred million, 亿元 above:
    ``123456`` → ``"1,234.56 元"``, ``142709431`` → ``"142.71 万元"``."""
    size = abs(fen)
    if size < 1_000_000:
        return f"{_rounded(fen, 100):,} 元"
    if size < 10_000_000_000:
        return f"{_rounded(fen, 1_000_000):,} 万元"
    return f"{_rounded(fen, 10_000_000_000):,} 亿元"


def format_money_en(fen: int) -> str:
    """Fen as yuan below a million, millions below a billion, billions above."""
    size = abs(fen)
    if size < 100_000_000:
        return f"{_rounded(fen, 100):,} yuan"
    if size < 100_000_000_000:
        return f"{_rounded(fen, 100_000_000):,} million yuan"
    return f"{_rounded(fen, 100_000_000_000):,} billion yuan"


def format_money(fen: int, lang: Lang) -> str:
    return format_money_cn(fen) if lang == "zh" else format_money_en(fen)


def format_count(value: int, lang: Lang) -> str:
    """A count: in zh ``11695000`` → ``"1169.50万"`` and ``1748000000`` → ``"17.48亿"``
    (plain below ten thousand); in en with thousands separators."""
    if lang == "en" or abs(value) < 10_000:
        return f"{value:,}"
    if abs(value) < 100_000_000:
        return f"{_rounded(value, 10_000)}万"
    return f"{_rounded(value, 100_000_000)}亿"
