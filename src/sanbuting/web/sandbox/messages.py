"""The sandbox payment provider's words, zh-CN first and English (registered in `web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "sandbox.name": ("沙箱支付", "Sandbox Pay"),
    "sandbox.banner": ("測試環境：不會真實扣款", "Sandbox: no real money moves"),
    "sandbox.title": ("收銀台", "Checkout"),
    "sandbox.merchant": ("收款方", "Merchant"),
    "sandbox.order": ("商戶訂單號", "Merchant order"),
    "sandbox.what": ("商品", "For"),
    "sandbox.amount": ("金額", "Amount"),
    "sandbox.notify": ("異步通知（測試用）", "Asynchronous notification (for testing)"),
    "sandbox.notify.once": ("立即通知一次", "Once, at once"),
    "sandbox.notify.twice": ("重複通知兩次", "Twice (a duplicate)"),
    "sandbox.notify.late": ("延遲通知（頁面先返回）", "Late (the browser returns first)"),
    "sandbox.confirm": ("確認支付", "Confirm payment (確認支付)"),
    "sandbox.cancel": ("取消", "Cancel (取消)"),
    "sandbox.done.confirmed": ("此訂單已支付。", "This order is paid."),
    "sandbox.done.paid": ("此訂單已支付。", "This order is paid."),
    "sandbox.done.cancelled": ("此訂單已取消。", "This order was cancelled."),
    "sandbox.back": ("返回商戶", "Back to the merchant"),
}

register(MESSAGES)
