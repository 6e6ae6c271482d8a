"""The collections desk's words in the console (worklists, locks, promises), zh-CN first and
English (registered with `web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "console.nav.worklist": ("催收工作清单", "Worklist"),
    "console.worklist.title": ("{day} 拟执行的催收动作", "Proposed actions for {day}"),
    "console.worklist.recorded": (
        "{day} 已日结，没有待执行的动作。", "{day} is recorded already: nothing is proposed."
    ),
    "console.worklist.count": ("共 {count} 条", "{count} rows"),
    "console.worklist.cut": (
        "只显示前 {count} 条，请缩小筛选范围。",
        "Only the first {count} rows are shown: narrow the filters.",
    ),
    "console.worklist.none": ("没有符合条件的动作。", "No proposed action matches."),
    "console.worklist.filter": ("筛选", "Filter"),
    "console.worklist.day": ("日期", "Day"),
    "console.worklist.utility": ("行业", "Utility"),
    "console.worklist.region": ("地区代码（前缀）", "Region code (prefix)"),
    "console.worklist.where": ("地区代码", "Region"),
    "console.worklist.class": ("客户类别", "Customer class"),
    "console.worklist.tag": ("标签", "Tag"),
    "console.worklist.action": ("动作", "Action"),
    "console.worklist.arrears": ("欠费（元）", "Arrears (yuan)"),
    "console.worklist.days": ("逾期天数", "Days overdue"),
    "console.worklist.from": ("从", "from"),
    "console.worklist.to": ("到", "to"),
    "console.worklist.any": ("全部", "any"),
    "console.worklist.account": ("户号", "Account"),
    "console.worklist.reason": ("原因", "Reason"),
    "console.worklist.policy": ("政策", "Policy"),
    "console.worklist.relief": ("纾困政策为何不适用", "Why no relief policy stops it"),
    "console.worklist.csv": ("导出 CSV", "Export CSV"),
    "console.worklist.xlsx": ("导出 Excel（XLSX）", "Export Excel (XLSX)"),
    "console.worklist.lock": ("锁定所选账户", "Lock the chosen accounts"),
    "console.worklist.locked": ("已锁定 {count} 户。", "{count} accounts locked."),
    "console.worklist.choose": ("选择", "Choose"),
    "console.hold.title": (
        "锁定、缴费承诺与分期还款", "Locks, promises to pay and instalment plans"
    ),
    "console.hold.kind.hold": ("账户锁定", "Lock"),
    "console.hold.kind.promise": ("缴费承诺", "Promise to pay"),
    "console.hold.kind.instalments": ("分期还款", "Instalment plan"),
    "console.hold.id": ("编号", "Reference"),
    "console.hold.kind": ("类型", "Kind"),
    "console.hold.span": ("期间", "Days"),
    "console.hold.until": ("截止日期（含）", "Until (inclusive)"),
    "console.hold.amount": (
        "金额（元，承诺金额或分期总额）", "Amount (yuan: promised, or the plan's total)"
    ),
    "console.hold.parts": ("分期期数（2–60，按月）", "Parts (2–60, monthly)"),
    "console.hold.in_parts": ("分 {n} 期", "in {n} parts"),
    "console.hold.save": ("保存", "Save"),
    "console.hold.reason": ("原因", "Reason"),
    "console.hold.steps": ("锁定范围", "What it locks"),
    "console.hold.steps.all": ("全部停复电步骤", "Every enforcement step"),
    "console.hold.steps.notice": ("仅停电通知", "Cut-off notices only"),
    "console.hold.by": ("设置人", "Set by"),
    "console.hold.none": (
        "暂无锁定、缴费承诺或分期还款。", "No lock, promise to pay or instalment plan."
    ),
    "console.hold.from_day": (
        "自 {day} 起生效（之前的日子已日结）。",
        "Acts from {day} (the days before are recorded).",
    ),
    "console.hold.lock": ("锁定账户", "Lock the account"),
    "console.hold.lift": ("解除锁定", "Lift the lock"),
    "console.hold.reason.dispute": ("争议处理中", "dispute"),
    "console.hold.reason.medical": ("医疗（居家病患等）", "medical"),
    "console.hold.reason.hardship": ("生活困难", "hardship"),
    "console.hold.reason.disaster": ("灾害", "disaster"),
    "console.hold.reason.other": ("其他", "other"),
    "console.hold.refused.too_early": (
        "锁定或承诺最早从 {earliest} 起生效（之前的日子已日结），请改正日期。",
        "A lock or promise starts on {earliest} at the earliest (the days before are "
        "recorded): correct the date.",
    ),
    "console.hold.refused.until_before": (
        "截止日期早于开始日期，请改正。",
        "The last day is before the first: correct it.",
    ),
    "console.hold.refused.too_long": (
        "锁定或承诺最长 {days} 天，更长的请走纾困政策。",
        "A lock or promise lasts at most {days} days: a longer one is a relief policy.",
    ),
    "console.hold.refused.amount": (
        "请填写大于零的承诺金额（元）。",
        "Give a promised amount above zero (yuan).",
    ),
    "console.hold.refused.kind": (
        "请选择锁定、缴费承诺或分期还款。", "Choose a lock, a promise to pay or a plan."
    ),
    "console.hold.refused.until": ("请填写截止日期。", "Give the last day."),
    "console.hold.refused.parts": (
        "分期还款请填写 2 至 60 期。", "An instalment plan has 2 to 60 parts: give how many."
    ),
    "console.hold.refused.prepaid": (
        "预付费账户没有账单可分期，不能办理分期还款。",
        "A prepaid account has no bills to split: no instalment plan.",
    ),
    "console.hold.refused.second_plan": (
        "该户已有尚未结清或中断的分期还款，一次只能办理一个分期。",
        "This account has a plan neither kept nor broken yet: one plan at a time.",
    ),
    "console.hold.refused.reason": ("请选择原因。", "Choose a reason."),
    "console.hold.refused.steps": ("请选择锁定范围。", "Choose what the lock holds."),
    "console.hold.refused.unknown": (
        "找不到该户号或编号，请检查后重试。",
        "No such account or reference: check it and try again.",
    ),
    "console.hold.refused.ended": (
        "该锁定已结束或不能解除。",
        "This lock has ended already or cannot be lifted.",
    ),
    "console.search.q": (
        "户号（可输开头）、手机号、户主姓名或地名（如 江岸）",
        "Account number (or its start), phone, holder's name or a place (e.g. 江岸)",
    ),
    "console.search.state": ("状态", "State"),
    "console.search.on": (
        "状态与欠费为 {day} 日结后的情况。",
        "States and arrears are as of the end of {day}.",
    ),
    "console.action.remind": ("催缴提醒", "reminder"),
    "console.action.reconnect": ("恢复服务", "reconnection"),
    "console.action.low_balance": ("余额不足提醒", "low-balance alert"),
    "console.action.guarantee_on": ("开启保电", "power guarantee on"),
    "console.action.guarantee_off": ("解除保电", "power guarantee off"),
}  # fmt: skip

register(MESSAGES)
