"""The console's lists as tables to export (`reports.tables`), one builder per list, each with
the columns and words of its page: headings from the console's catalogue in both languages,
codes in the reader's words (states, kinds, statuses), times in Asia/Shanghai to the minute,
money as fen (written in 元). Personal data arrives as the page shows it (masked by the caller
unless the role may see it); nothing here unmasks anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sanbuting.applications.catalogue import Business
from sanbuting.applications.clock import Clock
from sanbuting.field.orders import FieldClock
from sanbuting.jobs.releases import HeldDay
from sanbuting.reports.tables import Cell, Column, Kind, Table
from sanbuting.store.models import AccountHold, PolicyVersion
from sanbuting.store.web_models import Application, AuditEntry, FieldOrder, Staff, Team
from sanbuting.web.console.common import when
from sanbuting.web.i18n import CATALOGUE, register
from sanbuting.whatif.trials import KeptChange

T = TypeVar("T")
Words = Callable[..., str]
"""The reader's translator (`web.i18n.translator`)."""

register(
    {
        "console.export.minutes_left": ("剩余分钟（负数为超时）", "Minutes left (negative: late)"),
        "console.export.ticket": ("是否工单", "Ticket"),
        "console.export.area": ("地区类别", "Area"),
        "console.export.clock": ("计时状态", "Clock"),
        "console.export.reason": ("未完成原因", "Why not done"),
        "console.export.reported_at": ("回单时间", "Reported at"),
        "console.export.start": ("起始日", "From"),
        "console.export.instalments": ("分期期数", "Parts"),
        "console.export.steps": ("锁定范围", "What it locks"),
        "console.export.total": ("合计", "Total"),
        "console.export.active": ("当前生效", "Active"),
        "console.export.company": ("单位", "Company"),
        "console.export.day": ("日期", "Day"),
        "console.export.before": ("现行政策下的动作", "Actions with the active set"),
        "console.export.after": ("新政策下的动作", "Actions with the new set"),
        "console.export.policies": ("引起变化的政策", "Policies that made the difference"),
    }
)


def _of(found: Mapping[int, T], key: int | None) -> T | None:
    return None if key is None else found.get(key)


def column(key: str, kind: Kind = "text", width: int | None = None) -> Column:
    """A column headed by the catalogue's words for `key`."""
    return Column(CATALOGUE["zh"][key], CATALOGUE["en"][key], kind, width)


def accounts_table(rows: Sequence[Mapping[str, Any]], t: Words) -> Table:
    """The account search's results (`web.console.accounts.search` rows, phones as shown)."""
    columns = (
        column("console.account.number", width=14),
        column("console.account.utility"),
        column("console.account.region", width=30),
        column("console.account.state"),
        column("console.worklist.arrears", "money"),
        column("console.account.phone", width=14),
    )
    cells: list[list[Cell]] = [
        [
            row["account"].account_id,
            t(f"console.utility.{row['account'].utility}"),
            row["region"],
            t(f"console.state.{row['state']}"),
            row["arrears"],
            row["phone"],
        ]
        for row in rows
    ]
    return Table("accounts", columns, cells)


def holds_table(holds: Sequence[AccountHold], t: Words, account_id: str) -> Table:
    """An account's locks, promises to pay and instalment plans, newest first."""
    columns = (
        column("console.hold.id", width=14),
        column("console.hold.kind"),
        column("console.export.steps"),
        column("console.export.start", "date"),
        column("console.hold.until", "date"),
        column("console.hold.amount", "money"),
        column("console.export.instalments", "count"),
        column("console.hold.reason"),
        column("console.hold.by"),
    )
    cells: list[list[Cell]] = [
        [
            h.hold_id,
            t(f"console.hold.kind.{h.kind}"),
            t(f"console.hold.steps.{h.steps}") if h.kind == "hold" else "",
            h.start_on,
            h.until_on,
            h.amount_fen,
            h.instalments,
            t(f"console.hold.reason.{h.reason}"),
            h.set_by,
        ]
        for h in holds
    ]
    return Table(f"holds-{account_id}", columns, cells)


def _business(names: Mapping[str, Business], code: str, lang: str) -> str:
    found = names.get(code)
    if found is None:
        return code
    return found.zh if lang == "zh" else found.en


def applications_table(
    rows: Sequence[Application],
    assignees: Mapping[int, Staff],
    names: Mapping[str, Business],
    t: Words,
    lang: str,
) -> Table:
    """The applications queue, by priority, then promise."""
    columns = (
        column("console.queue.number", width=18),
        column("console.queue.business", width=24),
        column("console.export.ticket"),
        column("console.status"),
        column("console.queue.priority"),
        column("console.queue.promised", width=18),
        column("console.application.assignee"),
    )
    cells: list[list[Cell]] = []
    for a in rows:
        found = names.get(a.business)
        worker = _of(assignees, a.assigned_to)
        ticket = found is not None and found.category == "ticket"
        cells.append(
            [
                a.number,
                _business(names, a.business, lang),
                t("console.export.yes" if ticket else "console.export.no"),
                t(f"application.status.{a.status}"),
                t(f"console.priority.{a.priority}"),
                when(a.promised_by),
                worker.username if worker else "",
            ]
        )
    return Table("applications", columns, cells)


def tickets_table(
    rows: Sequence[tuple[Application, Clock]],
    assignees: Mapping[int, Staff],
    teams: Mapping[int, Team],
    names: Mapping[str, Business],
    t: Words,
    lang: str,
) -> Table:
    """A ticket worklist with each ticket's SLA clock (`applications.clock.Clock`)."""
    columns = (
        column("console.queue.number", width=18),
        column("console.queue.business", width=24),
        column("console.queue.priority"),
        column("console.export.area"),
        column("console.tickets.due", width=18),
        column("console.export.clock"),
        column("console.export.minutes_left", "count"),
        column("console.application.assignee"),
        column("console.tickets.team"),
    )
    cells: list[list[Cell]] = []
    for a, clock in rows:
        worker, team = _of(assignees, a.assigned_to), _of(teams, a.team_id)
        left = clock.seconds_left
        cells.append(
            [
                a.number,
                _business(names, a.business, lang),
                t(f"console.priority.{a.priority}"),
                t(f"console.area.{clock.area}") if clock.area else "",
                when(a.promised_by),
                t(f"console.clock.{clock.state}"),
                None if left is None else _minutes(left),
                worker.username if worker else "",
                team.name if team else "",
            ]
        )
    return Table("tickets", columns, cells)


def _minutes(seconds: int) -> int:
    """Whole minutes left as the page says them (late: rounded up)."""
    return seconds // 60 if seconds >= 0 else -((-seconds + 59) // 60)


def field_table(
    rows: Sequence[tuple[FieldOrder, FieldClock]],
    numbers: Mapping[int, str],
    holders: Mapping[int, str],
    crews: Mapping[int, Team],
    t: Words,
) -> Table:
    """Field work orders with their clock (`field.orders.FieldClock`), holders as shown."""
    columns = (
        column("console.field.id", "count"),
        column("console.field.kind"),
        column("console.field.account", width=14),
        column("console.field.holder"),
        column("console.field.address", width=30),
        column("console.field.arrears", "money"),
        column("console.field.deadline", width=18),
        column("console.export.clock"),
        column("console.export.minutes_left", "count"),
        column("console.field.crew"),
        column("console.field.status"),
        column("console.export.reason"),
        column("console.field.paid_yuan", "money"),
        column("console.export.reported_at", width=18),
    )
    cells: list[list[Cell]] = []
    for o, clock in rows:
        crew = _of(crews, o.team_id)
        left = clock.seconds_left if o.status in ("open", "assigned") else None
        cells.append(
            [
                o.id,
                t(f"console.field.kind.{o.kind}"),
                numbers.get(o.account, ""),
                holders.get(o.account, ""),
                o.address,
                o.arrears_fen,
                when(o.deadline),
                t(f"console.field.state.{clock.state}"),
                None if left is None else _minutes(left),
                crew.name if crew else "",
                t(f"console.field.status.{o.status}"),
                t(f"console.field.reason.{o.reason}") if o.reason else "",
                o.paid_fen,
                when(o.reported_at),
            ]
        )
    return Table("field-orders", columns, cells)


def held_table(held: Sequence[HeldDay], t: Words) -> Table:
    """Days with held enforcement orders (`jobs.releases.HeldDay`): the total and each kind."""
    kinds = sorted({kind for day in held for kind in day.counts})
    columns = (
        column("console.orders.day", "date"),
        column("console.orders.held", "count"),
        *(
            Column(
                CATALOGUE["zh"].get(f"console.action.{k}", k),
                CATALOGUE["en"].get(f"console.action.{k}", k),
                "count",
            )
            for k in kinds
        ),
    )
    cells: list[list[Cell]] = [
        [day.day, day.total, *(day.counts.get(k, 0) for k in kinds)] for day in held
    ]
    return Table("held-orders", columns, cells)


def audit_table(rows: Sequence[tuple[AuditEntry, str]]) -> Table:
    """The audit log, newest first; the details as the log keeps them (masked when written)."""
    columns = (
        column("console.audit.at", width=18),
        column("console.audit.who"),
        column("console.audit.action", width=20),
        column("console.audit.target", width=20),
        column("console.audit.detail", width=60),
    )
    cells: list[list[Cell]] = [
        [
            when(entry.at),
            username,
            entry.action,
            entry.target,
            json.dumps(json.loads(entry.detail or "{}"), ensure_ascii=False, sort_keys=True),
        ]
        for entry, username in rows
    ]
    return Table("audit-log", columns, cells)


def versions_table(versions: Sequence[PolicyVersion], scope_name: str, t: Words) -> Table:
    """Policy-set versions, newest first, the active one of each scope marked."""
    columns = (
        column("console.policies.version", "count"),
        column("console.policies.scope", width=20),
        column("console.policies.file", width=24),
        column("console.policies.count", "count"),
        column("console.policies.by", width=24),
        column("console.policies.at", width=18),
        column("console.export.active"),
        Column("sha256", "sha256", width=66),
    )
    cells: list[list[Cell]] = []
    seen: set[bool] = set()
    for v in versions:
        deployment = v.company_id is None
        active = deployment not in seen
        seen.add(deployment)
        cells.append(
            [
                v.version,
                t("console.policies.scope.deployment") if deployment else scope_name,
                v.file_name,
                v.policies,
                v.activated_by,
                when(v.activated_at),
                t("console.export.yes" if active else "console.export.no"),
                v.sha256,
            ]
        )
    return Table("policy-versions", columns, cells)


def changes_table(changes: Sequence[KeptChange], names: Mapping[str, str]) -> Table:
    """A what-if's changed account-days: actions as the engine names them (as the worklist's
    export does), `—` for none."""
    columns = (
        column("console.export.company", width=20),
        column("console.worklist.account", width=14),
        column("console.export.day", "date"),
        column("console.export.before", width=20),
        column("console.export.after", width=20),
        column("console.export.policies", width=30),
    )
    cells: list[list[Cell]] = [
        [
            names.get(c.company, c.company),
            c.account_id,
            c.day,
            c.before or "—",
            c.after or "—",
            c.policies,
        ]
        for c in changes
    ]
    return Table("what-if-changes", columns, cells)


__all__ = [
    "accounts_table",
    "applications_table",
    "audit_table",
    "changes_table",
    "field_table",
    "held_table",
    "holds_table",
    "tickets_table",
    "versions_table",
]
