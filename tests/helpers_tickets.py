"""Shared by the ticket tests: a store with five power accounts (a Guangzhou district, a
hospital there, a Wuhan district, a Hubei county and a remote account tagged rural), a relief
policy naming Hubei, a supervisor and agents in two teams (one led), on SQLite or PostgreSQL;
and a repair ticket for each account, all submitted on 2020-02-03 at 10:00."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sanbuting.applications import service as applications
from sanbuting.domain import SHANGHAI
from sanbuting.jobs.activation import activate_text
from sanbuting.staff import teams
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import Staff
from store_databases import database, import_into, write_folder
from test_api_world import password_hash


def at(text: str) -> datetime:
    """`2020-01-17 10:00` (or with seconds) in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


ACCOUNTS = """
    account_id,utility,customer_class,region,billing_mode,tags,state,balance_fen,credit_limit_fen,phone
    GZ1,power,residential,440104,postpaid,,active,0,0,13800000001
    HOSP,power,non_residential,440104,postpaid,hospital,active,0,0,13800000002
    WH1,power,residential,420102,postpaid,,active,0,0,13800000003
    SY1,power,residential,420822,postpaid,,active,0,0,13800000004
    FAR,power,residential,440104,postpaid,rural,active,0,0,13800000005
"""
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    B1,GZ1,2019-12,2019-12-05,2019-12-20,10000
"""
HUBEI_RELIEF = """\
policies:
  - id: hubei-power-2020
    title: 湖北 欠费不停电
    effect: exempt
    scope: {utility: [power], region: ["42"], customer_class: [residential]}
    window: {start: 2020-01-24, end: 2020-04-01}
"""
STAFF = {
    # username: (role, team, leads)
    "boss": ("supervisor", None, False),
    "lead": ("agent", "repair", True),
    "fixer": ("agent", "repair", False),
    "other": ("agent", "desk", False),
    "lonely": ("agent", None, False),
}
SUBMITTED = at("2020-02-03 10:00")
REPAIR = {"fault": "no_power", "address": "某路 1 号", "contact_phone": "13900000009"}


def ticket_store(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """The store of the module docstring (for a test module's `engine` fixture)."""
    for url in database(backend, tmp_path):
        upgrade(url)
        import_into(url, write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS), tmp_path)
        made = make_engine(url)
        with sessions(made).begin() as session:
            activate_text(
                session=session,
                text=HUBEI_RELIEF,
                file_name="hubei.yaml",
                company=None,
                by="test",
                at=SUBMITTED,
            )
            company = session.scalar(select(Company))
            assert company is not None
            made_teams = {
                code: teams.add_team(session=session, company=company, code=code, name=name)
                for code, name in (("repair", "城东抢修班"), ("desk", "客服班"))
            }
            for username, (role, team, lead) in STAFF.items():
                member = Staff(
                    company_id=company.id,
                    username=username,
                    name=username,
                    role=role,
                    password_hash=password_hash(),
                    active=True,
                )
                session.add(member)
                session.flush()
                if team is not None:
                    teams.join(session=session, team=made_teams[team], member=member, lead=lead)
        yield made
        made.dispose()


def staff(session: Session, username: str) -> Staff:
    found = session.scalar(select(Staff).where(Staff.username == username))
    assert found is not None
    return found


def open_repairs(engine: Engine) -> dict[str, str]:
    """A repair ticket for each account, all submitted at 10:00: number by account."""
    numbers = {}
    with sessions(engine).begin() as session:
        for account_id in ("GZ1", "HOSP", "WH1", "SY1", "FAR"):
            account = session.scalar(select(Account).where(Account.account_id == account_id))
            company = session.get(Company, account.company_id) if account else None
            assert account is not None and company is not None
            made = applications.submit(
                session=session,
                business="power-fault-repair",
                company=company,
                account=account,
                customer=None,
                fields=REPAIR,
                documents=[],
                now=SUBMITTED,
            )
            numbers[account_id] = made.number
    return numbers


TICKETS = [
    # account, area, priority, due (the hospital first; then Hubei, a region the relief names)
    ("HOSP", "city", 1, "10:45"),
    ("WH1", "city", 2, "10:45"),
    ("SY1", "county", 2, "11:30"),
    ("GZ1", "city", 3, "10:45"),
    ("FAR", "rural", 3, "12:00"),
]
