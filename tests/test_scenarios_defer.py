"""Scenario tests of defer policies and of overlapping policies: exempt beats defer, the
latest of several defers wins, an `until` not after the would-be day moves nothing, and
waivers add up as a union of days.

Every expected row is derived by hand from contract.md ("Exact semantics") and docs/engine.md;
the comments say how. Telecom postpaid: suspension is due from due + 31; fees are 3‰ a day
(10000 fen: 30 fen a day). Windows are [start, end).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import ENGINES, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)

TELECOM_WH = "telecom,residential,420111"  # Wuhan, 洪山區 (4201)


def test_overlapping_policies_exempt_beats_defer_latest_defer_wins_waivers_union(
    tmp_path: Path, engine: str
) -> None:
    """O1 is in scope of the exempt and both defers: on days the exempt covers it alone acts
    and alone writes the event. O2 has both defers: the latest resulting day wins and is
    named. Two overlapping waivers waive the union of their days, once."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region,tags
            O1,{TELECOM_WH},frontline_medical
            O2,{TELECOM_WH},
        """,
        bills="""
            OB1,O1,2021-01,2021-01-20,2021-02-01,10000   # 30 fen a day
            OB2,O2,2021-01,2021-01-20,2021-02-01,10000
        """,
        policies="""
            policies:
              - id: ex-frontline
                effect: exempt
                scope: {utility: [telecom], tags: [frontline_medical]}
                window: {start: 2021-03-01, end: 2021-04-20}
              - id: defer-30
                effect: defer
                scope: {utility: [telecom]}
                defer: {days: 30}
                window: {start: 2021-03-01, end: 2021-04-01}
              - id: defer-until
                effect: defer
                scope: {utility: [telecom]}
                defer: {until: 2021-04-15}
                window: {start: 2021-03-01, end: 2021-04-01}
              - id: waive-a
                effect: waive_late_fee
                scope: {utility: [telecom]}
                bills: {period_in: ["2021-01"]}
                window: {start: 2021-03-01, end: 2021-03-11}
              - id: waive-b
                effect: waive_late_fee
                scope: {utility: [telecom]}
                bills: {period_in: ["2021-01"]}
                window: {start: 2021-03-06, end: 2021-03-16}
        """,
        start="2021-02-01",
        end="2021-04-30",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-02-02,O1,remind,remind,OB1,
        2021-02-02,O2,remind,remind,OB2,
        2021-04-15,O2,suspend,suspend,,   # the moved day
        2021-04-20,O1,suspend,suspend,,   # the exempt's `end`; the defer windows are over
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        # suspension due from 02-01 + 31 = 03-04
        2021-03-04,O1,ex-frontline,exempt,suspend,
        # defer-30 gives 03-04 + 30 = 04-03, defer-until gives 04-15: the later wins
        2021-03-04,O2,defer-until,defer,suspend,2021-04-15
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        # overdue Feb 2 - Apr 30 = 27 + 31 + 30 = 88 days; waived [03-01, 03-11) U
        # [03-06, 03-16) = Mar 1-15 = 15 days (not 10 + 10): 15 x 30 = 450;
        # accrued 73 x 30 = 2190
        OB1,O1,2190,450,0,73,15
        OB2,O2,2190,450,0,73,15
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        O1,suspended,0,10000
        O2,suspended,0,10000
    """)
    assert out.summary["protection_events"] == {
        "defer-until": {"defer": 1},
        "ex-frontline": {"exempt": 1},
    }
    # O1: 03-04..04-19 = 28 + 19 = 47; O2: 03-04..04-14 = 28 + 14 = 42
    assert out.summary["protected_account_days"] == 47 + 42
    assert out.summary["waived_fen"] == 900


def test_defer_until_moves_only_a_step_falling_before_it(tmp_path: Path, engine: str) -> None:
    """`defer: {until: D}` moves a step due before D to D; a step due on or after D (still
    inside the window) is not moved: no event, carried out on its day."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            D1,{TELECOM_WH}
            D2,{TELECOM_WH}
        """,
        bills="""
            DB1,D1,2021-01,2021-01-20,2021-02-01,10000   # suspension due 02-01 + 31 = 03-04
            DB2,D2,2021-01,2021-01-20,2021-02-09,10000   # suspension due 02-09 + 31 = 03-12
        """,
        policies="""
            policies:
              - id: tel-defer-until
                effect: defer
                scope: {utility: [telecom]}
                defer: {until: 2021-03-10}
                window: {start: 2021-03-01, end: 2021-03-31}
        """,
        start="2021-02-01",
        end="2021-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-02-02,D1,remind,remind,DB1,
        2021-02-10,D2,remind,remind,DB2,
        2021-03-10,D1,suspend,suspend,,   # the moved day
        2021-03-12,D2,suspend,suspend,,   # `until` is not after 03-12: not moved
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-04,D1,tel-defer-until,defer,suspend,2021-03-10
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        DB1,D1,1740,0,0,58,0   # Feb 2-28 (27) + March (31) = 58 x 30 fen
        DB2,D2,1500,0,0,50,0   # Feb 10-28 (19) + March (31) = 50 x 30 fen
    """)
    assert out.summary["protected_account_days"] == 6  # D1: 03-04..03-09


def test_a_step_moved_into_an_exempt_waits_for_its_end(tmp_path: Path, engine: str) -> None:
    """The defer moves the suspension to 03-14; from 03-10 an exempt covers the days, so the
    exempt alone acts (its own event on its first day); after its end the step is carried
    out (the defer had its one move in this episode)."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            X1,{TELECOM_WH}
        """,
        bills="XB1,X1,2021-01,2021-01-20,2021-02-01,10000   # suspension due 03-04",
        policies="""
            policies:
              - id: tel-defer-10
                effect: defer
                scope: {utility: [telecom]}
                defer: {days: 10}
                window: {start: 2021-03-01, end: 2021-03-31}
              - id: tel-exempt
                effect: exempt
                scope: {utility: [telecom]}
                window: {start: 2021-03-10, end: 2021-03-20}
        """,
        start="2021-02-01",
        end="2021-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-02-02,X1,remind,remind,XB1,
        2021-03-20,X1,suspend,suspend,,
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-04,X1,tel-defer-10,defer,suspend,2021-03-14   # 03-04 + 10
        2021-03-10,X1,tel-exempt,exempt,suspend,
    """)
    assert out.summary["protected_account_days"] == 16  # 03-04..03-19


def test_among_several_exempts_the_first_in_file_order_is_named(
    tmp_path: Path, engine: str
) -> None:
    """Where two exempts cover a day, the first in file order acts and is named; an episode
    protected by one exempt and then by another writes one event per policy."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts="""
            account_id,utility,customer_class,region
            EA1,power,residential,440104
            EA2,power,residential,440104
        """,
        bills="""
            EAB1,EA1,2021-01,2021-01-15,2021-02-01,10000   # notice due 02-01 + 31 = 03-04
            EAB2,EA2,2020-12,2021-01-10,2021-01-25,10000   # notice due 01-25 + 31 = 02-25
        """,
        policies="""
            policies:
              - id: exempt-b
                effect: exempt
                scope: {utility: [power]}
                window: {start: 2021-03-01, end: 2021-03-20}
              - id: exempt-a
                effect: exempt
                scope: {utility: [power]}
                window: {start: 2021-02-20, end: 2021-03-10}
        """,
        start="2021-01-20",
        end="2021-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-01-26,EA2,remind,remind,EAB2,
        2021-02-02,EA1,remind,remind,EAB1,
        2021-03-20,EA1,notice,notice,,
        2021-03-20,EA2,notice,notice,,
        2021-03-23,EA1,disconnect,disconnect,,
        2021-03-23,EA2,disconnect,disconnect,,
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-02-25,EA2,exempt-a,exempt,notice,   # only exempt-a covers 02-25
        2021-03-01,EA2,exempt-b,exempt,notice,   # both cover: exempt-b is first in the file
        2021-03-04,EA1,exempt-b,exempt,notice,
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        EAB1,EA1,580,0,0,58,0   # Feb 2-28 (27) + March (31) = 58 x 10 fen
        EAB2,EA2,650,0,0,65,0   # Jan 26-31 (6) + 28 + 31 = 65 x 10 fen
    """)
    # EA1: 03-04..03-19 (16); EA2: 02-25..03-19 (4 + 19 = 23)
    assert out.summary["protected_account_days"] == 16 + 23
