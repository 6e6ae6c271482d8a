"""The words of manual waivers and write-offs in the console, zh-CN first and English
(registered with `web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "console.nav.adjustments": ("减免与核销审批", "Waivers and write-offs"),
    "console.adjust.title": ("违约金减免与欠费核销", "Late-fee waivers and write-offs"),
    "console.adjust.waiting": ("待审批的减免与核销", "Waivers and write-offs to decide"),
    "console.adjust.kind": ("类型", "Kind"),
    "console.adjust.kind.waive_fee": ("减免违约金", "Waive late fees"),
    "console.adjust.kind.write_off": ("核销欠费", "Write off arrears"),
    "console.adjust.number": ("编号", "Number"),
    "console.adjust.account": ("户号", "Account"),
    "console.adjust.amount": ("金额（元）", "Amount (yuan)"),
    "console.adjust.until": ("免收违约金至（含）", "Fees waived through"),
    "console.adjust.reason": ("原因", "Reason"),
    "console.adjust.note": ("说明", "Note"),
    "console.adjust.asked": ("申请人及时间", "Asked by, at"),
    "console.adjust.status": ("状态", "Status"),
    "console.adjust.status.pending": ("待审批", "waiting"),
    "console.adjust.status.approved": ("已批准", "approved"),
    "console.adjust.status.rejected": ("已驳回", "rejected"),
    "console.adjust.decided": ("审批人意见", "Decision note"),
    "console.adjust.ask": ("提交审批", "Ask for approval"),
    "console.adjust.approve": ("批准", "Approve"),
    "console.adjust.reject": ("驳回", "Reject"),
    "console.adjust.own": ("本人申请，须由他人审批", "Yours: another supervisor decides"),
    "console.adjust.none": ("暂无减免或核销记录。", "No waiver or write-off."),
    "console.adjust.none_waiting": ("没有待审批的申请。", "Nothing waits for a decision."),
    "console.adjust.help": (
        "减免违约金：免收该户此前已出账单的违约金（含已产生的和至所选日期的）；"
        "核销欠费：以坏账方式结清已逾期的本金和违约金。均须另一名班长审批后生效。",
        "Waive late fees: the fees of the bills issued so far, through the day chosen. Write "
        "off: settles what is overdue, principal and fees, as bad debt. Another supervisor "
        "approves before either takes effect.",
    ),
    "console.adjust.refused.kind": ("请选择减免或核销。", "Choose a waiver or a write-off."),
    "console.adjust.refused.reason": ("请选择原因。", "Choose a reason."),
    "console.adjust.refused.prepaid": (
        "预付费账户没有账单，不能减免或核销。",
        "A prepaid account has no bills to waive or write off.",
    ),
    "console.adjust.refused.pending": (
        "该户已有同类申请在等待审批。",
        "A request of this kind waits for approval already.",
    ),
    "console.adjust.refused.until_before": (
        "减免截止日期不能早于尚未日结的第一天，请改正。",
        "A waiver runs through the first day not recorded at the earliest: correct the date.",
    ),
    "console.adjust.refused.too_long": (
        "减免最多向后延续一年。", "A waiver runs at most a year ahead."
    ),
    "console.adjust.refused.nothing": (
        "该户没有可减免的违约金或已逾期的欠费。",
        "This account has no late fee to waive or nothing overdue to write off.",
    ),
    "console.adjust.refused.four_eyes": (
        "本人提交的申请须由另一名班长审批。",
        "Another supervisor decides what you asked (four eyes).",
    ),
    "console.adjust.refused.changed": (
        "申请后该户欠费已变化（如有新缴费），请驳回后重新申请。",
        "What the account owes changed since the request (a payment came in): reject it "
        "and ask again.",
    ),
    "console.adjust.refused.unknown": (
        "找不到该户号或申请，请检查后重试。",
        "No such account or request: check it and try again.",
    ),
}  # fmt: skip

register(MESSAGES)
