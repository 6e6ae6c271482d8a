"""Scenario tests of postpaid ladders with no relief policy: power (remind, notice, disconnect,
reconnect, late fees, credit on hand) and the replay before `--start` (telecom and gas
ladders: test_scenarios_telecom_gas.py).

Every expected row is derived by hand from contract.md ("Exact semantics") and docs/engine.md;
the comments say how. Conventions: "overdue days" on X = X - due_on; power postpaid sends the
notice on the first day a bill is > 30 days overdue (due + 31), a notice served on N is valid
through N + 7 and allows the cut-off from N + 3; residential power fees are 1‰ a day (so a
bill of 20000 fen accrues 20 fen a day), telecom 3‰ (10000 fen: 30 fen a day).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import ENGINES, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)

POWER_GZ = "power,residential,440104"  # Guangzhou, 越秀區: in no policy's scope here
TELECOM_WH = "telecom,residential,420111"  # Wuhan, 洪山區


def test_power_postpaid_full_ladder_and_fee_values(tmp_path: Path, engine: str) -> None:
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            A1,{POWER_GZ}   # the full ladder
            A3,{POWER_GZ}   # still open at the end: fee accrued, nothing charged
        """,
        bills="""
            B1,A1,2021-04,2021-05-05,2021-05-20,20000
            B3,A3,2021-06,2021-07-05,2021-07-25,10000
            B9,A3,2021-07,2021-08-05,2021-08-20,10000   # issued after the end
        """,
        payments="""
            # A1: 20000 principal + 920 fee (below), on the 46th overdue day
            P1,A1,2021-07-05T10:00:00+08:00,20920,counter
        """,
        start="2021-05-01",
        end="2021-07-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,A1,remind,remind,B1,   # D+1 of due 05-20, still open
        2021-06-20,A1,notice,notice,,     # 05-20 + 31: the first day > 30 days overdue
        2021-06-23,A1,disconnect,disconnect,,   # notice + 3 (valid through 06-27)
        2021-07-05,A1,reconnect,reconnect,,     # arrears reach 0 the day of P1
        2021-07-26,A3,remind,remind,B3,
    """)
    assert out.protections == []
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        # May 21-31 (11) + June (30) + Jul 1-5 (5) = 46 days x 20 fen = 920
        B1,A1,920,0,920,46,0
        # Jul 26-31: 6 days x 10 fen = 60, accruing (no minimum before it is finalized)
        B3,A3,60,0,0,6,0
        B9,A3,0,0,0,0,0   # one row per bill, zeros included
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        A1,active,0,0
        A3,active,0,10000   # B3's principal is overdue; its fee is not final, so not arrears
    """)


def test_power_fee_minimum_is_what_the_payment_pays(tmp_path: Path, engine: str) -> None:
    """The 1-yuan minimum (供電營業規則 Art. 98) is the finalized fee: a payment pays it, and
    until paid it is arrears."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            A2,{POWER_GZ}   # pays principal + 1 yuan at once
            A4,{POWER_GZ}   # pays the principal only
        """,
        bills="""
            B2,A2,2021-04,2021-05-05,2021-05-20,5000
            B4,A4,2021-04,2021-05-05,2021-05-20,5000
        """,
        payments="""
            P2,A2,2021-05-24T10:00:00+08:00,5100,app   # 5000 principal + 100 fee
            P4,A4,2021-05-24T10:00:00+08:00,5000,app   # 5000 principal
        """,
        start="2021-05-01",
        end="2021-05-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,A2,remind,remind,B2,
        2021-05-21,A4,remind,remind,B4,
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        # May 21-24: 4 days x 5 fen = 20 fen, under 1 yuan: 100 once finalized
        B2,A2,100,0,100,4,0
        B4,A4,100,0,100,4,0
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        A2,active,0,0       # 5100 = 5000 + the 100 fee: nothing left over
        A4,active,0,100     # the finalized 100 fen fee is unpaid: arrears
    """)


def test_power_reconnect_waits_for_the_late_fee(tmp_path: Path, engine: str) -> None:
    """Paying the principal finalizes the fee, which stays arrears: no reconnect (and no new
    notice: a bill whose principal is paid no longer drives the ladder) until it is paid."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            J1,{POWER_GZ}
        """,
        bills="JB1,J1,2021-04,2021-05-05,2021-05-20,20000",
        payments="""
            JP1,J1,2021-07-01T10:00:00+08:00,20000,app   # the principal only
            JP2,J1,2021-07-05T10:00:00+08:00,840,app     # the fee (below)
        """,
        start="2021-05-01",
        end="2021-07-10",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,J1,remind,remind,JB1,
        2021-06-20,J1,notice,notice,,
        2021-06-23,J1,disconnect,disconnect,,
        2021-07-05,J1,reconnect,reconnect,,   # arrears 840 from 07-01 to 07-04, then 0
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        # May 21-31 (11) + June (30) + Jul 1 (1) = 42 days x 20 fen; nothing after 07-01
        JB1,J1,840,0,840,42,0
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        J1,active,0,0
    """)


def test_power_payment_between_notice_and_cutoff(tmp_path: Path, engine: str) -> None:
    """A full payment on notice + 2 ends the episode: no disconnect. A partial payment that
    leaves the same bill oldest keeps the episode and its notice: the disconnect comes. A
    payment at 00:30 Shanghai time on the cut-off day (16:30 UTC the day before) is that
    day's, applied before the steps are decided: no disconnect either."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            C1,{POWER_GZ}
            C2,{POWER_GZ}
            C3,{POWER_GZ}
        """,
        bills="""
            CB1,C1,2021-04,2021-05-05,2021-05-20,20000
            CB2,C2,2021-04,2021-05-05,2021-05-20,20000
            CB3,C3,2021-04,2021-05-05,2021-05-20,20000
        """,
        payments="""
            # May 21 - Jun 22 = 11 + 22 = 33 days x 20 fen = 660 fen of fee
            CP1,C1,2021-06-22T18:00:00+08:00,20660,app
            CP2,C2,2021-06-22T18:00:00+08:00,5000,app   # leaves 15000 of CB2 open
            # 2021-06-23 00:30 in Shanghai: May 21 - Jun 23 = 34 days x 20 fen = 680
            CP3,C3,2021-06-22T16:30:00Z,20680,app
        """,
        start="2021-05-01",
        end="2021-06-30",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,C1,remind,remind,CB1,
        2021-05-21,C2,remind,remind,CB2,
        2021-05-21,C3,remind,remind,CB3,
        2021-06-20,C1,notice,notice,,
        2021-06-20,C2,notice,notice,,
        2021-06-20,C3,notice,notice,,
        2021-06-23,C2,disconnect,disconnect,,   # the 06-20 notice is still valid
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        CB1,C1,660,0,660,33,0
        # 33 days x 20 fen (the payment day accrues on the morning's 20000) = 660
        # + Jun 23-30: 8 days x 15 fen = 120 -> 780 over 41 days, not final
        CB2,C2,780,0,0,41,0
        CB3,C3,680,0,680,34,0
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        C1,active,0,0
        C2,disconnected,0,15000
        C3,active,0,0
    """)


def test_partial_payment_moving_the_oldest_bill_skips_no_notice(
    tmp_path: Path, engine: str
) -> None:
    """Paying the oldest bill moves the ladder to the next one, which must itself be > 30 days
    overdue; the episode (arrears > 0 throughout) keeps its notice, valid for 7 days. Kill
    Bill's killbill#2297 (cut-off on the old anchor's schedule) cannot happen."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            G1,{POWER_GZ}   # next bill due a month later: its own notice
            G2,{POWER_GZ}   # next bill due 5 days later: the first notice still serves
        """,
        bills="""
            G1A,G1,2021-04,2021-05-05,2021-05-20,20000
            G1B,G1,2021-05,2021-06-05,2021-06-20,20000
            G2A,G2,2021-04,2021-05-05,2021-05-20,20000
            G2B,G2,2021-04,2021-05-10,2021-05-25,10000
        """,
        payments="""
            # each pays its oldest bill: 20000 + 33 days (May 21 - Jun 22) x 20 fen = 20660
            GP1,G1,2021-06-22T09:00:00+08:00,20660,app
            GP2,G2,2021-06-22T09:00:00+08:00,20660,app
        """,
        start="2021-05-01",
        end="2021-07-31",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,G1,remind,remind,G1A,
        2021-05-21,G2,remind,remind,G2A,
        2021-05-26,G2,remind,remind,G2B,
        2021-06-20,G1,notice,notice,,   # G1A: 05-20 + 31
        2021-06-20,G2,notice,notice,,   # G2A: 05-20 + 31
        2021-06-21,G1,remind,remind,G1B,
        # G2B is > 30 days overdue from 05-25 + 31 = 06-25; the 06-20 notice is valid
        # through 06-27 and 5 >= 3 days old: disconnect then, not on 06-23
        2021-06-25,G2,disconnect,disconnect,,
        # G1B is > 30 days overdue from 06-20 + 31 = 07-21; the 06-20 notice lapsed after
        # 06-27, so a new notice first, and the cut-off 3 days after it
        2021-07-21,G1,notice,notice,,
        2021-07-24,G1,disconnect,disconnect,,
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        G1A,G1,660,0,660,33,0
        G1B,G1,820,0,0,41,0    # Jun 21-30 (10) + July (31) = 41 x 20 fen
        G2A,G2,660,0,660,33,0
        G2B,G2,670,0,0,67,0    # May 26-31 (6) + June (30) + July (31) = 67 x 10 fen
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        G1,disconnected,0,20000
        G2,disconnected,0,10000
    """)


def test_before_start_replayed_notice_and_input_suspension(tmp_path: Path, engine: str) -> None:
    """Bills due before --start: the replay (writing nothing) knows V1's notice of 02-20, still
    valid on start, so V1 is cut 3 days after it. V2 is `suspended` in the input but its bill
    is only 12 days overdue on start, so the replay cannot tell the suspension day: its 60
    days count from start. V3's replay did suspend it (on 01-01), so its 60 days count from
    there (docs/engine.md). V4 is `disconnected` in the input and owes nothing: reconnected on
    the first day (docs/engine.md: reconnection is a condition, not a transition)."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region,state
            V1,{POWER_GZ},active
            V2,{TELECOM_WH},suspended
            V3,{TELECOM_WH},suspended
            V4,{POWER_GZ},disconnected
        """,
        bills="""
            VB1,V1,2020-12,2021-01-05,2021-01-20,20000   # replay: remind 01-21, notice 02-20
            VB2,V2,2021-01,2021-02-01,2021-02-10,10000   # replay: remind 02-11 only
            VB3,V3,2020-10,2020-11-10,2020-12-01,10000   # replay: suspend 12-01 + 31 = 01-01
        """,
        start="2021-02-22",
        end="2021-04-30",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-02-22,V4,reconnect,reconnect,,     # arrears 0 on start
        2021-02-23,V1,disconnect,disconnect,,   # replayed notice 02-20 + 3
        2021-03-02,V3,terminate,terminate,,     # 01-01 + 60 (30 + 28 + 2)
        2021-04-23,V2,terminate,terminate,,     # start 02-22 + 60 (6 + 31 + 23)
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        # fees accrue from D+1 whatever start is:
        VB1,V1,2000,0,0,100,0    # Jan 21-31 (11) + 28 + 31 + 30 = 100 days x 20 fen
        VB2,V2,2370,0,0,79,0     # Feb 11-28 (18) + 31 + 30 = 79 days x 30 fen
        VB3,V3,4500,0,0,150,0    # Dec 2-31 (30) + 31 + 28 + 31 + 30 = 150 days x 30 fen
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        V1,disconnected,0,20000
        V2,terminated,0,10000
        V3,terminated,0,10000
        V4,active,0,0
    """)


def test_postpaid_credit_pays_new_bills_on_their_issue_day(tmp_path: Path, engine: str) -> None:
    """What a payment leaves over is credit, applied to each new bill on its issue day; the
    input `balance_fen` of a postpaid account is credit on hand at the start."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region,balance_fen
            H1,{POWER_GZ},0
            H2,{POWER_GZ},3000
        """,
        bills="""
            H1A,H1,2021-04,2021-05-05,2021-05-20,10000
            H1B,H1,2021-05,2021-06-05,2021-06-20,10000   # paid from credit on 06-05
            H2A,H2,2021-04,2021-05-05,2021-05-20,10000   # 3000 of credit pays part of it
        """,
        payments="""
            HP1,H1,2021-05-10T10:00:00+08:00,25000,bank   # H1A 10000, 15000 left as credit
        """,
        start="2021-05-01",
        end="2021-06-30",
    )
    assert out.actions == rows("""
        date,account_id,action,step,bill_id,policy_id
        2021-05-21,H2,remind,remind,H2A,   # 7000 still open
        2021-06-20,H2,notice,notice,,
        2021-06-23,H2,disconnect,disconnect,,
    """)
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        H1A,H1,0,0,0,0,0   # paid before due: no accruing day, so no minimum either
        H1B,H1,0,0,0,0,0
        H2A,H2,287,0,0,41,0   # May 21 - Jun 30 = 11 + 30 = 41 days x 7 fen (on 7000)
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        H1,active,5000,0   # 15000 - 10000 for H1B
        H2,disconnected,0,7000
    """)


def test_late_fee_rounds_each_bill_total_half_up_once(tmp_path: Path, engine: str) -> None:
    """Fees accumulate exactly and each bill's total is rounded half-up once (not day by
    day); `waived_fen` is rounded on its own."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts="""
            account_id,utility,customer_class,region
            F1,power,residential,440104
            F2,power,residential,440104
            F3,power,residential,440106   # Tianhe: in the waiver's scope
        """,
        bills="""
            FB1,F1,2021-04,2021-05-05,2021-05-20,12345   # 12.345 fen a day
            FB2,F2,2021-04,2021-05-05,2021-05-20,500     # 0.5 fen a day
            FB3,F3,2021-04,2021-05-05,2021-05-20,1500    # 1.5 fen a day
        """,
        policies="""
            policies:
              - id: tianhe-waiver
                effect: waive_late_fee
                scope: {utility: [power], region: ["440106"]}
                bills: {period_in: ["2021-04"]}
                window: {start: 2021-05-21, end: 2021-05-22}
        """,
        start="2021-05-01",
        end="2021-05-23",
    )
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        FB1,F1,37,0,0,3,0   # May 21-23: 3 x 12.345 = 37.035 -> 37 (day by day: 36)
        FB2,F2,2,0,0,3,0    # 3 x 0.5 = 1.5 -> 2 (day by day, half-up: 3)
        FB3,F3,3,2,0,2,1    # waived May 21: 1.5 -> 2; accrued May 22-23: 3.0 -> 3
    """)
