"""Field work orders, on SQLite and PostgreSQL: a daily run's cut-off sent to the field becomes
a work order with the address, the arrears and the end of its day as deadline; the payment that
clears the arrears earns a reconnection whose deadline is the payment's time plus the
ruleset's promised hours (power: 12 h, China Southern Power Grid's commitment); a supervisor
hands it to a crew and the crew reports it done; an order past its deadline is overdue from
the minute after; paid at the door records the claim and posts nothing; roles and companies
are kept apart.

Inputs are small literal tables. A1 (power, residential, postpaid, Guangzhou 越秀区 440104,
no policies) owes B1 10000 fen due 2020-01-20 and B2 8000 fen due 2020-02-20: cn-power-1996
gives it a notice on 2020-02-20 and a disconnection order on 2020-02-23, when its arrears are
18000 fen. A2 is the same with B3 only (5000 fen). G1 is gas's: no bills."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sanbuting.dispatch import FileSink, run_dispatcher
from sanbuting.errors import Conflict, Forbidden, NotFound, SanbutingError
from sanbuting.field import orders, service
from sanbuting.jobs.daily import run_daily
from sanbuting.payments.recheck import make_recheck
from sanbuting.payments.service import PaymentIn, post_payment
from sanbuting.staff import teams
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company, LedgerLine, Payment, Posting
from sanbuting.store.web_models import AuditEntry, FieldOrder, Staff
from store_databases import BACKENDS, database, import_into, write_folder

RUN_AT = datetime(2020, 2, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    A1,power,residential,440104,postpaid,,active,0,0,
    A2,power,residential,440104,postpaid,,active,0,0,
    G1,gas,residential,440104,postpaid,,active,0,0,
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,A1,2020-01,2020-01-05,2020-01-20,10000
    B2,A1,2020-02,2020-02-05,2020-02-20,8000
    B3,A2,2020-01,2020-01-05,2020-01-20,5000
"""
PAYMENTS = """
    payment_id,account_id,paid_at,amount_fen,channel
"""
STAFF = (
    # username, company, role, crew (team code; "" none), leads
    ("disp", "power", "supervisor", ""),
    ("east1", "power", "agent", "east"),
    ("west1", "power", "agent", "west"),
    ("loose", "power", "agent", ""),
    ("cash", "power", "cashier", ""),
    ("reg", "power", "regulator", ""),
    ("gasdisp", "gas", "supervisor", ""),
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for url in database(request.param, tmp_path):
        upgrade(url)
        folder = write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS, payments=PAYMENTS)
        import_into(url, folder, tmp_path)
        made = make_engine(url)
        run_daily(engine=made, through=date(2020, 2, 23), single=False, now=lambda: RUN_AT)
        with sessions(made).begin() as session:
            companies = {c.code: c for c in session.scalars(select(Company))}
            crews = {
                code: teams.add_team(
                    session=session, company=companies["power"], code=code, name=name
                )
                for code, name in (("east", "东区抄表班"), ("west", "西区抄表班"))
            }
            for username, company, role, crew in STAFF:
                member = Staff(
                    company_id=companies[company].id,
                    username=username,
                    name=username,
                    role=role,
                    password_hash="-",
                    active=True,
                )
                session.add(member)
                session.flush()
                if crew:
                    teams.join(session=session, team=crews[crew], member=member)
        yield made
        made.dispose()


def dispatch(engine: Engine, now: datetime, sink: Path) -> None:
    """Send what is due at `now`, with the real re-check and the field hook."""
    run_dispatcher(
        engine=engine,
        sink=FileSink(sink),
        recheck=make_recheck(lambda: now, []),
        stop_when_idle=True,
        now=lambda: now,
        on_sent=orders.on_sent,
    )


def staff(session: Session, username: str) -> Staff:
    found = session.scalar(select(Staff).where(Staff.username == username))
    assert found is not None
    return found


def work_orders(session: Session) -> dict[tuple[str, str], FieldOrder]:
    rows = session.execute(
        select(Account.account_id, FieldOrder).join(Account, Account.id == FieldOrder.account)
    ).all()
    return {(number, order.kind): order for number, order in rows}


def pay(engine: Engine, account_id: str, fen: int, key: str, paid_at: str) -> None:
    with sessions(engine).begin() as session:
        post_payment(
            session=session,
            payment=PaymentIn(account_id, fen, key, at(paid_at)),
            policies=[],
            now=at(paid_at),
        )


def ledger(session: Session) -> tuple[int, int, int]:
    """Payments, postings and the sum of every ledger line's absolute amount."""
    return (
        session.scalar(select(func.count()).select_from(Payment)) or 0,
        session.scalar(select(func.count()).select_from(Posting)) or 0,
        session.scalar(select(func.coalesce(func.sum(func.abs(LedgerLine.amount_fen)), 0))) or 0,
    )


CUT_OFFS = [
    # account, kind, address, arrears_fen, deadline
    ("A1", "cut_off", "广东省 广州市 越秀区", 18000, "2020-02-24T00:00:00+08:00"),
    ("A2", "cut_off", "广东省 广州市 越秀区", 5000, "2020-02-24T00:00:00+08:00"),
]


def test_a_cut_off_sent_to_the_field_is_a_work_order(engine: Engine, tmp_path: Path) -> None:
    with sessions(engine).begin() as session:
        assert work_orders(session) == {}  # decided, not sent yet
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), tmp_path / "sink.jsonl")
    dispatch(engine, at("2020-02-23T09:40:00+08:00"), tmp_path / "sink.jsonl")  # nothing new
    with sessions(engine).begin() as session:
        found = work_orders(session)
        assert sorted(
            (number, o.kind, o.address, o.arrears_fen, orders.clock_of(o, RUN_AT).deadline)
            for (number, _), o in found.items()
        ) == [(a, k, addr, fen, at(when)) for a, k, addr, fen, when in CUT_OFFS]
        assert {o.status for o in found.values()} == {"open"}
        assert {o.deadline_source for o in found.values()} == {orders.CUT_OFF_SOURCE}


def test_a_paid_account_gets_its_reconnection_on_the_promise(
    engine: Engine, tmp_path: Path
) -> None:
    sink = tmp_path / "sink.jsonl"
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), sink)
    pay(engine, "A1", 20000, "P-1", "2020-02-24T10:00:00+08:00")
    with sessions(engine).begin() as session:
        a1 = session.scalar(select(Account).where(Account.account_id == "A1"))
        assert a1 is not None
        promise = orders.promised_reconnection(session=session, account=a1)
        assert promise is not None and promise.by == at("2020-02-24T22:00:00+08:00")
        assert "南方电网" in promise.source and "12小时" in promise.source
    dispatch(engine, at("2020-02-24T10:05:00+08:00"), sink)
    with sessions(engine).begin() as session:
        order = work_orders(session)[("A1", "reconnect")]
        assert (order.status, order.arrears_fen) == ("open", 0)
        clock = orders.clock_of(order, at("2020-02-24T10:05:00+08:00"))
        assert (clock.deadline, clock.state) == (at("2020-02-24T22:00:00+08:00"), "running")
        disp, east1 = staff(session, "disp"), staff(session, "east1")
        service.assign(
            session=session, order=order, by=disp, team="east", now=at("2020-02-24T10:10:00+08:00")
        )
        assert [
            o.id
            for o in service.worklist(
                session=session, staff=east1, view="open", now=at("2020-02-24T11:00:00+08:00")
            )[0]
        ] == [order.id]
        service.report(
            session=session,
            order=order,
            by=east1,
            said=service.Report("done", note="已复电"),
            now=at("2020-02-24T21:30:00+08:00"),
        )
        assert (order.status, order.reported_by) == ("done", east1.id)
        assert orders.clock_of(order, at("2020-02-25T09:00:00+08:00")).state == "met"
        a1 = session.get(Account, order.account)
        assert a1 is not None
        assert orders.promised_reconnection(session=session, account=a1) is None
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == str(order.id))
        ).all()
        assert sorted(audited) == ["field.assign", "field.report"]


OVERDUE = [
    # the business clock, the clock's state, listed as overdue
    ("2020-02-23T23:59:00+08:00", "running", False),
    ("2020-02-24T00:00:00+08:00", "running", False),
    ("2020-02-24T00:01:00+08:00", "overdue", True),
    ("2020-02-25T08:00:00+08:00", "overdue", True),
]


@pytest.mark.parametrize(("now", "state", "listed"), OVERDUE)
def test_an_order_past_its_deadline_is_overdue_from_the_minute_after(
    engine: Engine, tmp_path: Path, now: str, state: str, listed: bool
) -> None:
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), tmp_path / "sink.jsonl")
    with sessions(engine).begin() as session:
        order = work_orders(session)[("A1", "cut_off")]
        assert orders.clock_of(order, at(now)).state == state
        overdue, _ = service.worklist(
            session=session, staff=staff(session, "disp"), view="overdue", now=at(now)
        )
        assert (order.id in [o.id for o in overdue]) is listed


def test_paid_at_the_door_records_the_claim_and_posts_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), tmp_path / "sink.jsonl")
    moment = at("2020-02-23T15:00:00+08:00")
    with sessions(engine).begin() as session:
        before = ledger(session)
        order = work_orders(session)[("A1", "cut_off")]
        service.assign(
            session=session, order=order, by=staff(session, "disp"), team="west", now=moment
        )
        service.report(
            session=session,
            order=order,
            by=staff(session, "west1"),
            said=service.Report("paid_at_door", paid_fen=18000, note="客户出示收据"),
            now=moment,
        )
        assert (order.status, order.paid_fen, order.reason) == ("paid_at_door", 18000, None)
        assert ledger(session) == before
        claims, total = service.worklist(
            session=session, staff=staff(session, "cash"), view="paid_at_door", now=moment
        )
        assert ([o.id for o in claims], total) == ([order.id], 1)
        detail = session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "field.report")
        )
        assert detail is not None and '"paid_yuan": "180.00"' in detail


REFUSED = [
    # who, what, the error
    ("loose", "list", Forbidden),  # an agent in no crew
    ("reg", "list", Forbidden),  # a regulator does not work field orders
    ("cash", "list", Forbidden),  # a cashier sees only the claims
    ("west1", "read", NotFound),  # another crew's order
    ("gasdisp", "read", NotFound),  # another company's order
    ("east1", "assign", Forbidden),  # an agent does not dispatch
    ("west1", "report", Forbidden),  # another crew reports
    ("disp", "report_unassigned", Conflict),  # no crew yet
    ("disp", "not_done_without_reason", SanbutingError),
    ("disp", "paid_without_amount", SanbutingError),
    ("east1", "report_twice", Conflict),
]


@pytest.mark.parametrize(("who", "what", "error"), REFUSED)
def test_roles_crews_and_companies_are_kept_apart(
    engine: Engine, tmp_path: Path, who: str, what: str, error: type[Exception]
) -> None:
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), tmp_path / "sink.jsonl")
    moment = at("2020-02-23T12:00:00+08:00")
    with sessions(engine).begin() as session:
        found = work_orders(session)
        order, spare = found[("A1", "cut_off")], found[("A2", "cut_off")]
        disp = staff(session, "disp")
        service.assign(session=session, order=order, by=disp, team="east", now=moment)
        if what == "report_twice":
            service.report(
                session=session, order=order, by=disp, said=service.Report("done"), now=moment
            )
        member = staff(session, who)
        with pytest.raises(error):
            if what == "list":
                service.worklist(session=session, staff=member, view="open", now=moment)
            elif what == "read":
                service.get_order(session=session, staff=member, order_id=order.id)
            elif what == "assign":
                service.assign(session=session, order=order, by=member, team="east", now=moment)
            elif what == "report_unassigned":
                service.report(
                    session=session, order=spare, by=member, said=service.Report("done"), now=moment
                )
            else:
                said = {
                    "not_done_without_reason": service.Report("not_done"),
                    "paid_without_amount": service.Report("paid_at_door"),
                }.get(what, service.Report("done"))
                service.report(session=session, order=order, by=member, said=said, now=moment)


def test_not_done_keeps_its_reason(engine: Engine, tmp_path: Path) -> None:
    dispatch(engine, at("2020-02-23T09:30:00+08:00"), tmp_path / "sink.jsonl")
    moment = at("2020-02-23T16:00:00+08:00")
    with sessions(engine).begin() as session:
        order = work_orders(session)[("A2", "cut_off")]
        service.assign(
            session=session, order=order, by=staff(session, "disp"), team="east", now=moment
        )
        service.report(
            session=session,
            order=order,
            by=staff(session, "east1"),
            said=service.Report("not_done", reason="no_access"),
            now=moment,
        )
        assert (order.status, order.reason) == ("not_done", "no_access")
        closed, _ = service.worklist(
            session=session, staff=staff(session, "east1"), view="closed", now=moment
        )
        assert [o.id for o in closed] == [order.id]
        assert orders.clock_of(order, moment).state == "closed"
