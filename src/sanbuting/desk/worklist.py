"""Worklists: the next day's proposed actions (the dunning proposal, `jobs.preview`) with each
account's utility, region, class, tags, arrears and days overdue, filtered as a supervisor
asks, and written as a table (CSV or XLSX) with Chinese or English headings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import Engine, select

from sanbuting.domain import BillingMode, CustomerClass, Utility
from sanbuting.engine.holds import ENFORCEMENT
from sanbuting.explain.catalogue import Lang
from sanbuting.jobs.preview import Proposed, preview
from sanbuting.policy.model import AccountFacts, DeferPolicy, ExemptPolicy, Policy
from sanbuting.reports import tables
from sanbuting.reports.tables import Cell, Column, Table
from sanbuting.store.database import sessions
from sanbuting.store.models import Account
from sanbuting.store.policy_versions import policies_for

MOST_ROWS = 100_000
"""A worklist longer than this is cut (the XLSX and the page stay usable)."""


@dataclass(frozen=True)
class Filters:
    """What a supervisor narrows a worklist to; None keeps every value."""

    utility: str | None = None
    region: str | None = None
    """A GB/T 2260 prefix: 44 province, 4403 city, 440305 district."""
    customer_class: str | None = None
    tag: str | None = None
    action: str | None = None
    min_arrears_fen: int | None = None
    max_arrears_fen: int | None = None
    min_days_overdue: int | None = None
    max_days_overdue: int | None = None

    def keep(self, item: WorkItem) -> bool:
        row = item.proposed
        checks = (
            self.utility is None or item.utility == self.utility,
            self.region is None or item.region.startswith(self.region),
            self.customer_class is None or item.customer_class == self.customer_class,
            self.tag is None or self.tag in item.tags,
            self.action is None or row.action == self.action,
            self.min_arrears_fen is None or row.arrears_fen >= self.min_arrears_fen,
            self.max_arrears_fen is None or row.arrears_fen <= self.max_arrears_fen,
            _at_least(row.days_overdue, self.min_days_overdue),
            _at_most(row.days_overdue, self.max_days_overdue),
        )
        return all(checks)

    def given(self) -> dict[str, str]:
        """The filters set, as the console's query asks them (arrears in yuan)."""
        named = {
            "min_arrears_fen": "min_arrears",
            "max_arrears_fen": "max_arrears",
            "min_days_overdue": "min_days",
            "max_days_overdue": "max_days",
        }
        given = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            given[named.get(f.name, f.name)] = (
                f"{value / 100:.2f}" if f.name.endswith("_fen") else str(value)
            )
        return given


def _at_least(value: int | None, bound: int | None) -> bool:
    return bound is None or (value is not None and value >= bound)


def _at_most(value: int | None, bound: int | None) -> bool:
    return bound is None or (value is not None and value <= bound)


@dataclass(frozen=True)
class WorkItem:
    proposed: Proposed
    utility: str
    region: str
    customer_class: str
    tags: tuple[str, ...]
    relief: str = ""
    """The exempt and defer policies in the account's scope and why none stops the action
    (not begun, ended, or its one move spent), in the list's language."""


WHY_NOT: dict[Lang, dict[str, str]] = {
    "zh": {
        "exempt": "免停",
        "defer": "缓停",
        "later": "{id}（{kind}）{start} 起才生效",
        "over": "{id}（{kind}）已于 {end} 结束",
        "spent": "{id}（{kind}）本次欠费已顺延过",
        "self": "{id}（{kind}）不适用于自动关阀",
        "sep": "；",
    },
    "en": {
        "exempt": "exempt",
        "defer": "defer",
        "later": "{id} ({kind}) starts on {start}",
        "over": "{id} ({kind}) ended on {end}",
        "spent": "{id} ({kind}) already moved this episode's step",
        "self": "{id} ({kind}) cannot stop a meter that closes itself",
        "sep": "; ",
    },
}


def why_not(policies: Sequence[Policy], facts: AccountFacts, row: Proposed, day: date,
            lang: Lang) -> str:  # fmt: skip
    """Why the exempt and defer policies in scope do not stop `row`'s action on `day`."""
    if row.action not in ENFORCEMENT:
        return ""
    words = WHY_NOT[lang]
    said = []
    for policy in policies:
        if not isinstance(policy, ExemptPolicy | DeferPolicy) or not policy.scope.matches(facts):
            continue
        window = policy.window
        if day < window.start:
            key = "later"
        elif day >= window.end:
            key = "over"
        else:
            key = "self" if isinstance(policy, ExemptPolicy) else "spent"
        kind = words[str(policy.effect)]
        said.append(words[key].format(id=policy.id, kind=kind, start=window.start, end=window.end))
    return words["sep"].join(said)


@dataclass(frozen=True)
class Worklist:
    day: date
    items: list[WorkItem]
    recorded: bool
    """The day is recorded already: nothing is proposed for it."""
    cut: bool = False


def worklist(
    *, engine: Engine, company_id: int, day: date, filters: Filters, lang: Lang = "zh"
) -> Worklist:
    """The company's proposed actions of `day` kept by `filters` (nothing is recorded)."""
    found = preview(engine=engine, day=day, lang=lang, company_ids=[company_id])
    ids = sorted({row.account_id for row in found.rows})
    facts: dict[str, AccountFacts] = {}
    with sessions(engine).begin() as session:
        policies = policies_for(session=session, company_id=company_id)
        for offset in range(0, len(ids), 5_000):
            chunk = ids[offset : offset + 5_000]
            query = select(
                Account.account_id,
                Account.utility,
                Account.region,
                Account.customer_class,
                Account.billing_mode,
                Account.tags,
            ).where(Account.company_id == company_id, Account.account_id.in_(chunk))
            for account_id, utility, region, klass, mode, tags in session.execute(query):
                facts[account_id] = AccountFacts(
                    Utility(utility), region, CustomerClass(klass), BillingMode(mode),
                    frozenset(t for t in tags.split(";") if t),
                )  # fmt: skip
    items = []
    for row in found.rows:
        mine = facts[row.account_id]
        item = WorkItem(
            row,
            mine.utility.value,
            mine.region,
            mine.customer_class.value,
            tuple(sorted(mine.tags)),
            why_not(policies, mine, row, day, lang),
        )
        if filters.keep(item):
            items.append(item)
    return Worklist(day, items[:MOST_ROWS], bool(found.recorded), len(items) > MOST_ROWS)


COLUMNS = (
    Column("户号", "account", width=14),
    Column("动作", "action"),
    Column("步骤", "step"),
    Column("账单", "bill"),
    Column("政策", "policy"),
    Column("原因", "reason", width=60),
    Column("欠费（元）", "arrears (yuan)", "money"),
    Column("逾期天数", "days overdue", "count"),
    Column("行业", "utility"),
    Column("地区", "region"),
    Column("类别", "class"),
    Column("标签", "tags"),
    Column("纾困政策为何不适用", "why no policy stops it", width=40),
)
"""The worklist's columns as it is exported (`reports.tables`)."""


def table(items: Sequence[WorkItem], day: date) -> Table:
    """The worklist as a table (arrears in fen, shown in yuan), one sheet named for the day."""
    rows: list[list[Cell]] = []
    for item in items:
        row = item.proposed
        rows.append(
            [
                row.account_id,
                row.action,
                row.step,
                row.bill_id,
                row.policy_id,
                row.reason,
                row.arrears_fen,
                row.days_overdue,
                item.utility,
                item.region,
                item.customer_class,
                ";".join(item.tags),
                item.relief,
            ]
        )
    return Table(day.isoformat(), COLUMNS, rows)


def as_csv(items: Sequence[WorkItem], lang: Lang, day: date | None = None) -> str:
    """The worklist as CSV text, headings first (without the BOM)."""
    return tables.as_csv(table(items, day or date.min), lang)


def as_xlsx(items: Sequence[WorkItem], lang: Lang, day: date) -> bytes:
    """One sheet named for the day, headings bold and frozen, arrears as money."""
    return tables.as_xlsx(table(items, day), lang)
