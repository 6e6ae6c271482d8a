"""The words of what a what-if changes (the policy page), zh-CN first and English (registered
with `web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "console.whatif.changed": ("动作有变化的户数", "Accounts whose actions change"),
    "console.whatif.file_changes": ("政策文件的变化", "What the file changes"),
    "console.whatif.no_file_changes": (
        "与现行政策集相同，没有新增、删除或修改的政策。",
        "The same as the active set: no policy added, removed or changed.",
    ),
    "console.whatif.by_day": (
        "逐日对比（现行政策与新政策）",
        "Day by day: the active set and the new",
    ),
    "console.whatif.by_day.all": (
        "图中为此次试算涉及的全部单位之和。",
        "The charts add up every company the what-if covers.",
    ),
    "console.whatif.changed.title": ("动作有变化的账户", "Accounts whose actions change"),
    "console.whatif.changed.count": (
        "共 {count} 条（账户、日期），此处显示前 {shown} 条，导出文件包含全部。",
        "{count} account-days; the first {shown} are shown here, the export holds them all.",
    ),
    "console.whatif.changed.none": (
        "试算期间内没有账户的动作发生变化。",
        "No account's actions change inside the window.",
    ),
}

register(MESSAGES)
