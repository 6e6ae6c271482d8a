"""Scenario tests of prepaid accounts: telecom with a credit limit and a defer, power 費控 with
保電 under an exempt, IC-card gas with emergency credit, and low-balance alerts.

Every expected row is derived by hand from contract.md ("Exact semantics") and docs/engine.md;
the comments say how. Balances are end-of-day: each day top-ups are added, then the day's
usage is deducted, and only if the account was active at the start of the day (docs/engine.md:
a tripped meter or a suspended line consumes nothing). Prepaid arrears = max(0, -balance).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import ENGINES, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)

PREPAID = "account_id,utility,customer_class,region,billing_mode,balance_fen,credit_limit_fen"


def daily_usage(account_ids: str, first_day: int, last_day: int, fen: int = 1000) -> str:
    """Usage rows of `fen` a day for each account, March 2021 days `first_day`..`last_day`."""
    return "\n".join(
        f"{aid},2021-03-{day:02d},{fen}"
        for aid in account_ids.split(",")
        for day in range(first_day, last_day + 1)
    )


def test_telecom_prepaid_credit_limit_and_defer(tmp_path: Path, engine: str) -> None:
    """Suspension only strictly below -credit_limit; a 30-day defer moves it (an event with
    `deferred_to`) and on the moved day it happens if still below; a top-up that ends the
    episode before then cancels it."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            {PREPAID}
            P1,telecom,residential,110101,prepaid,2000,5000   # Beijing: no defer
            P2,telecom,residential,420111,prepaid,2000,5000   # Wuhan: deferred
            P3,telecom,residential,420111,prepaid,2000,5000   # Wuhan: deferred, then tops up
        """,
        # 1000 a day, Mar 1-9: end-of-day balances 1000, 0, -1000, ..., -5000 (03-07),
        # -6000 (03-08), -7000 (03-09) while active
        usage=daily_usage("P1,P2,P3", 1, 9),
        payments="""
            T1,P1,2021-03-15T08:00:00+08:00,1000,kiosk   # -6000 -> -5000: no longer below
            T3,P3,2021-03-20T08:00:00+08:00,4000,app     # -7000 -> -3000
        """,
        policies="""
            policies:
              - id: tel-defer-30
                effect: defer
                scope: {utility: [telecom], region: ["42"]}
                defer: {days: 30}
                window: {start: 2021-03-05, end: 2021-04-30}
        """,
        start="2021-03-01",
        end="2021-04-10",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-02,P1,low_balance,low_balance,,   # 0 < 1000 (telecom threshold)
        2021-03-02,P2,low_balance,low_balance,,
        2021-03-02,P3,low_balance,low_balance,,
        # 03-07: -5000 is not strictly below -5000; 03-08: -6000 is
        2021-03-08,P1,suspend,suspend,,
        2021-03-15,P1,reconnect,reconnect,,   # -5000: no longer below
        2021-04-07,P2,suspend,suspend,,       # the moved day, still -7000 < -5000
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-08,P2,tel-defer-30,defer,suspend,2021-04-07   # 03-08 + 30 days
        2021-03-08,P3,tel-defer-30,defer,suspend,2021-04-07
    """)
    assert out.fees == []
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        P1,active,-5000,5000   # suspended on 03-09: that day's usage was not charged
        P2,suspended,-7000,7000   # active while deferred: 03-09 charged
        P3,active,-3000,3000
    """)
    # P2 waits 03-08..04-06 (24 + 6 = 30 days); P3 03-08..03-19 (12), its episode then ends
    assert out.summary["protected_account_days"] == 30 + 12
    assert out.summary["protected_arrears_fen"] == 6000 + 6000  # both at -6000 on 03-08


def test_prepaid_power_guarantee_under_exempt(tmp_path: Path, engine: str) -> None:
    """保電: `guarantee_on` on the exempt's start, `guarantee_off` on its end. Q1 reaches 0
    inside the window: its notice is prevented, served on `end`, and the trip follows the next
    day. Q2 got its notice before the window: the trip is prevented inside and carried out
    on `end` (a prepaid notice has no validity period in cn-power-1996: the trip comes "from
    the next day on while still <= 0")."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            {PREPAID}
            Q1,power,residential,440104,prepaid,5000,0
            Q2,power,residential,440104,prepaid,4000,0
        """,
        # 1000 a day, Mar 1-20. Q1: 4000, 3000, 2000 (03-03), 1000, 0 (03-05), ...
        # Q2: 3000, 2000 (03-02), 1000, 0 (03-04), -1000 (03-05), ...
        usage=daily_usage("Q1,Q2", 1, 20),
        policies="""
            policies:
              - id: gz-power-exempt
                effect: exempt
                scope: {utility: [power], region: ["4401"]}
                window: {start: 2021-03-05, end: 2021-03-15}
        """,
        start="2021-03-01",
        end="2021-03-20",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-02,Q2,low_balance,low_balance,,   # 2000 < 3000
        2021-03-03,Q1,low_balance,low_balance,,   # 2000 < 3000 (03-02: 3000 is not below)
        2021-03-04,Q2,notice,notice,,             # 0 <= 0, before the window
        2021-03-05,Q1,guarantee_on,guarantee_on,,gz-power-exempt
        2021-03-05,Q2,guarantee_on,guarantee_on,,gz-power-exempt
        2021-03-15,Q1,guarantee_off,guarantee_off,,gz-power-exempt
        2021-03-15,Q1,notice,notice,,             # -10000; no notice yet in this episode
        2021-03-15,Q2,guarantee_off,guarantee_off,,gz-power-exempt
        2021-03-15,Q2,disconnect,disconnect,,     # notice of 03-04, >= 1 day old
        2021-03-16,Q1,disconnect,disconnect,,     # the day after its notice
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2021-03-05,Q1,gz-power-exempt,exempt,notice,
        2021-03-05,Q2,gz-power-exempt,exempt,disconnect,
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        Q1,disconnected,-11000,11000   # 03-16's usage charged (active that morning)
        Q2,disconnected,-11000,11000   # 03-15's usage charged, none after
    """)
    assert out.summary["protected_account_days"] == 10 + 10  # 03-05..03-14 each
    assert out.summary["protected_arrears_fen"] == 0 + 1000  # balances 0 and -1000 on 03-05


def test_guarantee_on_the_first_day_of_a_run_inside_the_window(tmp_path: Path, engine: str) -> None:
    """A run that begins inside the window writes `guarantee_on` on its first day;
    `guarantee_off` stays on `end` whatever `resume.spread_days` says. Only prepaid power
    meters get 保電 (not the postpaid account in the same scope)."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            {PREPAID}
            Q3,power,residential,440104,prepaid,50000,0
            Q4,power,residential,440104,postpaid,0,0
        """,
        policies="""
            policies:
              - id: gz-power-exempt
                effect: exempt
                scope: {utility: [power], region: ["4401"]}
                window: {start: 2021-03-05, end: 2021-03-15}
                resume: {spread_days: 5}
        """,
        start="2021-03-08",
        end="2021-03-20",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-08,Q3,guarantee_on,guarantee_on,,gz-power-exempt
        2021-03-15,Q3,guarantee_off,guarantee_off,,gz-power-exempt
    """)


def test_prepaid_power_reconnects_only_above_zero(tmp_path: Path, engine: str) -> None:
    """Power 費控: notice the first day at or below 0, trip the next day, reconnect the day the
    balance is > 0 (a top-up to exactly 0 is not enough)."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            {PREPAID}
            Q5,power,residential,440104,prepaid,500,0   # below 3000 from the start: no alert
        """,
        usage="Q5,2021-03-01,1500   # -1000",
        payments="""
            Y1,Q5,2021-03-03T09:00:00+08:00,1000,app   # 0: still <= 0
            Y2,Q5,2021-03-04T09:00:00+08:00,1,app      # 1 > 0
        """,
        start="2021-03-01",
        end="2021-03-05",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-01,Q5,notice,notice,,
        2021-03-02,Q5,disconnect,disconnect,,
        2021-03-04,Q5,reconnect,reconnect,,
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        Q5,active,1,0
    """)


def test_ic_card_gas_emergency_credit_and_exempt_does_not_stop_the_meter(
    tmp_path: Path, engine: str
) -> None:
    """The meter closes itself at <= -(emergency credit): credit reopens it (the reconnect
    names the credit policy) and it closes again once the window ends; an exempt covering an
    IC-card gas account does not stop `meter_closed` and writes no event."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            {PREPAID}
            K1,gas,residential,420102,prepaid,3000,0   # Wuhan: emergency credit
            K2,gas,residential,110101,prepaid,3000,0   # Beijing: exempt
        """,
        usage=daily_usage("K1", 1, 31) + "\n" + daily_usage("K2", 1, 5),
        policies="""
            policies:
              - id: hubei-gas-credit
                effect: emergency_credit
                scope: {utility: [gas], region: ["42"], billing_mode: [prepaid]}
                credit_fen: 20000
                window: {start: 2021-03-10, end: 2021-03-20}
              - id: bj-gas-exempt
                effect: exempt
                scope: {utility: [gas], region: ["11"]}
                window: {start: 2021-03-01, end: 2021-03-31}
        """,
        start="2021-03-01",
        end="2021-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-01,K1,low_balance,low_balance,,   # 2000 < 3000
        2021-03-01,K2,low_balance,low_balance,,
        2021-03-03,K1,disconnect,meter_closed,,   # 0 <= 0
        2021-03-03,K2,disconnect,meter_closed,,   # the exempt does not stop the valve
        # 03-10: floor -20000, balance 0 is above it; closed that morning: no usage charged
        2021-03-10,K1,reconnect,reconnect,,hubei-gas-credit
        # 03-11..03-19: -1000..-9000; 03-20: floor back to 0, -10000 <= 0
        2021-03-20,K1,disconnect,meter_closed,,
    """)
    assert out.protections == []
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        K1,disconnected,-10000,10000
        K2,disconnected,0,0
    """)


def test_low_balance_fires_on_the_drop_and_again_only_after_recovery(
    tmp_path: Path, engine: str
) -> None:
    """Power threshold 3000 (L1, L2), telecom 1000 (L3). An account starting below the
    threshold is not alerted until it was back at or above it (docs/engine.md)."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            {PREPAID}
            L1,power,residential,440104,prepaid,5000,0
            L2,power,residential,440104,prepaid,2000,0
            L3,telecom,residential,420111,prepaid,1500,0
        """,
        usage="""
            L1,2021-03-01,1000   # 4000
            L1,2021-03-02,1500   # 2500: below -> alert
            L1,2021-03-03,500    # 2000: still below, no alert
            L1,2021-03-06,100    # 2900: below again after 03-05 -> alert
            L1,2021-03-08,200    # 2900: below again after 03-07 -> alert
            L2,2021-03-01,100    # 1900: below since the start, no alert
            L2,2021-03-04,1000   # 2900: -> alert
            L3,2021-03-01,400    # 1100
            L3,2021-03-02,200    # 900 < 1000 -> alert
        """,
        payments="""
            U1,L1,2021-03-04T12:00:00+08:00,500,app   # 2500: still below
            U2,L1,2021-03-05T12:00:00+08:00,500,app   # 3000: at the threshold, re-armed
            U3,L1,2021-03-07T12:00:00+08:00,200,app   # 3100: re-armed
            U4,L2,2021-03-03T12:00:00+08:00,2000,app  # 3900: armed
        """,
        start="2021-03-01",
        end="2021-03-10",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-02,L1,low_balance,low_balance,,
        2021-03-02,L3,low_balance,low_balance,,
        2021-03-04,L2,low_balance,low_balance,,
        2021-03-06,L1,low_balance,low_balance,,
        2021-03-08,L1,low_balance,low_balance,,
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        L1,active,2900,0
        L2,active,2900,0
        L3,active,900,0
    """)
