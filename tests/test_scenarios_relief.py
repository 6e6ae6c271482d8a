"""Scenario tests of exempt policies on postpaid accounts: notices lapsing in the window,
paused reminders, `reconnect: true`, `resume.spread_days`, and one event per arrears episode
(defers and overlaps: test_scenarios_defer.py; the 2020 Shenzhen and Guangdong measures:
test_scenarios_relief_2020.py).

Every expected row is derived by hand from contract.md ("Exact semantics") and docs/engine.md;
the comments say how. Conventions: "overdue days" on X = X - due_on; the enforcement
condition holds from due + 31; a power notice served on N is valid through N + 7 and allows
the cut-off from N + 3; residential power accrues 1‰ a day (20000 fen: 20 fen a day).
Windows are [start, end).
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from scenario import ENGINES, pick, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)

POWER_GZ = "power,residential,440104"  # Guangzhou, 越秀區 (4401)


def test_notice_lapsing_in_an_exempt_window_is_served_again_after_it(
    tmp_path: Path, engine: str
) -> None:
    """The notice of 06-20 lapses inside the exempt (valid through 06-27); from `end` the ladder
    goes on by the same conditions: a new notice on `end`, the cut-off 3 days later."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            E1,{POWER_GZ}
        """,
        bills="EB1,E1,2021-04,2021-05-05,2021-05-20,20000",
        policies="""
            policies:
              - id: gz-power-exempt
                effect: exempt
                scope: {utility: [power], region: ["4401"]}
                window: {start: 2021-06-22, end: 2021-07-10}
        """,
        start="2021-05-01",
        end="2021-07-15",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,E1,remind,remind,EB1,
        2021-06-20,E1,notice,notice,,     # 05-20 + 31, before the window
        # 06-22: the notice is only 2 days old, no step is due, nothing is prevented
        # 06-23..06-27: disconnect due, prevented; 06-28..07-09: notice due (lapsed), prevented
        2021-07-10,E1,notice,notice,,     # `end`: the lapsed notice is served again first
        2021-07-13,E1,disconnect,disconnect,,   # 3 days after the new notice, not on `end`
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-06-23,E1,gz-power-exempt,exempt,disconnect,
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        EB1,E1,1120,0,0,56,0    # May 21-31 (11) + June (30) + Jul 1-15 (15) = 56 x 20 fen
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        E1,disconnected,0,20000
    """)
    assert out.summary["protection_events"] == {"gz-power-exempt": {"exempt": 1}}
    assert out.summary["protected_accounts"] == 1
    assert out.summary["protected_account_days"] == 17  # 06-23..07-09: 8 + 9 days
    assert out.summary["protected_arrears_fen"] == 20000  # arrears on 06-23: EB1's principal


RECONNECT_POLICY = """
    policies:
      - id: gz-power-reconnect
        effect: exempt
        scope: {utility: [power], region: ["4401"]}
        window: {start: 2021-03-10, end: 2021-03-20}
        reconnect: true
"""


def test_exempt_reconnect_at_window_start_and_on_first_day_inside(
    tmp_path: Path, engine: str
) -> None:
    """`reconnect: true`: a disconnected account in scope is reconnected on the window's start,
    or on the run's first day when the run begins inside the window. Its ladder then waits
    (the replayed notice of 02-20 lapsed on 02-28) and resumes at `end` with a new notice."""
    accounts = f"""
        account_id,utility,customer_class,region,state
        R1,{POWER_GZ},disconnected
    """
    # replay: remind 01-21, notice 02-20, disconnect 02-23, all before start (not written)
    bills = "RB1,R1,2020-12,2021-01-05,2021-01-20,20000"
    fees = rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        RB1,R1,1400,0,0,70,0    # Jan 21-31 (11) + Feb (28) + Mar (31) = 70 x 20 fen
    """)
    states = rows("""
        account_id,state,balance_fen,arrears_fen
        R1,disconnected,0,20000
    """)

    before = scenario(
        tmp_path / "from-before",
        engine=engine,
        accounts=accounts,
        bills=bills,
        policies=RECONNECT_POLICY,
        start="2021-03-01",
        end="2021-03-31",
    )
    assert before.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-10,R1,reconnect,reconnect,,gz-power-reconnect   # the window's start
        2021-03-20,R1,notice,notice,,       # `end`: a notice first (02-20's lapsed)
        2021-03-23,R1,disconnect,disconnect,,
    """)
    assert before.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-10,R1,gz-power-reconnect,exempt,notice,
    """)
    assert before.fees == fees
    assert before.states == states

    inside = scenario(
        tmp_path / "from-inside",
        engine=engine,
        accounts=accounts,
        bills=bills,
        policies=RECONNECT_POLICY,
        start="2021-03-12",
        end="2021-03-31",
    )
    assert inside.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-12,R1,reconnect,reconnect,,gz-power-reconnect   # the run's first day
        2021-03-20,R1,notice,notice,,
        2021-03-23,R1,disconnect,disconnect,,
    """)
    assert inside.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-12,R1,gz-power-reconnect,exempt,notice,
    """)
    assert inside.fees == fees
    assert inside.states == states


def test_resume_spread_days_offsets_each_account(tmp_path: Path, engine: str) -> None:
    """`resume: {spread_days: 5}`: each account resumes on end + crc32(account_id) mod 5."""
    offsets = {aid: zlib.crc32(aid.encode("utf-8")) % 5 for aid in ("W1", "W4", "W5")}
    assert offsets == {"W1": 0, "W4": 2, "W5": 3}  # three different days
    end = date(2021, 3, 15)
    resume = {aid: (end + timedelta(days=off)).isoformat() for aid, off in offsets.items()}
    assert resume == {"W1": "2021-03-15", "W4": "2021-03-17", "W5": "2021-03-18"}

    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            W1,{POWER_GZ}
            W4,{POWER_GZ}
            W5,{POWER_GZ}
        """,
        bills="""
            WB1,W1,2021-01,2021-01-15,2021-02-01,10000   # 10 fen a day
            WB4,W4,2021-01,2021-01-15,2021-02-01,10000
            WB5,W5,2021-01,2021-01-15,2021-02-01,10000
        """,
        policies="""
            policies:
              - id: gz-power-spread
                effect: exempt
                scope: {utility: [power], region: ["4401"]}
                window: {start: 2021-03-01, end: 2021-03-15}
                resume: {spread_days: 5}
        """,
        start="2021-02-01",
        end="2021-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-02-02,W1,remind,remind,WB1,
        2021-02-02,W4,remind,remind,WB4,
        2021-02-02,W5,remind,remind,WB5,
        # the notice is due from 02-01 + 31 = 03-04, inside the window
        2021-03-15,W1,notice,notice,,       # end + 0
        2021-03-17,W4,notice,notice,,       # end + 2
        2021-03-18,W1,disconnect,disconnect,,
        2021-03-18,W5,notice,notice,,       # end + 3
        2021-03-20,W4,disconnect,disconnect,,
        2021-03-21,W5,disconnect,disconnect,,
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-04,W1,gz-power-spread,exempt,notice,
        2021-03-04,W4,gz-power-spread,exempt,notice,
        2021-03-04,W5,gz-power-spread,exempt,notice,
    """)
    assert pick(out.fees, "bill_id,accrued_fen,days") == rows("""
        bill_id,accrued_fen,days
        WB1,580,58   # Feb 2-28 (27) + March (31) = 58 days x 10 fen
        WB4,580,58
        WB5,580,58
    """)
    # prevented days 03-04..resume-1: W1 11, W4 13, W5 14
    assert out.summary["protected_account_days"] == 11 + 13 + 14


def test_paused_reminders_are_dropped_not_sent_later(tmp_path: Path, engine: str) -> None:
    """`pause_reminders: true`: a reminder falling in the window is not sent, neither then nor
    at `end`; reminders after the window and outside the scope go on."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            PR1,{POWER_GZ}
            PR2,power,residential,440305   # Shenzhen: not in the exempt's scope
        """,
        bills="""
            PB1,PR1,2021-02,2021-02-20,2021-03-05,10000   # D+1 = 03-06, in the window
            PB2,PR1,2021-02,2021-02-25,2021-03-10,10000   # D+1 = 03-11, after it
            PB3,PR2,2021-02,2021-02-20,2021-03-05,10000
        """,
        policies="""
            policies:
              - id: gz-power-quiet
                effect: exempt
                scope: {utility: [power], region: ["4401"]}
                window: {start: 2021-03-01, end: 2021-03-10}
                pause_reminders: true
        """,
        start="2021-03-01",
        end="2021-03-20",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-06,PR2,remind,remind,PB3,
        2021-03-11,PR1,remind,remind,PB2,
    """)
    assert out.protections == []  # nothing is > 30 days overdue by 03-20
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        PB1,PR1,150,0,0,15,0   # Mar 6-20: 15 days x 10 fen
        PB2,PR1,100,0,0,10,0   # Mar 11-20: 10 days x 10 fen
        PB3,PR2,150,0,0,15,0
    """)


def test_a_new_arrears_episode_is_a_new_protection_event(tmp_path: Path, engine: str) -> None:
    """One event per account, policy and arrears episode (人次): N1 is protected, pays up
    (arrears 0: the episode ends), falls behind on the next bill and is protected again."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            N1,{POWER_GZ}
        """,
        bills="""
            NB1,N1,2021-01,2021-01-15,2021-02-01,20000
            NB2,N1,2021-02,2021-03-05,2021-03-25,20000
        """,
        payments="""
            # NB1 + Feb 2 - Mar 20 = 27 + 20 = 47 days x 20 fen = 940; NB2 is not yet due
            NP1,N1,2021-03-20T10:00:00+08:00,20940,app
        """,
        policies="""
            policies:
              - id: gz-power-exempt
                effect: exempt
                scope: {utility: [power], region: ["4401"]}
                window: {start: 2021-03-01, end: 2021-06-01}
        """,
        start="2021-02-01",
        end="2021-06-10",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-02-02,N1,remind,remind,NB1,
        2021-03-26,N1,remind,remind,NB2,
        2021-06-01,N1,notice,notice,,
        2021-06-04,N1,disconnect,disconnect,,
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-04,N1,gz-power-exempt,exempt,notice,   # NB1: 02-01 + 31
        2021-04-25,N1,gz-power-exempt,exempt,notice,   # NB2: 03-25 + 31, a new episode
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        NB1,N1,940,0,940,47,0
        NB2,N1,1540,0,0,77,0   # Mar 26-31 (6) + 30 + 31 + Jun 1-10 (10) = 77 x 20 fen
    """)
    assert out.summary["protection_events"] == {"gz-power-exempt": {"exempt": 2}}
    assert out.summary["protected_accounts"] == 1
    # 03-04..03-19 (16) + 04-25..05-31 (6 + 31 = 37)
    assert out.summary["protected_account_days"] == 16 + 37
    # docs/engine.md: an account's arrears on the day of its first event, counted once
    assert out.summary["protected_arrears_fen"] == 20000
