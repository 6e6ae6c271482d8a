"""The daily run over the store resumes from checkpoints and still decides, byte for byte, what
a run from the origin over everything the store holds decides; and it reads only the day.

The property test draws a random universe and a day M inside its run, and lets its rows arrive
in two imports: most at the start, the rest after day M has been recorded. Late rows may be
back-dated (a payment, a bill or usage dated on or before M: their accounts are dirty), or
belong to accounts that arrive late (new accounts); a new policy set may be activated then
(another fingerprint: from the origin again). The days after M must be what a run from the
origin over all the rows, with the final policies, decides for them.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sanbuting.engine.fast import run_fast
from sanbuting.errors import PolicyError
from sanbuting.jobs import daily as daily_module
from sanbuting.jobs.activation import activate
from sanbuting.jobs.daily import run_daily
from sanbuting.jobs.importing import import_and_book
from sanbuting.policy import parse_policies
from sanbuting.rules import rulesets_by_utility
from sanbuting.store import checkpoints
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Account, Checkpoint, Company, Run, StoredAction
from strategies import Universe, _csv, policy_yaml, universes

EXAMPLES = max(8, (settings.default or settings()).max_examples // 20)
NOW = datetime(2020, 6, 1, tzinfo=UTC)


def write(folder: Path, frames: tuple[pl.DataFrame, ...]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    accounts, bills, payments, usage = frames
    for name, frame in (
        ("accounts", accounts),
        ("bills", bills),
        ("payments", payments.drop("paid_on")),
        ("usage", usage),
    ):
        (folder / f"{name}.csv").write_text(_csv(frame) + "\n", encoding="utf-8")
    return folder


def policy_file(folder: Path, name: str, policies: tuple) -> Path:  # type: ignore[type-arg]
    path = folder / name
    body = "\n".join(policy_yaml(p) for p in policies)
    path.write_text("policies:\n" + body + "\n" if policies else "policies: []\n", "utf-8")
    return path


def loads(policies: tuple) -> bool:  # type: ignore[type-arg]
    """Whether the policy language takes these policies (the strategies draw some the engine
    runs but a file may not say, e.g. a defer until its window's start)."""
    try:
        parse_policies(
            "policies:\n" + "\n".join(policy_yaml(p) for p in policies) + "\n"
            if policies
            else "policies: []\n",
            "drawn.yaml",
        )
    except PolicyError:
        return False
    return True


def recorded_after(url: str, day: date) -> pl.DataFrame:
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        rows = session.execute(
            select(
                StoredAction.day,
                Account.account_id,
                StoredAction.action,
                StoredAction.step,
                StoredAction.bill_id,
                StoredAction.policy_id,
            )
            .join(Account, Account.id == StoredAction.account)
            .where(StoredAction.day > day)
        ).all()
    engine.dispose()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema=["date", "account_id", "action", "step", "bill_id", "policy_id"],
        orient="row",
    ).sort(pl.all())


def expected_after(universe: Universe, policies: tuple, day: date) -> pl.DataFrame:  # type: ignore[type-arg]
    result = run_fast(
        universe.frames, list(policies), rulesets_by_utility(), universe.start, universe.end
    )
    return (
        result.actions.filter(pl.col("date") > day)
        .select(
            "date",
            "account_id",
            pl.col("action").cast(pl.String),
            "step",
            pl.col("bill_id").fill_null(""),
            pl.col("policy_id").fill_null(""),
        )
        .sort(pl.all())
    )


def arrive(universe: Universe, late_accounts: set[str], late: dict[str, list[bool]]):  # type: ignore[no-untyped-def]
    """The universe's rows split into the first import and the late one."""
    accounts, bills, payments, usage = universe.frames
    early_ids = pl.col("account_id").is_in(sorted(late_accounts)).not_()

    def part(frame: pl.DataFrame, name: str, first: bool) -> pl.DataFrame:
        given = late[name][: frame.height]
        flags = pl.Series(given + [False] * (frame.height - len(given)), dtype=pl.Boolean)
        chosen = frame.with_columns(flags.alias("_late")).filter(
            early_ids & ~pl.col("_late") if first else ~(early_ids & ~pl.col("_late"))
        )
        return chosen.drop("_late")

    first = (
        accounts.filter(early_ids),
        part(bills, "bills", True),
        part(payments, "payments", True),
        part(usage, "usage", True),
    )
    second = (  # every account: those stored already are skipped alike
        accounts,
        part(bills, "bills", False),
        part(payments, "payments", False),
        part(usage, "usage", False),
    )
    return first, second


@pytest.mark.property
@settings(max_examples=EXAMPLES, deadline=None)
@given(universe=universes(max_accounts=5, max_each_policy=2), data=st.data())
def test_resumed_days_equal_the_origin_run_whatever_arrives(universe: Universe, data) -> None:  # type: ignore[no-untyped-def]
    if universe.end <= universe.start:
        return
    days = (universe.end - universe.start).days
    mid = universe.start + timedelta(days=data.draw(st.integers(0, days - 1), label="M"))
    ids = universe.accounts["account_id"].to_list()
    late_accounts = set(data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=2)))
    assume(len(late_accounts) < len(ids))  # a store with accounts from the start
    late = {
        name: data.draw(st.lists(st.booleans(), max_size=frame.height), label=name)
        for name, frame in (
            ("bills", universe.bills),
            ("payments", universe.payments),
            ("usage", universe.usage),
        )
    }
    final = universe.policies
    if data.draw(st.booleans(), label="new policies at M"):
        final = tuple(
            data.draw(st.lists(st.sampled_from(universe.policies), unique_by=lambda p: p.id))
            if universe.policies
            else ()
        )
    assume(loads(universe.policies) and loads(final))
    first, second = arrive(universe, late_accounts, late)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'store.db'}"
        upgrade(url)
        for n, frames in enumerate((first, second)):
            if n == 1 and final is not universe.policies:
                engine = make_engine(url)
                with sessions(engine).begin() as session:
                    path = policy_file(folder, "final.yaml", final)
                    activate(session=session, path=path, by="t", at=NOW, company=None)
                engine.dispose()
            outcome = import_and_book(
                data=write(folder / f"in{n}", frames),
                start=universe.start,
                company=None,
                by="test",
                allow_rejects=False,
                rejects_file=folder / "rejects.csv",
                url=url,
            )
            assert not outcome.refused, outcome
            if n == 0:
                engine = make_engine(url)
                with sessions(engine).begin() as session:
                    path = policy_file(folder, "first.yaml", universe.policies)
                    activate(session=session, path=path, by="t", at=NOW, company=None)
                run_daily(engine=engine, through=mid, single=False, now=lambda: NOW)
                engine.dispose()
        engine = make_engine(url)
        run_daily(engine=engine, through=universe.end, single=False, now=lambda: NOW)
        engine.dispose()
        assert recorded_after(url, mid).equals(expected_after(universe, final, mid))


def test_a_day_reads_the_checkpoint_and_the_day(tmp_path: Path) -> None:
    """After the first run, a day's run reads no row dated before its checkpoint: the store's
    old rows could be anything (here: made unreadable), and the day is still decided."""
    from sanbuting.generate import GenerateRequest, generate

    generate(GenerateRequest(accounts=300, out=tmp_path / "gen", seed=4))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    import_and_book(
        data=tmp_path / "gen",
        start=date(2020, 1, 1),
        company=None,
        by="test",
        allow_rejects=True,
        rejects_file=tmp_path / "rejects.csv",
        url=url,
    )
    engine = make_engine(url)
    run_daily(engine=engine, through=date(2020, 2, 10), single=False, now=lambda: NOW)
    with sessions(engine).begin() as session:
        saved = session.execute(select(Checkpoint.company_id, Checkpoint.day)).all()
        codes = {c.id: c.code for c in session.scalars(select(Company))}
        assert {(codes[c], d) for c, d in saved} == {
            (code, date(2020, 2, 10)) for code in codes.values()
        }
        power = next(c for c, code in codes.items() if code == "power")
        assert checkpoints.load(session, power, date(2020, 2, 10)) is not None
    reads: list[date | None] = []
    from sanbuting.jobs import daily as daily_module

    original = daily_module.load_run_frames

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(kwargs.get("after"))
        return original(*args, **kwargs)

    daily_module.load_run_frames = spy  # type: ignore[assignment]
    try:
        run_daily(engine=engine, through=date(2020, 2, 11), single=True, now=lambda: NOW)
    finally:
        daily_module.load_run_frames = original  # type: ignore[assignment]
    assert reads == [date(2020, 2, 10)] * 3  # each company: only the rows after its checkpoint
    with sessions(engine).begin() as session:
        assert session.scalar(select(Run.day).order_by(Run.day.desc()).limit(1)) == date(
            2020, 2, 11
        )
    engine.dispose()


def recorded_between(url: str, low: date, high: date) -> pl.DataFrame:
    recorded = recorded_after(url, low)
    return recorded.filter(pl.col("date") <= high)


def expected_between(
    frames: tuple[pl.DataFrame, ...], universe: Universe, low: date, high: date
) -> pl.DataFrame:
    result = run_fast(
        frames, list(universe.policies), rulesets_by_utility(), universe.start, universe.end
    )
    return (
        result.actions.filter(pl.col("date") > low, pl.col("date") <= high)
        .select(
            "date",
            "account_id",
            pl.col("action").cast(pl.String),
            "step",
            pl.col("bill_id").fill_null(""),
            pl.col("policy_id").fill_null(""),
        )
        .sort(pl.all())
    )


@pytest.mark.property
@settings(max_examples=EXAMPLES, deadline=None)
@given(universe=universes(max_accounts=5, max_each_policy=2), data=st.data())
def test_older_checkpoints_serve_accounts_dirtied_later(universe: Universe, data) -> None:  # type: ignore[no-untyped-def]
    """Rows arrive in three waves between runs stop by stop, each wave with rows dated into
    days already recorded: an account dirtied by the third wave may be derived again from a
    checkpoint older than the second wave's rows, which is stale for accounts the second wave
    dirtied (their marks are cleared by then). Every stretch of days equals the run from the
    origin over the rows that had arrived when it was recorded."""
    days = (universe.end - universe.start).days
    if days < 5 or not loads(universe.policies):
        return
    cuts = sorted(
        data.draw(st.lists(st.integers(0, days - 1), min_size=4, max_size=4, unique=True))
    )
    s1, s2, s3, s4 = (universe.start + timedelta(days=c) for c in cuts)
    accounts, bills, payments, usage = universe.frames

    def waves(frame: pl.DataFrame, name: str) -> pl.Series:
        drawn = data.draw(
            st.lists(st.integers(0, 2), min_size=frame.height, max_size=frame.height), label=name
        )
        return pl.Series(drawn, dtype=pl.Int8)

    wave = {
        name: waves(f, name)
        for name, f in (("bills", bills), ("payments", payments), ("usage", usage))
    }

    def upto(n: int) -> tuple[pl.DataFrame, ...]:
        return (
            accounts,
            bills.filter(wave["bills"] <= n),
            payments.filter(wave["payments"] <= n),
            usage.filter(wave["usage"] <= n),
        )

    def only(n: int) -> tuple[pl.DataFrame, ...]:
        return (
            accounts,
            bills.filter(wave["bills"] == n),
            payments.filter(wave["payments"] == n),
            usage.filter(wave["usage"] == n),
        )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'store.db'}"
        upgrade(url)
        engine = make_engine(url)
        with sessions(engine).begin() as session:
            path = policy_file(folder, "policies.yaml", universe.policies)
            activate(session=session, path=path, by="t", at=NOW, company=None)
        plan = ((0, (s1, s2)), (1, (s3,)), (2, (s4, universe.end)))
        share = daily_module.REDERIVE_SHARE
        daily_module.REDERIVE_SHARE = 1.0  # derive every dirty account again, however many
        try:
            arrive_and_run(url, folder, universe, plan, only)
        finally:
            daily_module.REDERIVE_SHARE = share
        engine.dispose()
        stretches = (
            (0, universe.start - timedelta(days=1), s2),
            (1, s2, s3),
            (2, s3, universe.end),
        )
        for n, low, high in stretches:
            assert recorded_between(url, low, high).equals(
                expected_between(upto(n), universe, low, high)
            ), (n, low, high)


def arrive_and_run(url, folder, universe, plan, only) -> None:  # type: ignore[no-untyped-def]
    """Import each wave, then run through its stops."""
    engine = make_engine(url)
    try:
        for n, stops in plan:
            outcome = import_and_book(
                data=write(folder / f"wave{n}", only(n)),
                start=universe.start,
                company=None,
                by="t",
                allow_rejects=False,
                rejects_file=folder / "rejects.csv",
                url=url,
            )
            assert not outcome.refused, outcome
            for stop in stops:
                run_daily(engine=engine, through=stop, single=False, now=lambda: NOW)
    finally:
        engine.dispose()
