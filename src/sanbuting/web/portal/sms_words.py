"""The words of the portal's "my messages" page, zh-CN first and English (registered with
`web.i18n`)."""

from __future__ import annotations

from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "portal.nav.messages": ("我的短信", "My messages"),
    "portal.messages.title": ("我的短信", "My messages"),
    "portal.messages.lead": (
        "发送到您登录手机号 {phone} 的短信，最新的在前（验证码已隐藏）。",
        "Text messages sent to your sign-in number {phone}, newest first (codes hidden).",
    ),
    "portal.messages.none": ("还没有发给您的短信。", "No message was sent to you yet."),
    "portal.messages.at": ("时间", "When"),
    "portal.messages.from": ("发送单位", "From"),
    "portal.messages.text": ("内容", "Text"),
    "portal.messages.status": ("状态", "Status"),
    "portal.messages.status.queued": ("等待发送", "waiting"),
    "portal.messages.status.held": ("{at} 后发送（夜间免打扰）", "after {at} (quiet hours)"),
    "portal.messages.status.sending": ("发送中", "sending"),
    "portal.messages.status.sent": ("已发送", "sent"),
    "portal.messages.status.delivered": ("已送达", "delivered"),
    "portal.messages.status.failed": ("发送失败", "not delivered"),
    "portal.messages.status.unknown": ("状态未知", "unknown"),
    "portal.messages.optout.title": ("不接收非必要短信", "No non-essential messages"),
    "portal.messages.optout.lead": (
        "开启后，各供电、通信、燃气公司不再向您的手机号发送公益短信和业务进度等非必要短信；"
        "欠费催缴、停复电（机、气）通知、紧急预警和登录验证码仍会发送。",
        "When on, the companies send your number no public-service broadcasts or application "
        "news; notices about your arrears, cut-offs and reconnections, emergency warnings and "
        "sign-in codes still come.",
    ),
    "portal.messages.optout.on": ("已开启：不接收非必要短信", "On: no non-essential messages"),
    "portal.messages.optout.off": ("未开启：接收全部短信", "Off: all messages come"),
    "portal.messages.optout.turn_on": ("开启", "Turn on"),
    "portal.messages.optout.turn_off": ("关闭", "Turn off"),
}

register(MESSAGES)
