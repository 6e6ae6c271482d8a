"""An account's story over the store, as `sanbuting explain` tells it over files: the engine
runs the one account from its company's origin through the last day run, with the active
policy set, keeping its notes, and the explain narrator tells them (zh-CN or English)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from sanbuting.domain import Utility
from sanbuting.engine.simulate import accounts_from_frames
from sanbuting.explain import Lang
from sanbuting.explain.account import ExplainRequest, tell
from sanbuting.rules import rulesets_by_utility
from sanbuting.store.held_frames import load_run_frames
from sanbuting.store.models import Account, Company
from sanbuting.store.policy_versions import policies_for
from sanbuting.store.runs import last_run_day


@dataclass(frozen=True)
class StoreStory:
    lines: list[str]
    through: date | None
    """The last day told (the last day run, or the origin before any run)."""
    state: str | None
    """The account's state at the end of `through`, as the engine decided it."""


def store_story(*, session: Session, company: Company, account: Account, lang: Lang) -> StoreStory:
    """The account's story (see the module docstring)."""
    origin = company.origin
    if origin is None:
        return StoreStory([], None, None)
    through = last_run_day(session, company) or origin
    policies = policies_for(session=session, company_id=company.id)
    rulesets = rulesets_by_utility({Utility(company.utility): company.ruleset})
    frames = load_run_frames(session, [company.id], rulesets, [account.id])
    record = accounts_from_frames(*frames)[0]
    request = ExplainRequest(
        data=Path("store"),
        policy_files=(),
        account_id=account.account_id,
        start=origin,
        end=through,
        lang=lang,
    )
    told = tell(request, record, account.phone, policies, rulesets)
    lines, result = told.lines, told.result
    state = result.state.state if result.state is not None else None
    return StoreStory(lines, through, str(state) if state is not None else None)
