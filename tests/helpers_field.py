"""Field work orders in the API tests' world (`test_api_world`): a crew `east` of power with
agent_p in it, and orders sent to the field on 2020-03-09 — P1's and G1's cut-offs, and P1's
reconnection queued 2020-03-10 10:00 (no payment: promised 12 h from then, 22:00)."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import select

from sanbuting.domain import as_utc
from sanbuting.field.orders import open_for
from sanbuting.staff import teams
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.models import DONE, Account, Company, OutboxItem
from sanbuting.store.web_models import Staff

DAY = date(2020, 3, 9)
QUEUED = datetime.fromisoformat("2020-03-10T10:00:00+08:00")
ORDERS = (("P1", "disconnect"), ("G1", "disconnect"), ("P1", "reconnect"))


def seed_field_orders(url: str) -> dict[tuple[str, str], int]:
    """The orders of the module docstring; their ids by (account, action)."""
    engine = make_engine(url)
    ids: dict[tuple[str, str], int] = {}
    try:
        with sessions(engine).begin() as session:
            power = session.scalar(select(Company).where(Company.code == "power"))
            agent = session.scalar(select(Staff).where(Staff.username == "agent_p"))
            assert power is not None and agent is not None
            crew = teams.add_team(session=session, company=power, code="east", name="东区班组")
            teams.join(session=session, team=crew, member=agent)
            for account_id, action in ORDERS:
                account = session.scalar(select(Account).where(Account.account_id == account_id))
                assert account is not None
                company = session.get(Company, account.company_id)
                assert company is not None
                payload = {"action": action, "step": action, "source": "daily"}
                item = OutboxItem(
                    company_id=company.id,
                    key=f"{company.code}:{action}:{account_id}:{DAY}",
                    kind=action,
                    account=account.id,
                    payload=json.dumps(payload),
                    status=DONE,
                    attempts=0,
                    next_attempt_at=as_utc(QUEUED),
                    created_at=as_utc(QUEUED),
                    done_at=as_utc(QUEUED),
                    day=DAY,
                )
                session.add(item)
                session.flush()
                order = open_for(session=session, item=item, now=QUEUED)
                assert order is not None
                ids[(account_id, action)] = order.id
    finally:
        engine.dispose()
    return ids
