"""Account search for the collections desk: by number (prefix), phone, holder's name, a
fragment of the place (the district, city or province name: 江岸 finds Wuhan's 江岸区), the
account's state as the last recorded run left it, and an arrears range (the ledger's, at the
end of the last recorded day). Scoped to one company; the arrears are read for at most
`CANDIDATES` accounts matching the rest, so a range alone over a large company asks for a
narrower search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from sanbuting.ledger.service import arrears
from sanbuting.regions import all_regions
from sanbuting.store.models import Account, Run, StoredAction
from sanbuting.store.web_models import Holder

CANDIDATES = 500
STATE_OF = {
    "suspend": "suspended",
    "disconnect": "disconnected",
    "terminate": "terminated",
    "reconnect": "active",
}
"""The recorded actions that change an account's state, and the state they leave."""


@dataclass(frozen=True)
class Search:
    text: str = ""
    state: str | None = None
    min_arrears_fen: int | None = None
    max_arrears_fen: int | None = None

    @property
    def asked(self) -> bool:
        return bool(self.text) or self.state is not None or self.by_arrears

    @property
    def by_arrears(self) -> bool:
        return self.min_arrears_fen is not None or self.max_arrears_fen is not None


@dataclass(frozen=True)
class Found:
    account: Account
    state: str
    arrears_fen: int | None
    """At the end of `on` (None when no day is recorded yet)."""


def _place_codes(fragment: str) -> list[str]:
    """The region codes (any level) whose name holds `fragment` (two characters or more)."""
    if len(fragment) < 2:
        return []
    return [r.code for r in all_regions() if fragment in r.name]


def _text_matches(text: str) -> ColumnElement[bool]:
    places = _place_codes(text)
    return or_(
        Account.account_id.startswith(text, autoescape=True),
        Account.phone == text,
        Holder.name.startswith(text, autoescape=True),
        *(Account.region.startswith(code) for code in places[:200]),
    )


def search_accounts(
    session: Session, company_id: int, asked: Search, on: date | None, limit: int = 50
) -> list[Found]:
    """Accounts of the company matching every part of `asked`, by number (see the module
    docstring); `on` is the last recorded day (for the arrears)."""
    if not asked.asked:
        return []
    last = (
        select(StoredAction.account, func.max(StoredAction.id).label("action_id"))
        .join(Run, Run.id == StoredAction.run)
        .where(Run.company_id == company_id, StoredAction.action.in_(list(STATE_OF)))
        .group_by(StoredAction.account)
        .subquery()
    )
    query = (
        select(Account, StoredAction.action)
        .outerjoin(Holder, Holder.account == Account.id)
        .outerjoin(last, last.c.account == Account.id)
        .outerjoin(StoredAction, StoredAction.id == last.c.action_id)
        .where(Account.company_id == company_id)
        .order_by(Account.account_id)
    )
    if asked.text:
        query = query.where(_text_matches(asked.text))
    rows = session.execute(query.limit(CANDIDATES if asked.by_arrears else 5 * limit)).all()
    found = []
    for account, action in rows:
        state = STATE_OF[action] if action else account.state
        if asked.state is not None and state != asked.state:
            continue
        owed = arrears(session=session, account=account, on=on) if on else None
        low, high = asked.min_arrears_fen, asked.max_arrears_fen
        if asked.by_arrears and (owed is None or not _within(owed, low, high)):
            continue
        found.append(Found(account, state, owed))
        if len(found) == limit:
            break
    return found


def _within(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


__all__ = ["CANDIDATES", "Found", "Search", "search_accounts"]
