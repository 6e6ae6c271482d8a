"""What-if over a small literal store, on SQLite and PostgreSQL: the figures of an uploaded
policy set against the policies in force, derived by hand from the inputs below, for every
company the set's scope covers (the deployment: all; a company: only itself); a bad file is
refused whole with file:line messages and changes nothing; windows (of the uploaded set and of
the set it replaces) are clipped to the company's origin; an empty set is tried, not a 500.

Rules used (contract.md, power postpaid `cn-power-1996`): a bill due 2019-12-20 is "more than
30 days overdue" from 2020-01-20 (12-20 + 31): `notice` that day, `disconnect` 3 days later
(01-23). An exempt window holds the ladder; from its end the ladder resumes, so a notice is
served on the end day and the cut-off follows 3 days later. Residential late fees are 1‰ a
day; fees still accruing are not arrears. Gas postpaid sends a notice only past 74 days
overdue (from 2020-03-04 here), after every window below.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from sanbuting.errors import PolicyError
from sanbuting.jobs.activation import activate
from sanbuting.jobs.importing import import_and_book
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company, PolicyVersion
from sanbuting.whatif.service import Figures, what_if
from store_databases import BACKENDS, database, write_folder

ACCOUNTS = """
    account_id,utility,customer_class,region
    H1,power,residential,420102
    H2,power,residential,420102
    H3,power,residential,420102
    G1,power,residential,440104
    S1,gas,residential,420102
"""
# H1, H2, G1, S1 owe one bill each, due 2019-12-20 and never paid; H3 owes nothing.
BILLS = """
    bill_id,account_id,period,issued_on,due_on,amount_fen
    BH1,H1,2019-12,2019-12-05,2019-12-20,10000
    BH2,H2,2019-12,2019-12-05,2019-12-20,20000
    BG1,G1,2019-12,2019-12-05,2019-12-20,10000
    BS1,S1,2019-12,2019-12-05,2019-12-20,10000
"""
# The active set: Guangzhou (4401) power exempt from 01-15 up to 02-01.
ACTIVE = """
    policies:
      - id: gz-exempt
        effect: exempt
        scope: {utility: [power], region: ["4401"]}
        window: {start: 2020-01-15, end: 2020-02-01}
"""
# The uploaded set: Hubei (42) power exempt 01-20 up to 03-01, and December's bills' late
# fees waived through February. Its window: 2020-01-20 to 2020-02-29.
UPLOADED = """
    policies:
      - id: hb-exempt
        effect: exempt
        scope: {utility: [power], region: ["42"]}
        window: {start: 2020-01-20, end: 2020-03-01}
      - id: hb-waive-dec
        effect: waive_late_fee
        scope: {utility: [power], region: ["42"]}
        bills: {issued_in: ["2019-12"]}
        window: {start: 2020-02-01, end: 2020-03-01}
"""
ON = date(2020, 1, 25)
POWER, GAS = (
    "供电企业",
    "燃气经营企业",
)  # the default names (store.companies)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for url in database(request.param, tmp_path):
        upgrade(url)
        outcome = import_and_book(
            data=write_folder(tmp_path / "data", accounts=ACCOUNTS, bills=BILLS),
            start=date(2020, 1, 1),
            company=None,
            by="test",
            allow_rejects=False,
            rejects_file=tmp_path / "rejects.csv",
            url=url,
        )
        assert not outcome.refused
        active_file = tmp_path / "active.yaml"
        active_file.write_text(dedent(ACTIVE), encoding="utf-8")
        made = make_engine(url)
        with sessions(made).begin() as session:
            activate(
                session=session, path=active_file, by="test", at=datetime.now(tz=UTC), company=None
            )
        yield made
        made.dispose()


def company(engine: Engine, code: str) -> Company:
    with sessions(engine).begin() as session:
        found = session.scalar(select(Company).where(Company.code == code))
        assert found is not None
        return found


def test_the_figures_of_an_uploaded_set_against_the_one_it_replaces(engine: Engine) -> None:
    """Tried as the deployment-wide set, it replaces the active (deployment-wide) set; the
    window runs over both sets: 01-15 (gz-exempt) to 02-29 (hb-exempt)."""
    with sessions(engine).begin() as session:
        result = what_if(
            session=session, scope=None, text=dedent(UPLOADED), file_name="hubei.yaml", on=ON
        )
    assert (result.policies, result.scope, result.first_day, result.last_day) == (
        2,
        "deployment",
        date(2020, 1, 15),
        date(2020, 2, 29),
    )
    assert (result.added, result.removed) == (("hb-exempt", "hb-waive-dec"), ("gz-exempt",))
    gas, power = result.companies
    # Gas: S1 is in no scope (power only); its notice would come on 03-04.
    assert gas == Figures("gas", GAS, "gas", date(2020, 1, 15), date(2020, 2, 29), ON, accounts=1)
    assert power == Figures(
        "power",
        POWER,
        "power",
        date(2020, 1, 15),
        date(2020, 2, 29),
        ON,
        accounts=4,
        touched=4,  # H1, H2, H3 (hb-exempt, region 42) and G1 (gz-exempt, removed)
        arrears_fen=40000,  # on 01-25: H1 10000 + H2 20000 + G1 10000 principal overdue
        events_without=1,  # G1's notice prevented on 01-20 by gz-exempt
        events_with=2,  # H1's and H2's notices prevented on 01-20 by hb-exempt
        protected_without=1,
        protected_with=2,
        cutoffs_without=3,  # H1, H2 on 01-23; G1 on 02-04 (notice 02-01 when gz-exempt ends)
        cutoffs_with=1,  # G1 on 01-23: the uploaded set replaces gz-exempt
        waived_without_fen=0,
        waived_with_fen=870,  # 29 February days: H1 10 fen + H2 20 fen a day
    )
    assert result.seconds >= 0


def test_a_company_set_is_tried_on_its_company_alone(engine: Engine) -> None:
    """A company's own set comes after the deployment-wide one and replaces only the
    company's own (none here): gz-exempt stays, and gas is not in the what-if at all."""
    with sessions(engine).begin() as session:
        result = what_if(
            session=session,
            scope=company(engine, "power"),
            text=dedent(UPLOADED),
            file_name="hubei.yaml",
            on=ON,
        )
    assert (result.scope, result.first_day, result.removed) == ("power", date(2020, 1, 20), ())
    (power,) = result.companies
    assert (power.touched, power.arrears_fen) == (3, 30000)  # H1, H2, H3
    assert (power.events_without, power.events_with) == (1, 3)  # G1 by gz; + H1, H2 by hb
    assert (power.cutoffs_without, power.cutoffs_with) == (3, 1)  # G1's on 02-04 stays


def test_a_window_before_the_origin_is_clipped_or_empty(engine: Engine) -> None:
    early = """
        policies:
          - id: early
            effect: exempt
            scope: {utility: [power], region: ["42"]}
            window: {start: 2019-12-01, end: 2020-01-21}
          - id: earlier
            effect: exempt
            scope: {utility: [power], region: ["42"]}
            window: {start: 2019-11-01, end: 2019-12-01}
    """
    with sessions(engine).begin() as session:
        result = what_if(
            session=session,
            scope=company(engine, "power"),
            text=dedent(early),
            file_name="early.yaml",
            on=date(2030, 1, 1),
        )
    # Counted 01-01 (the origin) to 01-20; arrears read on the last counted day.
    (power,) = result.companies
    assert (power.first, power.last, power.arrears_on, power.clipped) == (
        date(2020, 1, 1),
        date(2020, 1, 20),
        date(2020, 1, 20),
        True,
    )
    assert (power.touched, power.arrears_fen) == (3, 30000)
    # With: gz-exempt (in force) and early both prevent notices on 01-20: G1, H1, H2.
    assert (power.events_with, power.protected_with, power.cutoffs_with) == (3, 3, 0)
    assert (power.events_without, power.cutoffs_without) == (1, 0)  # G1 prevented on 01-20

    only_before = """
        policies:
          - id: earlier
            effect: exempt
            scope: {utility: [power]}
            window: {start: 2019-11-01, end: 2019-12-01}
    """
    with sessions(engine).begin() as session:
        result = what_if(
            session=session,
            scope=company(engine, "power"),
            text=dedent(only_before),
            file_name="before.yaml",
            on=ON,
        )
    assert result.companies == (
        Figures("power", POWER, "power", clipped=True, accounts=4, touched=4),
    )


def test_an_empty_set_is_tried_not_refused(engine: Engine) -> None:
    """`policies: []` is a valid set: as the deployment's it removes gz-exempt (G1 is then
    cut off on 01-23 instead of 02-04); as a company's own set it changes nothing."""
    gas = company(engine, "gas")
    with sessions(engine).begin() as session:
        removing = what_if(
            session=session, scope=None, text="policies: []\n", file_name="none.yaml", on=ON
        )
        nothing = what_if(
            session=session,
            scope=gas,
            text="policies: []\n",
            file_name="none.yaml",
            on=ON,
        )
    assert (removing.first_day, removing.last_day, removing.removed) == (
        date(2020, 1, 15),
        date(2020, 1, 31),
        ("gz-exempt",),
    )
    power = removing.companies[1]
    assert (power.touched, power.cutoffs_without, power.cutoffs_with) == (1, 2, 3)
    assert (nothing.first_day, nothing.last_day, nothing.policies) == (None, None, 0)
    assert nothing.companies == (Figures("gas", GAS, "gas"),)


def test_a_bad_file_is_refused_whole_and_changes_nothing(engine: Engine) -> None:
    bad = """
        policies:
          - id: x
            effect: exempt
            scope: {}
            window: {start: 2020-02-01, end: 2020-01-01}
    """
    with sessions(engine).begin() as session:
        before = session.scalar(select(func.count()).select_from(PolicyVersion))
        with pytest.raises(PolicyError) as refused:
            what_if(
                session=session,
                scope=None,
                text=dedent(bad),
                file_name="bad.yaml",
                on=ON,
            )
        assert refused.value.problems
        assert all(p.startswith("bad.yaml:") for p in refused.value.problems)
        assert session.scalar(select(func.count()).select_from(PolicyVersion)) == before == 1
