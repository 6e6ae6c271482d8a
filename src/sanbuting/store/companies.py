"""Companies in the store: the utilities one deployment serves, each with its ruleset and its
origin (the day its imported states and balances are as of, the first day its daily run
decides), its name (国网湖北省电力有限公司) and its corporate group (国家电网), which the
reports roll up by. Unless told otherwise an import puts each utility's accounts in a company
named after the utility.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.errors import SanbutingError
from sanbuting.rules import DEFAULT_RULESETS
from sanbuting.store.models import Company

COMPANY_NAMES = {
    Utility.POWER: "供电企业",
    Utility.TELECOM: "电信业务经营者",
    Utility.GAS: "燃气经营企业",
}


def company_for(
    *, session: Session, code: str | None, utility: Utility, start: date | None
) -> Company:
    """The company `code` (default: the utility's own), created on first use with the
    utility's default ruleset. Its origin is set by the first import that gives `start`;
    a later `start` must agree with it."""
    code = code or utility.value
    company = session.scalar(select(Company).where(Company.code == code))
    if company is None:
        company = Company(
            code=code,
            name=COMPANY_NAMES[utility],
            utility=utility.value,
            ruleset=DEFAULT_RULESETS[utility],
            origin=start,
        )
        session.add(company)
        session.flush()
    if company.utility != utility.value:
        raise SanbutingError(
            f"company {code!r} is a {company.utility} company, not {utility.value}"
        )
    if company.origin is None:
        company.origin = start
    elif start is not None and start != company.origin:
        raise SanbutingError(
            f"company {code!r} starts on {company.origin}, not {start}: "
            "imports into one company share its start date"
        )
    if company.origin is None:
        raise SanbutingError(
            f"company {code!r} has no start date yet: give --start (the day the accounts' "
            "state and balance_fen are as of)"
        )
    return company


NAME_LIMIT = 200
GROUP_LIMIT = 100


def name_company(
    *, session: Session, code: str, name: str | None = None, group: str | None = None
) -> Company:
    """Give the company `code` its name and (or) its group; what is not given is kept."""
    company = company_by_code(session, code)
    for value, limit, what in ((name, NAME_LIMIT, "name"), (group, GROUP_LIMIT, "group")):
        if value is not None and not 0 < len(value.strip()) <= limit:
            raise SanbutingError(f"company {what} {value!r}: give 1 to {limit} characters")
    if name is not None:
        company.name = name.strip()
    if group is not None:
        company.group = group.strip()
    session.flush()
    return company


def companies(session: Session) -> list[Company]:
    """Every company, in code order."""
    return list(session.scalars(select(Company).order_by(Company.code)))


def company_by_code(session: Session, code: str) -> Company:
    """The company `code`; an error listing the companies there are otherwise."""
    found = session.scalar(select(Company).where(Company.code == code))
    if found is None:
        codes = ", ".join(c.code for c in companies(session))
        raise SanbutingError(f"no company {code!r} in the store (companies: {codes or 'none yet'})")
    return found
