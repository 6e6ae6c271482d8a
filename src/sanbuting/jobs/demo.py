"""A store ready to click through: generated accounts imported into three companies (power,
telecom, gas, each with a name and a group), the 2020 policies active, the quarter run,
holders' names (generated, so that customers can bind accounts), and one member of staff per
role for each company with a demo password (one policy authority and one deployment regulator
for the whole deployment). Used by `make demo` and the browser tests; never for a real
deployment.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from sanbuting.customers.service import proof_fen, set_holder
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.staff.service import add_staff
from sanbuting.store.companies import name_company
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Company
from sanbuting.store.web_models import STAFF_ROLES

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉"
DEMO_PASSWORD = "sanbuting-demo"
DEMO_COMPANIES = {
    "power": ("国网湖北省电力有限公司", "国家电网"),
    "telecom": ("中国电信股份有限公司湖北分公司", "中国电信"),
    "gas": ("武汉华润燃气有限公司", "华润燃气"),
}
"""Each utility's company in the demo: its name and group."""
DEPLOYMENT_WIDE = ("policy_authority", "deployment_regulator")
"""Roles of the whole deployment: one member each, in the first company."""


def holder_name(account_id: str) -> str:
    """A plausible name for an account, the same every time."""
    n = zlib.crc32(account_id.encode("utf-8"))
    given = GIVEN[n // 31 % len(GIVEN)]
    if n % 3:
        given += GIVEN[n // 997 % len(GIVEN)]
    return SURNAMES[n % len(SURNAMES)] + given


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    region: str
    holder: str
    utility: str
    billing_mode: str
    last_bill_fen: int
    """What binding asks besides the name: the latest bill's amount (prepaid: top-up)."""


@dataclass(frozen=True)
class DemoStore:
    url: str
    staff: list[tuple[str, str, str]]
    """(username, role, company code); every password is DEMO_PASSWORD."""
    accounts: list[DemoAccount]
    """A few accounts to bind, one of each utility and mode where there is one."""


def seed_demo(
    *, url: str, data: Path, policies: Path, start: date, through: date, rejects: Path
) -> DemoStore:
    """Build the demo store at `url` from the input folder `data`."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(tz=UTC)
    try:
        with sessions(engine).begin() as session:
            activate(session=session, path=policies, by="demo", at=now, company=None)
        import_and_book(
            data=data,
            start=start,
            company=None,
            by="demo",
            allow_rejects=True,
            rejects_file=rejects,
            url=url,
        )
        run_daily(engine=engine, through=through, single=False, now=lambda: datetime.now(tz=UTC))
        staff: list[tuple[str, str, str]] = []
        picked: list[DemoAccount] = []
        with sessions(engine).begin() as session:
            for account in session.scalars(select(Account).order_by(Account.account_id)):
                set_holder(session=session, account=account, name=holder_name(account.account_id))
                kinds = {(a.utility, a.billing_mode) for a in picked}
                proof = proof_fen(session=session, account=account, on=through)
                if (account.utility, account.billing_mode) not in kinds and proof is not None:
                    picked.append(
                        DemoAccount(
                            account.account_id,
                            account.region,
                            holder_name(account.account_id),
                            account.utility,
                            account.billing_mode,
                            proof,
                        )
                    )
            for index, company in enumerate(
                session.scalars(select(Company).order_by(Company.code))
            ):
                if company.code in DEMO_COMPANIES:
                    name, group = DEMO_COMPANIES[company.code]
                    name_company(session=session, code=company.code, name=name, group=group)
                for role in STAFF_ROLES:
                    if role in DEPLOYMENT_WIDE and index > 0:
                        continue  # one holds the deployment-wide set, one reads every company
                    username = f"{company.code}-{role}".replace("_", "-")
                    if role == "deployment_regulator":
                        username = "deployment-regulator"
                    add_staff(
                        session=session,
                        company=company,
                        username=username,
                        name=f"{company.code} {role}",
                        role=role,
                        password=DEMO_PASSWORD,
                    )
                    staff.append((username, role, company.code))
    finally:
        engine.dispose()
    return DemoStore(url, staff, picked)
