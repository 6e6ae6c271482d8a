"""The online business pages' words, zh-CN first and English (registered with `web.i18n`)."""

from __future__ import annotations

from sanbuting.applications.service import STATUS_TEXT
from sanbuting.web.i18n import register

MESSAGES: dict[str, tuple[str, str]] = {
    "business.nav.catalogue": ("网上办理", "Online services"),
    "business.nav.mine": ("我的申请", "My applications"),
    "business.title": ("网上办理", "Online services"),
    "business.intro": (
        "7×24 小时在线办理，提交后获得申请编号，可随时查看办理进度。",
        "Apply online at any hour: you get an application number and can follow its progress.",
    ),
    "business.utility.power": ("电力", "Power"),
    "business.utility.gas": ("燃气", "Gas"),
    "business.utility.telecom": ("电信", "Telecom"),
    "business.category.business": ("业务办理", "Services"),
    "business.category.ticket": ("报修与投诉", "Repairs and complaints"),
    "business.promise": ("承诺时限：{promise}", "Promised: {promise}"),
    "business.promise.source": ("依据：{source}", "Source: {source}"),
    "business.needs_account": ("需绑定户号", "needs a bound account"),
    "business.form.account": ("办理户号", "Account"),
    "business.form.account.none": ("不关联户号", "No account"),
    "business.form.no_account": (
        "办理此业务需要先绑定本人户号。",
        "This service needs one of your accounts: bind it first.",
    ),
    "business.form.bind": ("去绑定户号", "Bind an account"),
    "business.form.company": ("办理单位", "Utility"),
    "business.form.optional": ("选填", "optional"),
    "business.form.documents": ("申请材料", "Documents"),
    "business.form.documents.note": (
        "请勾选您已备齐的材料，办理时请出示原件；带 * 的为必备材料。",
        "Tick the documents you hold and show them when we visit; those marked * are required.",
    ),
    "business.form.choose": ("请选择", "Choose"),
    "business.form.submit": ("提交申请", "Submit"),
    "business.form.errors": ("请修改以下内容后再提交：", "Please correct the following:"),
    "business.form.invalid": ("无法提交：{detail}", "Could not submit: {detail}"),
    "business.limit.open": (
        "您已有 {limit} 件申请正在办理，已达上限。"
        "请等待其中一件办结，或撤销不再需要的申请后再提交。",
        "You have {limit} applications open, the most allowed: wait until one is completed, "
        "or cancel one you no longer need, then apply again.",
    ),
    "business.limit.day": (
        "您今天已提交 {limit} 件申请，已达每日上限。"
        "请明天（北京时间）再提交；如有急事，请致电客服热线。",
        "You have submitted {limit} applications today, the most allowed in a day: apply "
        "again tomorrow (Beijing time), or call us if it cannot wait.",
    ),
    "business.mine.title": ("我的申请", "My applications"),
    "business.mine.none": ("您还没有提交过申请。", "You have not applied for anything yet."),
    "business.mine.number": ("申请编号", "Number"),
    "business.mine.business": ("业务", "Service"),
    "business.mine.status": ("状态", "Status"),
    "business.mine.submitted": ("提交时间", "Submitted"),
    "business.mine.promised": ("承诺办结时间", "Promised by"),
    "business.detail.title": ("申请 {number}", "Application {number}"),
    "business.detail.done": (
        "已提交。申请编号 {number}，我们承诺在 {promised} 前办结。",
        "Submitted. Your application number is {number}; we promise to finish by {promised}.",
    ),
    "business.detail.history": ("办理进度", "Progress"),
    "business.detail.form": ("申请内容", "What you asked"),
    "business.detail.by.customer": ("您", "you"),
    "business.detail.by.staff": ("工作人员", "our staff"),
    "business.detail.cancel": ("撤销申请", "Cancel the application"),
    "business.prev": ("上一页", "Previous"),
    "business.next": ("下一页", "Next"),
}
MESSAGES.update({f"application.status.{key}": texts for key, texts in STATUS_TEXT.items()})

register(MESSAGES)
