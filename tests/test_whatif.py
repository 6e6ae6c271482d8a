"""What-if over a small literal store, on SQLite and PostgreSQL: the figures of an uploaded
policy set against the active one, derived by hand from the inputs below; a bad file is refused
whole with file:line messages and changes nothing; windows are clipped to the company's origin.

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
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.importing import import_and_book
from sanbuting.store.migrations import upgrade
from sanbuting.store.models import Company, PolicyVersion
from sanbuting.store.policies import activate
from sanbuting.whatif.service import CompanyWindow, UtilityFigures, what_if
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
    "供電企業 power utility",
    "燃氣經營企業 gas company",
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
            activate(session=session, path=active_file, by="test", at=datetime.now(tz=UTC))
        yield made
        made.dispose()


def company_ids(engine: Engine) -> dict[str, int]:
    with sessions(engine).begin() as session:
        return {c.code: c.id for c in session.scalars(select(Company))}


def test_the_figures_of_an_uploaded_set_against_the_active_one(engine: Engine) -> None:
    ids = company_ids(engine)
    with sessions(engine).begin() as session:
        result = what_if(
            session=session,
            company_ids=[ids["power"], ids["gas"]],
            text=dedent(UPLOADED),
            file_name="hubei.yaml",
            on=ON,
        )
    assert (result.policies, result.first_day, result.last_day) == (
        2,
        date(2020, 1, 20),
        date(2020, 2, 29),
    )
    assert result.companies == (
        CompanyWindow(
            "gas", "gas", date(2020, 1, 20), date(2020, 2, 29), ON, clipped=False, name=GAS
        ),
        CompanyWindow(
            "power", "power", date(2020, 1, 20), date(2020, 2, 29), ON, clipped=False, name=POWER
        ),
    )
    gas, power = result.utilities
    # Gas: S1 is in no uploaded scope (power only); its notice would come on 03-04.
    assert gas == UtilityFigures("gas", accounts=1)
    assert power == UtilityFigures(
        "power",
        accounts=4,
        touched=3,  # H1, H2, H3 (region 42)
        arrears_fen=30000,  # on 01-25: H1 10000 + H2 20000 principal overdue, H3 0
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


def test_a_window_before_the_origin_is_clipped_or_empty(engine: Engine) -> None:
    ids = company_ids(engine)
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
            company_ids=[ids["power"]],
            text=dedent(early),
            file_name="early.yaml",
            on=date(2030, 1, 1),
        )
    # Counted 01-01 (the origin) to 01-20; arrears read on the last counted day.
    assert result.companies == (
        CompanyWindow(
            "power",
            "power",
            date(2020, 1, 1),
            date(2020, 1, 20),
            date(2020, 1, 20),
            True,
            POWER,
        ),
    )
    (power,) = result.utilities
    assert (power.touched, power.arrears_fen) == (3, 30000)
    assert (power.events_with, power.protected_with, power.cutoffs_with) == (2, 2, 0)
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
            company_ids=[ids["power"]],
            text=dedent(only_before),
            file_name="before.yaml",
            on=ON,
        )
    assert result.companies == (CompanyWindow("power", "power", None, None, None, True, POWER),)
    assert result.utilities == (UtilityFigures("power", accounts=4, touched=4),)


def test_a_bad_file_is_refused_whole_and_changes_nothing(engine: Engine) -> None:
    ids = company_ids(engine)
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
                company_ids=[ids["power"]],
                text=dedent(bad),
                file_name="bad.yaml",
                on=ON,
            )
        assert refused.value.problems
        assert all(p.startswith("bad.yaml:") for p in refused.value.problems)
        assert session.scalar(select(func.count()).select_from(PolicyVersion)) == before == 1
