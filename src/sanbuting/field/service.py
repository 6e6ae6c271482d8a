"""Staff working field work orders (`field.orders`): the worklists, handing an order to a crew,
and the crew's report. A crew is a team of the company (`staff.teams`).

- **Who**: a supervisor (the dispatcher's desk) sees every order of the company and hands
  orders to crews; an agent sees only their own crew's orders and reports on them; a cashier
  sees the claims of payment at the door (to post them at the counter); anyone else is refused.
- **Worklists** (`worklist`), by deadline then id: `open` (open or assigned), `overdue` (open
  or assigned and past the deadline at `now`), `closed` (reported), `paid_at_door` (the claims);
  any of them narrowed to one crew (`team`).
- **Assignment** (`assign`): a supervisor hands an open or assigned order to a crew.
- **Report** (`report`): a member of the order's crew (or a supervisor for them) reports it
  `done`, `not_done` with a reason code (`REASONS`), or `paid_at_door` with the amount the
  customer says they paid. Paid at the door never posts money: only a cashier or a confirmed
  provider notification posts a payment; the claim waits for the cashier.

Every change is in the audit log. Every function is keyword-only and scoped by the member of
staff's company; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc, format_yuan
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError
from sanbuting.field.orders import OPEN
from sanbuting.staff import teams
from sanbuting.staff.service import audit
from sanbuting.store.models import Account
from sanbuting.store.web_models import FieldOrder, Staff, Team

View = Literal["open", "overdue", "closed", "paid_at_door"]
VIEWS: tuple[View, ...] = ("open", "overdue", "closed", "paid_at_door")
Outcome = Literal["done", "not_done", "paid_at_door"]
OUTCOMES: tuple[Outcome, ...] = ("done", "not_done", "paid_at_door")
Reason = Literal["no_access", "customer_absent", "customer_refused", "safety", "meter_fault"]
REASONS: tuple[Reason, ...] = get_args(Reason)
"""Why an order was not carried out: no access to the meter, nobody home, the customer
refused, unsafe to work, the meter or valve is faulty."""
DISPATCHERS = ("supervisor",)
CREWS = ("agent",)
CASHIERS = ("cashier",)
MAX_PAID_FEN = 10**11
CLOSED = ("done", "not_done", "paid_at_door")


def _refuse_role(staff: Staff) -> None:
    if staff.role not in (*DISPATCHERS, *CREWS, *CASHIERS):
        raise Forbidden(
            f"the {staff.role} role does not work field orders: ask a supervisor or a crew"
        )


def _crew_of(session: Session, staff: Staff) -> Team:
    crew = teams.team_of(session=session, staff=staff)
    if crew is None:
        raise Forbidden(
            f"{staff.username} is in no crew: ask a supervisor to add you to one "
            "(sanbuting staff join USERNAME --team CODE)"
        )
    return crew


def _scoped(session: Session, staff: Staff, query: Select[FieldOrder]) -> Select[FieldOrder]:
    """`query` narrowed to what `staff` may see (see the module docstring)."""
    _refuse_role(staff)
    query = query.where(FieldOrder.company_id == staff.company_id)
    if staff.role in CREWS:
        query = query.where(FieldOrder.team_id == _crew_of(session, staff).id)
    return query


def worklist(
    *,
    session: Session,
    staff: Staff,
    view: View,
    now: datetime,
    team: str | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[FieldOrder], int]:
    """One page of the worklist `view` (see the module docstring) and how many it holds."""
    _refuse_role(staff)
    if staff.role in CASHIERS and view != "paid_at_door":
        raise Forbidden("a cashier sees the claims of payment at the door (view paid_at_door)")
    query = _scoped(session, staff, select(FieldOrder))
    if view == "open":
        query = query.where(FieldOrder.status.in_(OPEN))
    elif view == "overdue":
        query = query.where(FieldOrder.status.in_(OPEN), FieldOrder.deadline < as_utc(now))
    elif view == "closed":
        query = query.where(FieldOrder.status.in_(CLOSED))
    elif view == "paid_at_door":
        query = query.where(FieldOrder.status == "paid_at_door")
    else:
        raise SanbutingError(f"{view!r} is not a worklist: use one of {', '.join(VIEWS)}")
    if team:
        crew = teams.team_by_code(session=session, company_id=staff.company_id, code=team)
        query = query.where(FieldOrder.team_id == crew.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(FieldOrder.deadline, FieldOrder.id)
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    return list(rows), int(total)


def get_order(*, session: Session, staff: Staff, order_id: int) -> FieldOrder:
    """The company's work order `order_id` that `staff` may see: another company's, or for an
    agent another crew's, is NotFound; a role that works no field orders is Forbidden."""
    _refuse_role(staff)
    found = session.scalar(
        select(FieldOrder).where(
            FieldOrder.id == order_id, FieldOrder.company_id == staff.company_id
        )
    )
    if found is None:
        raise NotFound(f"no field order {order_id} in your company")
    if staff.role in CREWS and found.team_id != _crew_of(session, staff).id:
        raise NotFound(f"field order {order_id} is not your crew's: see your crew's list")
    return found


def assign(*, session: Session, order: FieldOrder, by: Staff, team: str, now: datetime) -> Team:
    """Hand the open or assigned `order` to the crew `team`, by a supervisor; audited."""
    if by.company_id != order.company_id:
        raise NotFound(f"no field order {order.id} in your company")
    if by.role not in DISPATCHERS:
        raise Forbidden("only a supervisor hands field orders to crews: ask a supervisor")
    session.refresh(order, with_for_update=True)  # a report at the same time: one wins
    if order.status not in OPEN:
        raise Conflict(f"field order {order.id} has been reported ({order.status}): it is closed")
    crew = teams.team_by_code(session=session, company_id=by.company_id, code=team)
    before = order.team_id
    order.team_id, order.status = crew.id, "assigned"
    order.assigned_by, order.assigned_at = by.id, as_utc(now)
    session.flush()
    audit(
        session=session,
        staff=by,
        action="field.assign",
        target=str(order.id),
        detail={"team": crew.code, "before": before, "kind": order.kind},
        now=now,
    )
    return crew


@dataclass(frozen=True, slots=True)
class Report:
    """What the field reports on an order."""

    outcome: Outcome
    reason: str | None = None
    paid_fen: int | None = None
    note: str = ""


def report(
    *, session: Session, order: FieldOrder, by: Staff, said: Report, now: datetime
) -> FieldOrder:
    """Record the field's report on `order` (see the module docstring); audited."""
    if by.company_id != order.company_id:
        raise NotFound(f"no field order {order.id} in your company")
    if by.role in CREWS:
        if order.team_id is None or _crew_of(session, by).id != order.team_id:
            raise Forbidden("only the order's crew reports on it: ask the supervisor")
    elif by.role not in DISPATCHERS:
        raise Forbidden(f"the {by.role} role does not report field work: ask the crew")
    _check(order, said)
    session.refresh(order, with_for_update=True)
    if order.status != "assigned":
        done = order.status in CLOSED
        raise Conflict(
            f"field order {order.id} has been reported ({order.status}) already"
            if done
            else f"field order {order.id} has no crew yet: a supervisor assigns one first"
        )
    order.status = said.outcome
    order.reason = said.reason if said.outcome == "not_done" else None
    order.paid_fen = said.paid_fen if said.outcome == "paid_at_door" else None
    order.note = said.note.strip()[:2000]
    order.reported_by, order.reported_at = by.id, as_utc(now)
    session.flush()
    detail: dict[str, object] = {"outcome": said.outcome, "kind": order.kind}
    if order.reason:
        detail["reason"] = order.reason
    if order.paid_fen is not None:
        detail["paid_yuan"] = format_yuan(order.paid_fen)
    audit(
        session=session,
        staff=by,
        action="field.report",
        target=str(order.id),
        detail=detail,
        now=now,
    )
    return order


def _check(order: FieldOrder, said: Report) -> None:
    if said.outcome not in OUTCOMES:
        raise SanbutingError(f"{said.outcome!r}: report one of {', '.join(OUTCOMES)}")
    if said.outcome == "not_done" and said.reason not in REASONS:
        raise SanbutingError(f"say why the order was not carried out: one of {', '.join(REASONS)}")
    if said.outcome == "paid_at_door":
        if order.kind == "reconnect":
            raise SanbutingError(
                "a reconnection follows a payment: nothing is paid at the door, report done "
                "or not done"
            )
        if said.paid_fen is None or not 0 < said.paid_fen <= MAX_PAID_FEN:
            raise SanbutingError(
                "give the amount the customer says they paid at the door, in fen above 0"
            )


def account_ids(*, session: Session, orders: list[FieldOrder]) -> dict[int, str]:
    """The account numbers of `orders`' accounts, by store id."""
    ids = {order.account for order in orders}
    if not ids:
        return {}
    rows = session.execute(select(Account.id, Account.account_id).where(Account.id.in_(ids)))
    return {int(row.id): str(row.account_id) for row in rows}


def crews(*, session: Session, company_id: int, orders: list[FieldOrder]) -> dict[int, Team]:
    """The crews of `orders`, by id."""
    ids = {order.team_id for order in orders if order.team_id is not None}
    if not ids:
        return {}
    found = session.scalars(select(Team).where(Team.company_id == company_id, Team.id.in_(ids)))
    return {team.id: team for team in found}
