"""Hypothesis strategies for whole universes: accounts, bills, payments, usage, relief policies
and a run period, built directly as the frames the engines take (the contract's dtypes, as
`sanbuting.io.readers` loads them), valid per the contract.

    @given(universes())
    def test_something(universe: Universe) -> None:
        run_frames(universe.frames, universe.policies, rulesets, universe.start, universe.end)

Values cluster where the rules have edges: prepaid balances around the low-balance and cut-off
thresholds, tiny bills (the 1-yuan minimum fee), payments that are partial, exact or over,
timestamps at 23:59 and at 16:00 UTC (00:00 the next Shanghai day), several payments on one
day, bills issued before the run, policy windows that open or close inside it. A `Universe`
prints as CSV tables and policy YAML, so a falsifying example can be pasted into a scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from hypothesis import strategies as st

from sanbuting.domain import SHANGHAI, BillingMode, CustomerClass, Utility
from sanbuting.engine.relief_column import attach
from sanbuting.io.contract import ACCOUNTS, BILLS, HOLDS, PAYMENTS, USAGE
from sanbuting.policy.model import (
    CreditPolicy,
    DeferPolicy,
    ExemptPolicy,
    Policy,
    Scope,
    WaiverPolicy,
    Window,
)
from sanbuting.rules import rulesets_by_utility

Frames = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]

RULESETS = rulesets_by_utility()
"""The shipped rulesets: account relief is compiled under them."""
REGIONS = ("440305", "440106", "420111", "420102", "110101", "330106")
"""Real districts: Shenzhen Nanshan, Guangzhou Tianhe, Wuhan Hongshan and Jiang'an, Beijing
Dongcheng, Hangzhou Xihu."""
REGION_PREFIXES = ("44", "4403", "42", "440305", "11")
TAGS = ("hospital", "epidemic_key", "frontline_medical")
STATES = ("active", "suspended", "disconnected", "terminated")
ODD_IDS = ("a-1", "X_9", "戶7", "A01", "b.2", "Z")
"""Account ids beyond A1..An: punctuation, a non-ASCII id (crc32 of its UTF-8 bytes), an id
that sorts between others."""
MONTHS = tuple(f"{y}-{m:02d}" for y, m in ((2019, 10), (2019, 11), (2019, 12)))
MONTHS += tuple(f"2020-{m:02d}" for m in range(1, 6))

BILLS_FROM, BILLS_TO = date(2019, 10, 1), date(2020, 4, 30)
ACTIVITY_FROM, ACTIVITY_TO = date(2019, 10, 1), date(2020, 6, 1)
POLICY_FROM, POLICY_TO = date(2019, 12, 1), date(2020, 5, 31)
START_FROM, START_TO = date(2019, 12, 1), date(2020, 3, 1)
MAX_RUN_DAYS = 90


@dataclass(frozen=True)
class Universe:
    """One generated run: the input frames, the policies in file order, the period."""

    accounts: pl.DataFrame
    bills: pl.DataFrame
    payments: pl.DataFrame
    usage: pl.DataFrame
    policies: tuple[Policy, ...]
    start: date
    end: date
    holds: pl.DataFrame = field(default_factory=HOLDS.empty)
    """Account relief (`universes(holds=True)`); empty otherwise."""

    @property
    def frames(self) -> Frames:
        """The engines' frames: the holds ride on the accounts (`engine.holds.attach`)."""
        accounts = attach(self.accounts, self.holds, self.payments, RULESETS)
        return (accounts, self.bills, self.payments, self.usage)

    def __repr__(self) -> str:
        return "Universe(\n" + describe(self) + "\n)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a falsifying example: the input files, not frame tables."""
        printer.text(repr(self))


# --- rendering (for falsifying examples) ----------------------------------------------------


def _csv(frame: pl.DataFrame) -> str:
    text = frame.with_columns(
        pl.col(name).list.join(";")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.List)
    )
    if "paid_at" in text.columns:
        text = text.with_columns(pl.col("paid_at").dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))
    return text.write_csv(line_terminator="\n", null_value="").rstrip("\n")


def _yaml_list(values: tuple[Any, ...]) -> str:
    return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values) + "]"


def policy_yaml(policy: Policy) -> str:
    """One policy in the contract's YAML (as a list item)."""
    lines = [f"  - id: {policy.id}", f"    effect: {policy.effect.value}"]
    scope = {
        key: getattr(policy.scope, key)
        for key in ("utility", "region", "customer_class", "tags", "billing_mode")
        if getattr(policy.scope, key) is not None
    }
    if scope:
        lines.append("    scope:")
        lines.extend(f"      {key}: {_yaml_list(tuple(map(str, v)))}" for key, v in scope.items())
    else:
        lines.append("    scope: {}")
    lines.append(f"    window: {{start: {policy.window.start}, end: {policy.window.end}}}")
    if isinstance(policy, ExemptPolicy):
        lines.append(f"    pause_reminders: {str(policy.pause_reminders).lower()}")
        lines.append(f"    reconnect: {str(policy.reconnect).lower()}")
        lines.append(f"    resume: {{spread_days: {policy.spread_days}}}")
    elif isinstance(policy, DeferPolicy):
        what = f"days: {policy.days}" if policy.days is not None else f"until: {policy.until}"
        lines.append(f"    defer: {{{what}}}")
    elif isinstance(policy, WaiverPolicy):
        if policy.issued_in is not None:
            lines.append(f"    bills: {{issued_in: {_yaml_list(policy.issued_in)}}}")
        elif policy.period_in is not None:
            lines.append(f"    bills: {{period_in: {_yaml_list(policy.period_in)}}}")
    else:
        lines.append(f"    credit_fen: {policy.credit_fen}")
    return "\n".join(lines)


def describe(universe: Universe) -> str:
    """The universe as the contract's input files and policy YAML, and the run's dates."""
    parts = [
        f"--start {universe.start} --end {universe.end}",
        "accounts.csv:\n" + _csv(universe.accounts.drop("phone")),
        "bills.csv:\n" + _csv(universe.bills),
        "payments.csv:\n" + _csv(universe.payments.drop("paid_on")),
        "usage.csv:\n" + _csv(universe.usage),
        "holds.csv:\n" + _csv(universe.holds),
        "policies.yaml:\npolicies:"
        + ("".join("\n" + policy_yaml(p) for p in universe.policies) or " []"),
    ]
    return "\n".join(parts)


# --- values ---------------------------------------------------------------------------------


def days_between(first: date, last: date) -> st.SearchStrategy[date]:
    """A date in [first, last]."""
    return st.dates(min_value=first, max_value=last)


def fen_amounts() -> st.SearchStrategy[int]:
    """A bill's amount: anything up to 2,000 yuan, often tiny (the 1-yuan minimum)."""
    return st.one_of(st.integers(1, 200_000), st.integers(1, 500))


def prepaid_balances() -> st.SearchStrategy[int]:
    """Around the thresholds: 3,000 / 1,000 low balance, 0, minus a credit limit."""
    edges = [-10_001, -10_000, -5_001, -5_000, -1, 0, 1, 999, 1000, 2999, 3000, 3001]
    return st.one_of(st.integers(-20_000, 20_000), st.sampled_from(edges))


def clock_times() -> st.SearchStrategy[time]:
    """Shanghai wall-clock times, with the day's edges well represented."""
    return st.one_of(
        st.sampled_from([time(0, 0), time(23, 59), time(23, 59, 59, 999_999), time(8, 0)]),
        st.times(),
    )


@st.composite
def instants(draw: st.DrawFn, first: date, last: date) -> datetime:
    """A payment instant in Asia/Shanghai: a local time, or a UTC instant near 16:00Z (the
    Shanghai midnight), whose Shanghai day is the next UTC day."""
    day = draw(days_between(first, last))
    if draw(st.booleans()):
        return datetime.combine(day, draw(clock_times()), tzinfo=SHANGHAI)
    minutes = draw(st.integers(-90, 90))
    utc = datetime.combine(day, time(16, 0), tzinfo=UTC) + timedelta(minutes=minutes)
    return utc.astimezone(SHANGHAI)


# --- accounts and their rows ----------------------------------------------------------------


@dataclass
class _Ids:
    """Running counters for globally unique bill and payment ids."""

    bills: int = 0
    payments: int = 0
    holds: int = 0

    def bill(self, label: int) -> str:
        self.bills += 1
        return f"B{label}-{self.bills}" if label % 3 == 0 else f"B{self.bills:03d}{label % 7}"

    def payment(self) -> str:
        self.payments += 1
        return f"P{self.payments}"

    def hold(self) -> str:
        self.holds += 1
        return f"H{self.holds}"


@st.composite
def account_ids(draw: st.DrawFn, min_size: int, max_size: int) -> list[str]:
    """Unique ids: mostly A1..An, some with other characters."""
    count = draw(st.integers(min_size, max_size))
    pool = [f"A{k}" for k in range(1, max_size + 1)] + list(ODD_IDS)
    return draw(st.lists(st.sampled_from(pool), min_size=count, max_size=count, unique=True))


@st.composite
def account_row(draw: st.DrawFn, account_id: str) -> dict[str, Any]:
    mode = draw(st.sampled_from([m.value for m in BillingMode]))
    prepaid = mode == BillingMode.PREPAID.value
    return {
        "account_id": account_id,
        "utility": draw(st.sampled_from([u.value for u in Utility])),
        "customer_class": draw(st.sampled_from([c.value for c in CustomerClass])),
        "region": draw(st.sampled_from(REGIONS)),
        "billing_mode": mode,
        "tags": draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True)),
        "state": draw(st.one_of(st.just("active"), st.sampled_from(STATES))),
        "balance_fen": draw(prepaid_balances() if prepaid else st.sampled_from([0, 0, 500, 5000])),
        "credit_limit_fen": draw(st.sampled_from([0, 5000, 10_000])),
        "phone": draw(st.one_of(st.none(), st.just("13800138000"))),
    }


@st.composite
def bill_rows(draw: st.DrawFn, account_id: str, ids: _Ids) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 4))):
        if rows and draw(st.integers(0, 3)) == 0:  # same issue day: the bill_id breaks ties
            issued = rows[-1]["issued_on"]
        else:
            issued = draw(days_between(BILLS_FROM, BILLS_TO))
        own = f"{issued.year:04d}-{issued.month:02d}"
        previous = issued.replace(day=1) - timedelta(days=1)
        period = draw(
            st.sampled_from([own, f"{previous.year:04d}-{previous.month:02d}", *MONTHS[:7]])
        )
        rows.append(
            {
                "bill_id": ids.bill(draw(st.integers(0, 20))),
                "account_id": account_id,
                "period": period,
                "issued_on": issued,
                "due_on": issued + timedelta(days=draw(st.integers(0, 25))),
                "amount_fen": draw(fen_amounts()),
            }
        )
    return rows


@st.composite
def payment_rows(
    draw: st.DrawFn, account_id: str, bills: list[dict[str, Any]], ids: _Ids, prepaid: bool
) -> list[dict[str, Any]]:
    """Payments (postpaid) or top-ups (prepaid): amounts partial, exact or over a bill's,
    instants at random hours, some on the same day or at the same instant."""
    amounts = [b["amount_fen"] for b in bills]
    count = draw(st.integers(0, 4 if prepaid else len(bills) + 2))
    rows: list[dict[str, Any]] = []
    for _ in range(count):
        choices = [st.integers(1, 200_000), st.integers(1, 5000)]
        if amounts:
            owed = draw(st.sampled_from(amounts))
            choices += [
                st.just(owed),
                st.integers(1, owed),
                st.integers(owed + 1, owed + 20_000),
                st.just(sum(amounts)),
            ]
        amount = draw(st.one_of(choices))
        if rows and draw(st.integers(0, 3)) == 0:
            earlier: datetime = draw(st.sampled_from(rows))["paid_at"]
            same_instant = draw(st.booleans())
            paid_at = earlier  # the same instant: payment_id orders them
            if not same_instant:
                paid_at = datetime.combine(earlier.date(), draw(clock_times()), tzinfo=SHANGHAI)
        elif len(bills) > 0 and draw(st.booleans()):
            bill = draw(st.sampled_from(bills))
            around = bill["due_on"] + timedelta(days=draw(st.integers(-3, 60)))
            paid_at = draw(instants(around, around))
        else:
            paid_at = draw(instants(ACTIVITY_FROM, ACTIVITY_TO))
        rows.append(
            {
                "payment_id": ids.payment(),
                "account_id": account_id,
                "paid_at": paid_at,
                "paid_on": paid_at.astimezone(SHANGHAI).date(),
                "amount_fen": amount,
                "channel": draw(st.sampled_from([None, "app", "counter", "bank", "kiosk"])),
            }
        )
    return rows


@st.composite
def hold_rows(
    draw: st.DrawFn,
    account_id: str,
    bills: list[dict[str, Any]],
    payments: list[dict[str, Any]],
    ids: _Ids,
) -> list[dict[str, Any]]:
    """0-3 locks, promises, late-fee waivers and (postpaid, one at most) instalment plans,
    starting around the days the ladder acts (a bill's due date plus about a month) and
    promising amounts that the account's payments reach, or not."""
    rows: list[dict[str, Any]] = []
    kinds = ["hold", "promise", "waive_fee"] + (["instalments"] if bills else [])
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(kinds))
        if bills and draw(st.booleans()):
            due = draw(st.sampled_from(bills))["due_on"]
            start = due + timedelta(days=draw(st.integers(20, 80)))
        else:
            start = draw(days_between(POLICY_FROM, POLICY_TO))
        paid = [p["amount_fen"] for p in payments if p["paid_on"] >= start]
        amount = draw(
            st.one_of(
                [st.integers(1, 50_000)]
                + ([st.just(sum(paid)), st.just(paid[0])] if paid else [])
                + ([st.just(sum(b["amount_fen"] for b in bills))] if bills else [])
            )
        )
        row: dict[str, Any] = {
            "hold_id": ids.hold(),
            "account_id": account_id,
            "kind": kind,
            "from": start,
            "until": start + timedelta(days=draw(st.integers(0, 60))),
            "steps": "all",
            "amount_fen": None,
            "instalments": None,
            "reason": draw(st.sampled_from(["dispute", "medical", "hardship"])),
            "set_by": "S1",
        }
        if kind == "hold":
            row["steps"] = draw(st.sampled_from(["all", "notice"]))
        elif kind == "promise":
            row["amount_fen"] = amount
        elif kind == "waive_fee":
            row["steps"] = None
        else:
            row.update(until=None, amount_fen=amount, instalments=draw(st.integers(2, 4)))
            kinds.remove("instalments")
        rows.append(row)
    return rows


@st.composite
def usage_rows(draw: st.DrawFn, account_id: str) -> list[dict[str, Any]]:
    """Daily usage on random days, or on a run of consecutive days."""
    if draw(st.booleans()):
        days = draw(st.lists(days_between(START_FROM, ACTIVITY_TO), max_size=12, unique=True))
    else:
        first = draw(days_between(START_FROM, ACTIVITY_TO))
        days = [first + timedelta(days=k) for k in range(draw(st.integers(0, 40)))]
    return [
        {"account_id": account_id, "date": day, "amount_fen": draw(st.integers(0, 3000))}
        for day in sorted(days)
    ]


# --- policies -------------------------------------------------------------------------------


def _subset(values: tuple[Any, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True).map(
        tuple
    )


@st.composite
def _maybe(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    """None (the key is not given) two times in three: scopes of many keys rarely match."""
    return draw(strategy) if draw(st.integers(0, 2)) == 0 else None


@st.composite
def scopes(draw: st.DrawFn) -> Scope:
    """A scope; one in five is `scope: {}` (every account), the loader's way to cover all."""
    if draw(st.integers(0, 4)) == 0:
        return Scope()
    return Scope(
        utility=draw(_maybe(_subset(tuple(Utility)))),
        region=draw(_maybe(_subset(REGION_PREFIXES))),
        customer_class=draw(_maybe(_subset(tuple(CustomerClass)))),
        tags=draw(_maybe(_subset(TAGS))),
        billing_mode=draw(_maybe(_subset(tuple(BillingMode)))),
    )


@st.composite
def windows(draw: st.DrawFn, run_start: date, run_end: date) -> Window:
    """A window inside POLICY_FROM..POLICY_TO: anywhere, or opening or closing in the run."""
    last_start = POLICY_TO - timedelta(days=1)
    if draw(st.booleans()):
        start = draw(days_between(POLICY_FROM, last_start))
    else:
        around = run_start + timedelta(days=draw(st.integers(-20, (run_end - run_start).days)))
        start = min(max(around, POLICY_FROM), last_start)
    end = draw(
        st.one_of(
            days_between(start + timedelta(days=1), POLICY_TO),
            st.integers(1, 30).map(lambda n: min(start + timedelta(days=n), POLICY_TO)),
        )
    )
    return Window(start, end)


@st.composite
def policy_of(
    draw: st.DrawFn, effect: str, policy_id: str, run_start: date, run_end: date
) -> Policy:
    common: dict[str, Any] = {
        "id": policy_id,
        "title": policy_id,
        "scope": draw(scopes()),
        "window": draw(windows(run_start, run_end)),
    }
    if effect == "exempt":
        return ExemptPolicy(
            **common,
            pause_reminders=draw(st.booleans()),
            reconnect=draw(st.booleans()),
            spread_days=draw(st.integers(0, 5)),
        )
    if effect == "defer":
        if draw(st.booleans()):
            return DeferPolicy(**common, days=draw(st.integers(1, 40)))
        return DeferPolicy(**common, until=draw(days_between(POLICY_FROM, date(2020, 6, 30))))
    if effect == "waive_late_fee":
        which = draw(st.sampled_from(["issued_in", "period_in", "every bill"]))
        months = draw(_subset(MONTHS))
        return WaiverPolicy(
            **common,
            issued_in=months if which == "issued_in" else None,
            period_in=months if which == "period_in" else None,
        )
    return CreditPolicy(**common, credit_fen=draw(st.integers(1, 20_000)))


EFFECTS = ("exempt", "defer", "waive_late_fee", "emergency_credit")


@st.composite
def policy_lists(
    draw: st.DrawFn, run_start: date, run_end: date, max_each: int = 5
) -> tuple[Policy, ...]:
    """0..max_each policies of every effect, in a random file order, with unique ids; many
    windows open or close inside the run `run_start`..`run_end`."""
    effects = [e for e in EFFECTS for _ in range(draw(st.integers(0, max_each)))]
    order = draw(st.permutations(effects)) if effects else []
    return tuple(
        draw(policy_of(effect, f"p{k}-{effect[:4]}", run_start, run_end))
        for k, effect in enumerate(order)
    )


# --- universes ------------------------------------------------------------------------------


def _frame(rows: list[dict[str, Any]], schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


@st.composite
def universes(
    draw: st.DrawFn,
    min_accounts: int = 1,
    max_accounts: int = 6,
    max_each_policy: int = 5,
    holds: bool = False,
) -> Universe:
    """A valid universe of `min_accounts`..`max_accounts` accounts and a run period (with
    `holds`, account relief too)."""
    ids = _Ids()
    accounts, bills, payments, usage, held = [], [], [], [], []
    for account_id in draw(account_ids(min_accounts, max_accounts)):
        account = draw(account_row(account_id))
        accounts.append(account)
        prepaid = account["billing_mode"] == BillingMode.PREPAID.value
        own_bills = [] if prepaid else draw(bill_rows(account_id, ids))
        bills.extend(own_bills)
        own_payments = draw(payment_rows(account_id, own_bills, ids, prepaid))
        payments.extend(own_payments)
        if holds:
            held.extend(draw(hold_rows(account_id, own_bills, own_payments, ids)))
        if prepaid:
            usage.extend(draw(usage_rows(account_id)))
    start = draw(days_between(START_FROM, START_TO))
    end = start + timedelta(days=draw(st.integers(0, MAX_RUN_DAYS)))
    payments_frame = _frame(payments, PAYMENTS.schema)
    assert payments_frame.select((pl.col("paid_at").dt.date() == pl.col("paid_on")).all()).item(), (
        "paid_on must be the Shanghai date of paid_at"
    )
    return Universe(
        accounts=_frame(accounts, ACCOUNTS.schema),
        bills=_frame(bills, BILLS.schema),
        payments=payments_frame,
        usage=_frame(usage, USAGE.schema),
        policies=draw(policy_lists(start, end, max_each_policy)),
        start=start,
        end=end,
        holds=_frame(held, HOLDS.schema),
    )
