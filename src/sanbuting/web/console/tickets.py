"""Console: the ticket worklists on the clock (`/console/tickets`): my tickets, my team's,
the escalated ones (team leads: their team's; supervisors: all) and all the company's open
tickets, by priority, then due time, each with its SLA clock at the business clock's now
(`applications.clock`). A ticket opens on its application page, which shows its clock too.
Every view is audited; a view the member may not see says why, in their language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from sanbuting.applications import assignment, catalogue, clock, tickets
from sanbuting.applications.catalogue import AREA_TEXT
from sanbuting.applications.service import READERS
from sanbuting.errors import Forbidden
from sanbuting.store.web_models import Team
from sanbuting.web import deps
from sanbuting.web.console.common import business_now, page, record
from sanbuting.web.console.exports import MOST_ROWS, FileForm, export
from sanbuting.web.console.tables import tickets_table
from sanbuting.web.deps import require_role
from sanbuting.web.i18n import language, register, translator
from sanbuting.web.types import Page

routes = APIRouter(prefix="/console")
PAGE_SIZE = 50
ViewQuery = Annotated[tickets.View, Query()]

register(
    {
        "console.nav.tickets": ("工单看板", "Tickets"),
        "console.tickets.title": ("工单看板", "Tickets on the clock"),
        "console.tickets.view.mine": ("我的工单", "Mine"),
        "console.tickets.view.team": ("本班组", "My team's"),
        "console.tickets.view.escalated": ("已升级", "Escalated"),
        "console.tickets.view.all": ("全部未办结", "All open"),
        "console.tickets.refused.team": (
            "您尚未加入班组，请联系班长将您加入班组",
            "You are in no team: ask a supervisor to add you to one",
        ),
        "console.tickets.refused.escalated": (
            "已升级工单只向班组组长和班长显示，请查看“我的工单”或“本班组”",
            "Escalated tickets are shown to team leads and supervisors: see yours or your team's",
        ),
        "console.tickets.refused.mine": ("您的岗位不办理工单", "Your role does not work tickets"),
        "console.tickets.refused.all": ("您的岗位不办理工单", "Your role does not work tickets"),
        "console.tickets.due": ("承诺时限", "Due"),
        "console.tickets.clock": ("计时", "Clock"),
        "console.tickets.left": ("剩余 {minutes} 分钟", "{minutes} min left"),
        "console.tickets.late": ("超时 {minutes} 分钟", "{minutes} min late"),
        "console.tickets.area": ("地区类别", "Area"),
        "console.tickets.team": ("班组", "Team"),
        "console.tickets.escalate_at": ("升级时间", "Escalates at"),
        "console.tickets.stopped_at": ("到达或办结时间", "Milestone reached"),
        "console.tickets.milestone.arrival": ("承诺到达现场", "Promised: on site"),
        "console.tickets.milestone.completion": ("承诺办结", "Promised: done"),
        "console.tickets.weekdays": (
            "该年度法定节假日尚未收录，工作日按周一至周五计算",
            "This year's statutory holidays are not known yet: working days counted Monday "
            "to Friday",
        ),
        "console.clock.running": ("计时中", "Running"),
        "console.clock.escalated": ("已升级", "Escalated"),
        "console.clock.breached": ("已超时", "Overdue"),
        "console.clock.met": ("按时", "On time"),
        "console.clock.missed": ("超时", "Late"),
        "console.clock.closed": ("已关闭", "Closed"),
        **{f"console.area.{key}": words for key, words in AREA_TEXT.items()},
    }
)


@routes.get("/tickets", response_class=HTMLResponse)
def worklist(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    view: ViewQuery = "mine",
    page_number: Annotated[Page, Query(alias="page")] = 1,
) -> Response:
    require_role(staff, *READERS)
    now = business_now(request)
    refused = False
    try:
        rows, total = tickets.worklist(
            session=session, staff=staff, view=view, now=now, page=page_number, size=PAGE_SIZE
        )
    except Forbidden:
        rows, total, refused = [], 0, True
    record(session, staff, "view_tickets", view)
    working = assignment.assignees(
        session=session, company_id=staff.company_id, ids=(t.assigned_to for t in rows)
    )
    team_ids = {t.team_id for t in rows if t.team_id is not None}
    named = {team.id: team for team in (session.get(Team, i) for i in team_ids) if team}
    return page(
        request,
        "console/tickets.html",
        staff,
        rows=[(t, clock.clock_of(t, now)) for t in rows],
        assignees=working,
        teams=named,
        view=view,
        views=tickets.VIEWS,
        refused=refused,
        total=total,
        names={b.code: b for b in catalogue.catalogue()},
        page_number=page_number,
        more=page_number * PAGE_SIZE < total,
    )


@routes.get("/tickets.{form}")
def worklist_file(
    request: Request,
    session: deps.DB,
    staff: deps.SignedInStaff,
    form: FileForm,
    view: ViewQuery = "mine",
) -> Response:
    """The worklist `view`, every page of it (up to `exports.MOST_ROWS`), each ticket with its
    clock at the business clock's now; a view the member may not see is refused (403)."""
    require_role(staff, *READERS)
    now = business_now(request)
    rows, _ = tickets.worklist(session=session, staff=staff, view=view, now=now, size=MOST_ROWS)
    working = assignment.assignees(
        session=session, company_id=staff.company_id, ids=(t.assigned_to for t in rows)
    )
    team_ids = {t.team_id for t in rows if t.team_id is not None}
    named = {team.id: team for team in (session.get(Team, i) for i in team_ids) if team}
    lang = language(request)
    listed = tickets_table(
        [(t, clock.clock_of(t, now)) for t in rows],
        working,
        named,
        {b.code: b for b in catalogue.catalogue()},
        translator(lang),
        lang,
    )
    return export(
        request, session, staff, listed,
        form=form, name=f"tickets-{view}", action="export_tickets", target=view,
    )  # fmt: skip
