"""The sandbox payment provider's words, zh-CN first and English (registered in `web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "sandbox.name": ("沙箱支付", "Sandbox Pay"),
    "sandbox.banner": ("测试环境：不会真实扣款", "Sandbox: no real money moves"),
    "sandbox.title": ("收银台", "Checkout"),
    "sandbox.merchant": ("收款方", "Merchant"),
    "sandbox.order": ("商户订单号", "Merchant order"),
    "sandbox.what": ("商品", "For"),
    "sandbox.amount": ("金额", "Amount"),
    "sandbox.notify": ("异步通知（测试用）", "Asynchronous notification (for testing)"),
    "sandbox.notify.once": ("立即通知一次", "Once, at once"),
    "sandbox.notify.twice": ("重复通知两次", "Twice (a duplicate)"),
    "sandbox.notify.late": ("延迟通知（页面先返回）", "Late (the browser returns first)"),
    "sandbox.confirm": ("确认支付", "Confirm payment (确认支付)"),
    "sandbox.cancel": ("取消", "Cancel (取消)"),
    "sandbox.done.confirmed": ("此订单已支付。", "This order is paid."),
    "sandbox.done.paid": ("此订单已支付。", "This order is paid."),
    "sandbox.done.cancelled": ("此订单已取消。", "This order was cancelled."),
    "sandbox.back": ("返回商户", "Back to the merchant"),
}

register(MESSAGES)
