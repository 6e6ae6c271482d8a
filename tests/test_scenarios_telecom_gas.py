"""Scenario tests of the telecom and gas postpaid ladders with no relief policy: telecom
(remind, suspend, terminate, reconnect) and gas (remind, notice after 74 days, cut-off 15 days
after the notice).

Every expected row is derived by hand from contract.md ("Exact semantics") and docs/engine.md;
the comments say how. "Overdue days" on X = X - due_on. Telecom fees are 3‰ a day (10000 fen:
30 fen a day), gas 1‰ (cn-gas-default's contract default) with no minimum.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import ENGINES, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)

TELECOM_WH = "telecom,residential,420111"  # Wuhan, 洪山區


def test_telecom_postpaid_suspend_terminate_and_reconnect(tmp_path: Path, engine: str) -> None:
    """Suspension on the first day > 30 days overdue, termination 60 days later; a partial
    payment while suspended does not reconnect, paying everything does; paying after the
    termination reconnects nothing."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            T1,{TELECOM_WH}
            T2,{TELECOM_WH}
            T3,{TELECOM_WH}
        """,
        bills="""
            TB1,T1,2021-02,2021-03-01,2021-03-20,10000
            TB2,T2,2021-02,2021-03-01,2021-03-20,10000
            TB3,T3,2021-02,2021-03-01,2021-03-20,10000
        """,
        payments="""
            TP1,T2,2021-05-01T12:00:00+08:00,5000,app    # half the principal: still in arrears
            # fee: Mar 21 - May 1 = 11 + 30 + 1 = 42 days x 30 fen = 1260
            #    + May 2-10 = 9 days x 15 fen (on 5000) = 135 -> 1395; 5000 + 1395 = 6395
            TP2,T2,2021-05-10T12:00:00+08:00,6395,app
            # fee: Mar 21 - Jun 25 = 11 + 30 + 31 + 25 = 97 days x 30 fen = 2910
            TP3,T3,2021-06-25T12:00:00+08:00,12910,app
        """,
        start="2021-03-01",
        end="2021-06-30",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-03-21,T1,remind,remind,TB1,
        2021-03-21,T2,remind,remind,TB2,
        2021-03-21,T3,remind,remind,TB3,
        2021-04-20,T1,suspend,suspend,,   # 03-20 + 31
        2021-04-20,T2,suspend,suspend,,
        2021-04-20,T3,suspend,suspend,,
        2021-05-10,T2,reconnect,reconnect,,   # arrears 0 only after TP2
        2021-06-19,T1,terminate,terminate,,   # 04-20 + 60 (Apr 20 -> May 20 -> Jun 19)
        2021-06-19,T3,terminate,terminate,,   # TP3 on 06-25 reconnects nothing
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        # fees go on after termination: Mar 21 - Jun 30 = 11 + 30 + 31 + 30 = 102 x 30 fen
        TB1,T1,3060,0,0,102,0
        TB2,T2,1395,0,1395,51,0
        TB3,T3,2910,0,2910,97,0
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        T1,terminated,0,10000
        T2,active,0,0
        T3,terminated,0,0
    """)


def test_gas_postpaid_notice_after_74_days_and_cutoff_15_days_later(
    tmp_path: Path, engine: str
) -> None:
    """cn-gas-default: notice when the bill is > 74 days overdue, the cut-off at least 15 days
    after it (the notice is valid 30 days), 1‰ a day, no minimum."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts="""
            account_id,utility,customer_class,region
            GS1,gas,residential,420102
        """,
        bills="GSB1,GS1,2020-12,2020-12-20,2021-01-10,10000   # 10 fen a day",
        start="2021-01-01",
        end="2021-04-30",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-01-11,GS1,remind,remind,GSB1,
        2021-03-26,GS1,notice,notice,,   # 01-10 + 75: 21 (to Jan 31) + 28 + 26
        2021-04-10,GS1,disconnect,disconnect,,   # 03-26 + 15: 5 (to Mar 31) + 10
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        GSB1,GS1,1100,0,0,110,0   # Jan 11-31 (21) + 28 + 31 + 30 = 110 days x 10 fen
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        GS1,disconnected,0,10000
    """)
