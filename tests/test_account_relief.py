"""Scenario tests of account relief (docs/account-relief.md): locks, promises to pay,
instalment plans and late-fee waivers, on both engines.

Every expected row is derived by hand from docs/account-relief.md and contract.md; the
comments say how. Power postpaid (cn-power-1996): `notice` when the oldest open overdue bill is
more than 30 days overdue (due 2020-01-15: from 2020-02-15), the cut-off at least 3 days after
a valid notice, which stays valid through N+7; fees 1‰ a day (10000 fen: 10 fen a day).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import ENGINES, pick, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)

POWER = "power,residential,440305"


def test_locks_hold_every_step_or_only_notices_and_never_a_meter_that_closes_itself(
    tmp_path: Path, engine: str
) -> None:
    """L1 is locked 02-10..02-29 on every step: its notice waits to 03-01. L2 is locked on
    notices 02-10..02-20: notice 02-21. L3's notice was served 02-15 before its notice lock
    began (02-16): the cut-off goes on (02-18). G1's IC-card meter closes at 0 whatever a
    lock says."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region,billing_mode,balance_fen
            L1,{POWER},postpaid,0
            L2,{POWER},postpaid,0
            L3,{POWER},postpaid,0
            G1,gas,residential,310101,prepaid,1000
        """,
        bills="""
            B1,L1,2020-01,2020-01-01,2020-01-15,10000
            B2,L2,2020-01,2020-01-01,2020-01-15,10000
            B3,L3,2020-01,2020-01-01,2020-01-15,10000
        """,
        usage="""
            G1,2020-03-01,1500   # balance -500: the meter closes that day
        """,
        holds="""
            H1,L1,hold,2020-02-10,2020-02-29,all,,,dispute,S001
            H2,L2,hold,2020-02-10,2020-02-20,notice,,,medical,S001
            H3,L3,hold,2020-02-16,2020-03-31,notice,,,hardship,S002
            H4,G1,hold,2020-02-01,2020-03-31,,,,medical,S002
        """,
        start="2020-01-01",
        end="2020-03-31",
    )
    assert pick(out.actions, "date,account_id,action,step") == rows("""
        date,account_id,action,step
        2020-01-16,L1,remind,remind
        2020-01-16,L2,remind,remind
        2020-01-16,L3,remind,remind
        2020-02-15,L3,notice,notice
        2020-02-18,L3,disconnect,disconnect
        2020-02-21,L2,notice,notice
        2020-02-24,L2,disconnect,disconnect
        2020-03-01,G1,disconnect,meter_closed
        2020-03-01,L1,notice,notice
        2020-03-04,L1,disconnect,disconnect
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2020-02-15,L1,H1,hold,notice,
        2020-02-15,L2,H2,hold,notice,
    """)
    assert out.relief == rows("""
        hold_id,account_id,kind,outcome,outcome_on
        H1,L1,hold,ended,2020-03-01
        H2,L2,hold,ended,2020-02-21
        H3,L3,hold,open,
        H4,G1,hold,open,
    """)


def test_a_broken_promise_resumes_with_a_fresh_notice_and_a_kept_one_ends_the_wait(
    tmp_path: Path, engine: str
) -> None:
    """P1 and P2 get their notice on 02-15; the disconnection would follow on 02-18.
    P1 promises 10000 fen by 02-19 and pays 3000: the promise holds 02-18 and 02-19 and is
    broken on 02-20. The notice of 02-15 would still be valid then (through 02-22), but a
    broken promise forgets it: a fresh notice on 02-20, the disconnection on 02-23.
    P2 promises 10370 fen (principal and the fee of 37 days) by 02-25 and pays 4000 on 02-17
    and 6370 on 02-21: kept on 02-21, when it owes nothing more."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            P1,{POWER}
            P2,{POWER}
        """,
        bills="""
            B1,P1,2020-01,2020-01-01,2020-01-15,10000
            B2,P2,2020-01,2020-01-01,2020-01-15,10000
        """,
        payments="""
            X1,P1,2020-02-17T09:00:00+08:00,3000
            X2,P2,2020-02-17T09:00:00+08:00,4000
            X3,P2,2020-02-21T09:00:00+08:00,6370
        """,
        holds="""
            H1,P1,promise,2020-02-16,2020-02-19,,10000,,hardship,S003
            H2,P2,promise,2020-02-16,2020-02-25,,10370,,hardship,S003
        """,
        start="2020-01-01",
        end="2020-03-31",
    )
    assert pick(out.actions, "date,account_id,action") == rows("""
        date,account_id,action
        2020-01-16,P1,remind
        2020-01-16,P2,remind
        2020-02-15,P1,notice
        2020-02-15,P2,notice
        2020-02-20,P1,notice
        2020-02-23,P1,disconnect
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2020-02-18,P1,H1,promise,disconnect,
        2020-02-18,P2,H2,promise,disconnect,
    """)
    assert out.relief == rows("""
        hold_id,account_id,kind,outcome,outcome_on
        H1,P1,promise,broken,2020-02-20
        H2,P2,promise,kept,2020-02-21
    """)
    # P1: 01-16..02-17 on 10000 (33 days, 330), 02-18..03-31 on 7000 (43 days, 301).
    # P2: 01-16..02-17 on 10000 (330), 02-18..02-21 on 6000 (24): 354 in 37 days, finalized
    # on 02-21 and paid by that day's 6370 (6000 principal, 354 fee, 16 left as credit).
    assert pick(out.fees, "bill_id,accrued_fen,charged_fen,days") == rows("""
        bill_id,accrued_fen,charged_fen,days
        B1,631,0,76
        B2,354,354,37
    """)
    assert out.states == rows("""
        account_id,state,balance_fen,arrears_fen
        P1,disconnected,0,7000
        P2,active,16,0
    """)


def test_instalment_plans_stop_fees_while_kept_and_break_after_the_grace(
    tmp_path: Path, engine: str
) -> None:
    """Each owes one bill of 9000 fen (9 fen a day) due 01-15 and has a plan from 02-01 in
    three parts of 3000 due 03-01, 04-01, 05-01; a part is late from its due day + 10 + 1
    (03-12, 04-12, 05-12). The ladder waits while a plan acts (the notice of 02-15 is held).
    I1 pays every part: kept on 04-29. I2 pays only the first: broken on 04-12 (a fresh
    notice, the disconnection 3 days later). I3 pays its second part on 04-12, the day it
    would break: it breaks on 05-12 instead."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            I1,{POWER}
            I2,{POWER}
            I3,{POWER}
        """,
        bills="""
            B1,I1,2020-01,2020-01-01,2020-01-15,9000
            B2,I2,2020-01,2020-01-01,2020-01-15,9000
            B3,I3,2020-01,2020-01-01,2020-01-15,9000
        """,
        payments="""
            X1,I1,2020-02-28T09:00:00+08:00,3000
            X2,I1,2020-03-30T09:00:00+08:00,3000
            X3,I1,2020-04-29T09:00:00+08:00,3000
            X4,I2,2020-02-28T09:00:00+08:00,3000
            X5,I3,2020-02-28T09:00:00+08:00,3000
            X6,I3,2020-04-12T09:00:00+08:00,3000
        """,
        holds="""
            H1,I1,instalments,2020-02-01,2020-05-01,,9000,3,hardship,S004
            H2,I2,instalments,2020-02-01,,,9000,3,hardship,S004
            H3,I3,instalments,2020-02-01,,,9000,3,hardship,S004
        """,
        start="2020-01-01",
        end="2020-05-31",
    )
    assert pick(out.actions, "date,account_id,action") == rows("""
        date,account_id,action
        2020-01-16,I1,remind
        2020-01-16,I2,remind
        2020-01-16,I3,remind
        2020-04-12,I2,notice
        2020-04-15,I2,disconnect
        2020-05-12,I3,notice
        2020-05-15,I3,disconnect
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2020-02-15,I1,H1,instalments,notice,
        2020-02-15,I2,H2,instalments,notice,
        2020-02-15,I3,H3,instalments,notice,
    """)
    assert out.relief == rows("""
        hold_id,account_id,kind,outcome,outcome_on
        H1,I1,instalments,kept,2020-04-29
        H2,I2,instalments,broken,2020-04-12
        H3,I3,instalments,broken,2020-05-12
    """)
    # I1: 01-16..01-31 accrue on 9000 (16 days, 144); paused 02-01..04-28 on 9000 for 28 days
    # (252), on 6000 for 31 (186), on 3000 for 29 (87): 88 days, 525; 04-29 accrues on the
    # 3000 open at its start (3): 147, finalized that day.
    # I2: 144 before; paused 02-01..04-11 on 9000 for 28 days (252), on 6000 for 43 (258):
    # 71 days, 510; from 04-12 through 05-31 on 6000 (50 days, 300): 444 in 66 days.
    # I3: 144; paused 02-01..05-11: 28 days on 9000 (252), 02-29..04-12 on 6000 (44 days,
    # 264: 04-12 accrues on the principal open at its start), 04-13..05-11 on 3000 (29 days,
    # 87): 101 days, 603; from 05-12 to 05-31 on 3000 (20 days, 60): 204 in 36 days.
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        B1,I1,147,525,147,17,88
        B2,I2,444,510,0,66,71
        B3,I3,204,603,0,36,101
    """)
    assert out.summary["account_relief"]["instalments"] == {
        "accounts": 3,
        "events": 3,
        "holds": {"broken": 2, "ended": 0, "kept": 1, "not_started": 0, "open": 0},
    }


def test_a_late_fee_waiver_takes_the_fees_through_its_last_day(tmp_path: Path, engine: str) -> None:
    """A waiver from 03-01 through 03-01 takes the fees of the bills issued before 03-01 for
    every day through 03-01. W1 pays 101 yuan on 03-11: 46 days waived (01-16..03-01, 460
    fen), 10 days accrue (03-02..03-11, 100 fen, finalized and paid that day). W2 paid its
    principal on 02-10 and never its fee: all 26 days are waived and nothing is owed. W3 has
    no waiver: its 260-fen fee stays owed (a fee alone starts no notice). W1's principal is
    more than 30 days overdue from 02-15: a waiver holds no step, so the notice comes then,
    the cut-off on 02-18 and the reconnection when it pays."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region
            W1,{POWER}
            W2,{POWER}
            W3,{POWER}
        """,
        bills="""
            B1,W1,2020-01,2020-01-01,2020-01-15,10000
            B2,W2,2020-01,2020-01-01,2020-01-15,10000
            B3,W3,2020-01,2020-01-01,2020-01-15,10000
        """,
        payments="""
            X1,W1,2020-03-11T09:00:00+08:00,10100
            X2,W2,2020-02-10T09:00:00+08:00,10000
            X3,W3,2020-02-10T09:00:00+08:00,10000
        """,
        holds="""
            F1,W1,waive_fee,2020-03-01,2020-03-01,,,,hardship,S001
            F2,W2,waive_fee,2020-03-01,2020-03-01,,,,dispute,S001
        """,
        start="2020-01-01",
        end="2020-03-31",
    )
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        B1,W1,100,460,100,10,46
        B2,W2,0,260,0,0,26
        B3,W3,260,0,260,26,0
    """)
    assert out.relief == rows("""
        hold_id,account_id,kind,outcome,outcome_on
        F1,W1,waive_fee,ended,2020-03-02
        F2,W2,waive_fee,ended,2020-03-02
    """)
    assert out.protections == []
    assert pick(out.actions, "date,account_id,action") == rows("""
        date,account_id,action
        2020-01-16,W1,remind
        2020-01-16,W2,remind
        2020-01-16,W3,remind
        2020-02-15,W1,notice
        2020-02-18,W1,disconnect
        2020-03-11,W1,reconnect
    """)
