"""The words of public-service broadcasts (公益短信) in the console, zh-CN first and English
(registered with `web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "console.nav.broadcasts": ("公益短信", "Broadcasts"),
    "console.broadcast.title": ("公益短信", "Public-service broadcasts"),
    "console.broadcast.lead": (
        "向所选范围内的全部手机号发送一条公益短信（免费，单独计数）。起草后先预览覆盖的号码数，"
        "再由另一名班长审批后发出；非紧急短信夜间（21:00–08:00）顺延至8点，已退订或当日条数已满的号码不发。",
        "Send one public-service message (free of charge, counted apart) to every number of a "
        "scope. Preview how many numbers it reaches, then another supervisor approves it "
        "before it goes; a message that is no emergency waits out the night (21:00–08:00) and "
        "skips numbers opted out or at their daily cap.",
    ),
    "console.broadcast.text": ("短信内容（最多300字）", "Message (at most 300 characters)"),
    "console.broadcast.utility": ("行业", "Utility"),
    "console.broadcast.regions": (
        "地区代码前缀（多个用逗号分隔，如 42,4201）",
        "Region prefixes (comma-separated, e.g. 42,4201)",
    ),
    "console.broadcast.classes": ("用户类别", "Customer class"),
    "console.broadcast.tags": ("标签（多个用逗号分隔）", "Tags (comma-separated)"),
    "console.broadcast.emergency": (
        "紧急预警（夜间照发，退订号码也发）",
        "Emergency (sent at night and to opted-out numbers)",
    ),
    "console.broadcast.preview": ("预览覆盖范围", "Preview"),
    "console.broadcast.draft": ("提交审批", "Ask for approval"),
    "console.broadcast.previewed": (
        "覆盖 {accounts} 户，{numbers} 个不同手机号（其中 {out} 个已退订非必要短信）。",
        "Reaches {accounts} accounts, {numbers} distinct mobile numbers ({out} opted out of "
        "non-essential messages).",
    ),
    "console.broadcast.sample": ("号码示例", "Sample numbers"),
    "console.broadcast.as_sent": ("发出的短信", "The message as sent"),
    "console.broadcast.list": ("公益短信记录", "Broadcasts"),
    "console.broadcast.number": ("编号", "Number"),
    "console.broadcast.scope": ("范围", "Scope"),
    "console.broadcast.any": ("全部", "all"),
    "console.broadcast.status": ("状态", "Status"),
    "console.broadcast.status.pending": ("待审批", "waiting"),
    "console.broadcast.status.approved": ("已批准发送", "approved, queued"),
    "console.broadcast.status.rejected": ("已驳回", "rejected"),
    "console.broadcast.numbers": ("覆盖号码", "Numbers"),
    "console.broadcast.queued": ("已发送（免费）", "Queued (free)"),
    "console.broadcast.refused": ("未发送（退订/超限）", "Refused (opted out, cap)"),
    "console.broadcast.drafted": ("起草人及时间", "Drafted by, at"),
    "console.broadcast.decided": ("审批人及时间", "Decided by, at"),
    "console.broadcast.note": ("审批意见", "Decision note"),
    "console.broadcast.approve": ("批准发送", "Approve and send"),
    "console.broadcast.reject": ("驳回", "Reject"),
    "console.broadcast.own": ("本人起草，须由他人审批", "Yours: another supervisor decides"),
    "console.broadcast.emergency_flag": ("紧急", "emergency"),
    "console.broadcast.none": ("暂无公益短信。", "No broadcast yet."),
    "console.broadcast.drafted_ok": (
        "已提交 {number}，等待另一名班长审批。",
        "{number} waits for another supervisor.",
    ),
    "console.broadcast.refused.text": ("请填写短信内容（不含控制字符）。", "Write the message."),
    "console.broadcast.refused.long": (
        "短信过长，请缩短到300字以内。",
        "The message is too long: shorten it.",
    ),
    "console.broadcast.refused.scope": (
        "范围有误：地区代码须为2、4或6位国标代码，标签不含分号或空格。",
        "The scope is wrong: regions are GB/T 2260 codes of 2, 4 or 6 digits, tags have no ';' "
        "or spaces.",
    ),
    "console.broadcast.refused.four_eyes": (
        "本人起草的公益短信须由另一名班长审批。",
        "Another supervisor decides what you drafted (four eyes).",
    ),
    "console.broadcast.refused.changed": ("该公益短信已审批过。", "It was decided already."),
    "console.broadcast.refused.unknown": ("找不到该公益短信。", "No such broadcast."),
}

register(MESSAGES)
