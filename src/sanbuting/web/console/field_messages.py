"""The words of the console's field work orders page (`/console/field`), zh-CN first and
English, registered with `web.i18n`; `ERRORS` names the sentence shown for each refusal."""

from __future__ import annotations

from sanbuting.web.i18n import register

ERRORS = {
    "notfound": "console.field.error.notfound",
    "role": "console.field.error.role",
    "nocrew": "console.field.error.nocrew",
    "state": "console.field.error.state",
    "reason": "console.field.error.reason",
    "amount": "console.field.error.amount",
    "input": "console.field.error.input",
}
"""The message key of each kind of refusal (`web.console.field`)."""

register(
    {
        "console.nav.field": ("外勤工单", "Field orders"),
        "console.field.title": ("外勤工单", "Field work orders"),
        "console.field.intro": (
            "停电、复电和关表工单在指令发出时生成；超过时限仍未回单的工单标为“已超时”。",
            "Cut-off, reconnection and meter-closing orders are made when the order is sent; "
            "those past their deadline and not reported are flagged overdue.",
        ),
        "console.field.view.open": ("待办", "Open"),
        "console.field.view.overdue": ("已超时", "Overdue"),
        "console.field.view.closed": ("已回单", "Reported"),
        "console.field.view.paid_at_door": ("现场缴费待入账", "Paid at the door"),
        "console.field.crew_filter": ("班组", "Crew"),
        "console.field.all_crews": ("全部班组", "All crews"),
        "console.field.filter": ("筛选", "Filter"),
        "console.field.id": ("工单号", "Order"),
        "console.field.kind": ("类型", "Kind"),
        "console.field.kind.cut_off": ("停电（停止服务）", "Cut-off"),
        "console.field.kind.reconnect": ("复电（恢复服务）", "Reconnection"),
        "console.field.kind.meter_close": ("关表", "Meter closing"),
        "console.field.account": ("户号", "Account"),
        "console.field.holder": ("户名", "Holder"),
        "console.field.address": ("服务地址", "Service address"),
        "console.field.arrears": ("欠费（元）", "Arrears (yuan)"),
        "console.field.deadline": ("完成时限", "Deadline"),
        "console.field.crew": ("班组", "Crew"),
        "console.field.status": ("状态", "Status"),
        "console.field.status.open": ("待派工", "Waiting for a crew"),
        "console.field.status.assigned": ("已派工", "With a crew"),
        "console.field.status.done": ("已完成", "Done"),
        "console.field.status.not_done": ("未完成", "Not done"),
        "console.field.status.paid_at_door": ("客户现场缴费", "Paid at the door"),
        "console.field.state.running": ("未超时", "On time so far"),
        "console.field.state.overdue": ("已超时", "Overdue"),
        "console.field.state.met": ("按时完成", "Done on time"),
        "console.field.state.missed": ("超时完成", "Done late"),
        "console.field.state.closed": ("已回单", "Reported"),
        "console.field.left": ("剩余 {minutes} 分钟", "{minutes} min left"),
        "console.field.late": ("超时 {minutes} 分钟", "{minutes} min late"),
        "console.field.reason.no_access": ("无法进入现场", "No access to the meter"),
        "console.field.reason.customer_absent": ("客户不在", "Nobody home"),
        "console.field.reason.customer_refused": ("客户拒绝", "The customer refused"),
        "console.field.reason.safety": ("存在安全隐患", "Unsafe to work"),
        "console.field.reason.meter_fault": ("表计或阀门故障", "Meter or valve faulty"),
        "console.field.paid": (
            "现场缴费 {amount} 元，待收费员入账",
            "{amount} yuan paid at the door, for a cashier to post",
        ),
        "console.field.assign": ("派给班组", "Hand to crew"),
        "console.field.outcome": ("回单", "Report"),
        "console.field.outcome.done": ("已完成", "Done"),
        "console.field.outcome.not_done": ("未完成", "Not done"),
        "console.field.outcome.paid_at_door": ("客户现场缴费", "Paid at the door"),
        "console.field.reason": ("未完成原因", "Why not done"),
        "console.field.paid_yuan": ("现场缴费金额（元）", "Paid at the door (yuan)"),
        "console.field.note": ("备注", "Note"),
        "console.field.submit": ("提交回单", "Send report"),
        "console.field.done.assigned": ("已派给班组。", "Handed to the crew."),
        "console.field.done.reported": ("已回单。", "Report recorded."),
        "console.field.source": ("时限依据", "Deadline source"),
        "console.field.error.notfound": (
            "找不到该工单，或不属于您的班组，请返回列表刷新后再试",
            "No such order, or not your crew's: go back to the list and refresh it",
        ),
        "console.field.error.role": (
            "您的岗位不能办理此操作，请联系班长",
            "Your role cannot do this: ask a supervisor",
        ),
        "console.field.error.nocrew": (
            "您尚未加入班组，或该工单不属于您的班组，请联系班长",
            "You are in no crew, or this order is not your crew's: ask a supervisor",
        ),
        "console.field.error.state": (
            "该工单已回单或尚未派工，请刷新列表后再试",
            "This order has been reported already or has no crew yet: refresh the list",
        ),
        "console.field.error.reason": (
            "请选择未完成的原因后再提交",
            "Choose why the order was not done, then send it again",
        ),
        "console.field.error.amount": (
            "请填写客户称已现场缴纳的金额（元，最多两位小数）",
            "Enter the amount the customer says they paid (yuan, at most two decimals)",
        ),
        "console.field.error.input": (
            "无法按此回单：复电工单不能登记现场缴费，请检查回单内容后重试",
            "This report cannot be recorded (a reconnection takes no payment at the door): "
            "check it and send it again",
        ),
    }
)
