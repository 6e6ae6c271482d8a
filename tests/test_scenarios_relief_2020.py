"""Scenario tests of two 2020 measures as published: Shenzhen (exempt to 1 March and no late
fee before 1 March on bills issued in January and February) and Guangdong (January's bill
accrues no late fee during February).

Every expected row is derived by hand from contract.md ("Exact semantics") and docs/engine.md;
the comments say how. Power postpaid: the notice is due from due + 31, the cut-off 3 days
after a notice; residential fees are 1‰ a day, non-residential 2‰ in the due date's year.
Windows are [start, end); 2020 is a leap year (Feb: 29 days).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import ENGINES, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)

POWER_GZ = "power,residential,440104"  # Guangzhou, 越秀區 (4401)


SHENZHEN_2020 = """
    policies:
      - id: sz-power-exempt-2020
        effect: exempt
        scope: {utility: [power], region: ["4403"]}
        window: {start: 2020-01-31, end: 2020-03-01}
      - id: sz-latefee-2020
        effect: waive_late_fee
        scope: {utility: [power], region: ["4403"]}
        bills: {issued_in: ["2020-01", "2020-02"]}
        window: {start: 2020-01-01, end: 2020-03-01}
"""

SHENZHEN_ACCOUNTS = """
    account_id,utility,customer_class,region
    S1,power,residential,440305
    S2,power,non_residential,440305
"""
SHENZHEN_BILLS = """
    SB1,S1,2019-12,2020-01-05,2020-01-20,20000   # 20 fen a day
    SB2,S1,2020-01,2020-02-05,2020-02-20,15000   # 15 fen a day
    SC1,S2,2019-12,2020-01-10,2020-01-25,50000   # 2‰ non-residential: 100 fen a day
"""
SHENZHEN_PAYMENTS = """
    # SB1 20000 + 200 fee + SB2 15000 + 150 fee (below) = 35350
    SP1,S1,2020-03-10T11:00:00+08:00,35350,app
    SP2,S2,2020-02-15T11:00:00+08:00,50000,bank
"""
SHENZHEN_FEES = rows("""
    bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
    # waived Jan 21-31 (11) + Feb (29) = 40 x 20 = 800; accrued Mar 1-10: 10 x 20 = 200
    SB1,S1,200,800,200,10,40
    # waived Feb 21-29: 9 x 15 = 135; accrued Mar 1-10: 10 x 15 = 150
    SB2,S1,150,135,150,10,9
    # paid 02-15, every overdue day waived: Jan 26-31 (6) + Feb 1-15 (15) = 21 x 100
    SC1,S2,0,2100,0,0,21
""")


def test_shenzhen_2020_exempt_and_waiver(tmp_path: Path, engine: str) -> None:
    """Bills issued in January and February accrue nothing before 1 March; no notice inside
    the exempt, the notice on 03-01; a bill paid inside the waiver is charged 0 (the 1-yuan
    minimum needs at least one accruing day)."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=SHENZHEN_ACCOUNTS,
        bills=SHENZHEN_BILLS,
        payments=SHENZHEN_PAYMENTS,
        policies=SHENZHEN_2020,
        start="2020-01-01",
        end="2020-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2020-01-21,S1,remind,remind,SB1,
        2020-01-26,S2,remind,remind,SC1,
        2020-02-21,S1,remind,remind,SB2,   # reminders go on inside the exempt
        2020-03-01,S1,notice,notice,,      # SB1 > 30 days overdue since 02-20; `end`
        2020-03-04,S1,disconnect,disconnect,,
        2020-03-10,S1,reconnect,reconnect,,
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2020-02-20,S1,sz-power-exempt-2020,exempt,notice,   # 01-20 + 31
    """)
    assert out.fees == SHENZHEN_FEES
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        S1,active,0,0
        S2,active,0,0
    """)
    assert out.summary["waived_fen"] == 800 + 135 + 2100
    assert out.summary["protected_account_days"] == 10  # 02-20..02-29
    assert out.summary["protected_arrears_fen"] == 20000  # SB1; SB2 is not yet past due


def test_shenzhen_2020_from_1_march_waivers_still_apply_before_start(
    tmp_path: Path, engine: str
) -> None:
    """The same accounts run from 2020-03-01: late fees accrue from D+1 whatever the start and
    the waiver applies to the days before it, so the fees are those of the full run. The
    replay (no exempt) served a notice on 02-20 that lapsed after 02-27: a notice on 03-01."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=SHENZHEN_ACCOUNTS,
        bills=SHENZHEN_BILLS,
        payments=SHENZHEN_PAYMENTS,
        policies=SHENZHEN_2020,
        start="2020-03-01",
        end="2020-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2020-03-01,S1,notice,notice,,
        2020-03-04,S1,disconnect,disconnect,,
        2020-03-10,S1,reconnect,reconnect,,
    """)
    assert out.protections == []
    assert out.fees == SHENZHEN_FEES
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        S1,active,0,0
        S2,active,0,0
    """)


def test_guangdong_january_bill_waived_during_february_only(tmp_path: Path, engine: str) -> None:
    """ "1月份電費在2月份期間不計算違約金": the January bill accrues in late January and again
    from 1 March; February's own bill is not matched and accrues throughout. The waiver
    stops no step of the ladder."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            GD1,{POWER_GZ}
        """,
        bills="""
            GD1-JAN,GD1,2019-12,2020-01-05,2020-01-20,30000   # 30 fen a day
            GD1-FEB,GD1,2020-01,2020-02-05,2020-02-20,10000   # 10 fen a day
        """,
        payments="""
            # 30000 + 480 + 10000 + 140 (fees below)
            GDP,GD1,2020-03-05T09:30:00+08:00,40620,app
        """,
        policies="""
            policies:
              - id: gd-power-waive-jan-2020
                effect: waive_late_fee
                scope: {utility: [power], region: ["4401"]}
                bills: {issued_in: ["2020-01"]}
                window: {start: 2020-02-01, end: 2020-03-01}
        """,
        start="2020-01-01",
        end="2020-03-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2020-01-21,GD1,remind,remind,GD1-JAN,
        2020-02-20,GD1,notice,notice,,     # GD1-JAN: 01-20 + 31
        2020-02-21,GD1,remind,remind,GD1-FEB,
        2020-02-23,GD1,disconnect,disconnect,,
        2020-03-05,GD1,reconnect,reconnect,,
    """)
    assert out.protections == []
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        # Feb 21-29 (9) + Mar 1-5 (5) = 14 x 10 fen = 140, nothing waived
        GD1-FEB,GD1,140,0,140,14,0
        # Jan 21-31: 11 x 30 = 330; Feb 1-29 waived: 29 x 30 = 870; Mar 1-5: 5 x 30 = 150
        GD1-JAN,GD1,480,870,480,16,29
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        GD1,active,0,0
    """)
