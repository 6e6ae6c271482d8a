"""The words of the companies' figures in the console (the deployment regulator's dashboard,
and a company's regulator's and supervisor's figures), zh-CN first and English (registered
with `web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "console.nav.companies": ("企业统计", "Company figures"),
    "console.role.deployment_regulator": (
        "监管机构（全部企业，只读）",
        "regulator of every company (read-only)",
    ),
    "console.companies.title.all": ("各企业三不停统计", "Every company's relief figures"),
    "console.companies.title.own": ("本企业三不停统计", "My company's relief figures"),
    "console.companies.lead.all": (
        "全部 {count} 家企业的只读统计：按各企业日结记录汇总的人次、户数和金额，"
        "不含户号、户名、电话等个人信息。",
        "Read-only figures of all {count} companies, counted from each company's daily runs: "
        "events, accounts and amounts, never an account number, a name or a phone.",
    ),
    "console.companies.lead.own": (
        "本企业的只读统计，按日结记录汇总，不含个人信息。",
        "Read-only figures of my company, counted from its daily runs, without personal data.",
    ),
    "console.companies.compare": ("企业对比", "Companies compared"),
    "console.companies.company": ("企业", "Company"),
    "console.companies.group": ("集团", "Group"),
    "console.companies.utility": ("行业", "Utility"),
    "console.companies.accounts": ("户数", "Accounts"),
    "console.companies.exempt": ("免停人次", "Exempt (events)"),
    "console.companies.defer": ("缓停人次", "Deferred (events)"),
    "console.companies.protected": ("受保护户数", "Protected accounts"),
    "console.companies.arrears": ("受保护欠费", "Protected arrears"),
    "console.companies.waived": ("减免违约金", "Late fees waived"),
    "console.companies.reconnections": ("复电复机户次", "Reconnections"),
    "console.companies.policy_reconnections": (
        "其中政策启动复电复机",
        "of which at a policy's start",
    ),
    "console.companies.days.line": ("日结区间：{days}", "Days run: {days}"),
    "console.companies.days.range": (
        "{first} 至 {last}（{count} 天）",
        "{first} to {last} ({count} days)",
    ),
    "console.companies.norun": ("尚未日结", "No daily run yet"),
    "console.companies.total": ("合计", "Total"),
    "console.companies.ungrouped": ("未分组", "Ungrouped"),
    "console.companies.charts": ("对比图表", "Charts"),
    "console.companies.open": ("查看", "Open"),
    "console.companies.back": ("返回企业对比", "Back to the companies"),
    "console.companies.figures": ("主要数字", "Figures"),
    "console.companies.by_week": ("按周统计（周一至周日）", "By week (Monday to Sunday)"),
    "console.companies.week_start": ("起始日", "From"),
    "console.companies.week_end": ("截止日", "To"),
    "console.companies.events": ("保护人次", "Protection events"),
    "console.companies.by_province": ("按省份统计", "By province"),
    "console.companies.payments": (
        "缴费渠道（线上与线下）",
        "Payments by channel (online and not)",
    ),
    "console.companies.channel": ("渠道", "Channel"),
    "console.companies.online": ("线上", "Online"),
    "console.companies.online_yes": ("是", "yes"),
    "console.companies.online_no": ("否", "no"),
    "console.companies.payment_count": ("笔数", "Payments"),
    "console.companies.paid": ("金额（元）", "Amount (yuan)"),
    "console.companies.business": ("网上办理业务", "Business done online"),
    "console.companies.business_kind": ("业务", "Business"),
    "console.companies.applications": ("申请件数", "Applications"),
    "console.companies.done": ("已办结", "Completed"),
    "console.companies.province": ("省份", "Province"),
    "console.companies.none": ("暂无保护记录", "No protection recorded yet"),
    "console.companies.notes": (
        "人次：政策使停供措施（停电、停机、停气及其通知）免于执行（免停）或推迟执行（缓停）的次数；"
        "户数：有保护记录的户；受保护欠费：各户首次受保护当日的欠费；减免违约金：政策减免的违约金。",
        "Events: each cut-off, suspension or its notice a policy prevented (exempt) or moved "
        "(deferred); accounts: those with an event; protected arrears: each account's arrears "
        "on the day of its first event; late fees waived: by the relief policies.",
    ),
}

register(MESSAGES)
