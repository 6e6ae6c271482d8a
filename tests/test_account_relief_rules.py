"""Account relief against the policies and the replay, on prepaid accounts, in the summary,
and the `holds` file's rejects (docs/account-relief.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanbuting.io.readers import read_inputs
from scenario import ENGINES, pick, rows, scenario, write_inputs

POWER = "power,residential,440305"


@pytest.mark.parametrize("engine", ENGINES)
def test_an_exempt_beats_a_lock_and_a_lock_comes_before_a_defer(
    tmp_path: Path, engine: str
) -> None:
    """D1 (defer 10 days, window 02-01..03-01) is locked 02-10..02-20: the lock holds its
    notice from 02-15 and writes the event; on 02-21 the defer has its move (to 03-02).
    E1, a hospital, is also exempt 02-01..03-01: the exempt alone acts and writes the event;
    from 03-01 nothing covers it any more."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region,tags
            D1,{POWER},
            E1,{POWER},hospital
        """,
        bills="""
            B1,D1,2020-01,2020-01-01,2020-01-15,10000
            B2,E1,2020-01,2020-01-01,2020-01-15,10000
        """,
        holds="""
            H1,D1,hold,2020-02-10,2020-02-20,,,,dispute,S001
            H2,E1,hold,2020-02-10,2020-02-20,,,,medical,S001
        """,
        policies="""
            policies:
              - id: hospitals
                effect: exempt
                scope: {utility: [power], tags: [hospital]}
                window: {start: 2020-02-01, end: 2020-03-01}
              - id: defer-10
                effect: defer
                scope: {utility: [power]}
                defer: {days: 10}
                window: {start: 2020-02-01, end: 2020-03-01}
        """,
        start="2020-01-01",
        end="2020-03-31",
    )
    assert pick(out.actions, "date,account_id,action") == rows("""
        date,account_id,action
        2020-01-16,D1,remind
        2020-01-16,E1,remind
        2020-03-01,E1,notice
        2020-03-02,D1,notice
        2020-03-04,E1,disconnect
        2020-03-05,D1,disconnect
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2020-02-15,D1,H1,hold,notice,
        2020-02-15,E1,hospitals,exempt,notice,
        2020-02-21,D1,defer-10,defer,notice,2020-03-02
    """)
    summary = out.summary
    # the regulator's counts are the policies'; the lock is counted apart
    assert summary["protection_events"] == {
        "defer-10": {"defer": 1},
        "hospitals": {"exempt": 1},
    }
    assert summary["protected_accounts"] == 2
    assert summary["account_relief"]["hold"] == {
        "accounts": 1,
        "events": 1,
        "holds": {"broken": 0, "ended": 2, "kept": 0, "not_started": 0, "open": 0},
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lock_before_start_acts_in_the_replay_and_on_a_prepaid_meter(
    tmp_path: Path, engine: str
) -> None:
    """R1 and R2 owe a bill due 2019-12-01: the replay before --start (01-07) would serve the
    notice on 01-01. R2 has no lock: that notice is valid on 01-07 (through 01-08) and the
    disconnection comes at once. R1 was locked 01-01..01-05, so its notice came on 01-06 and
    the disconnection waits to 01-09. The replay writes nothing (no event). K1, prepaid
    power, falls to -500 on 01-10 while locked through 01-15: notice 01-16, then the trip the
    next day."""
    out = scenario(
        tmp_path,
        engine=engine,
        accounts=f"""
            account_id,utility,customer_class,region,billing_mode,balance_fen
            R1,{POWER},postpaid,0
            R2,{POWER},postpaid,0
            K1,{POWER},prepaid,500
        """,
        bills="""
            B1,R1,2019-11,2019-11-15,2019-12-01,10000
            B2,R2,2019-11,2019-11-15,2019-12-01,10000
        """,
        usage="""
            K1,2020-01-10,1000
        """,
        holds="""
            H1,R1,hold,2020-01-01,2020-01-05,,,,dispute,S001
            H2,K1,hold,2020-01-01,2020-01-15,,,,medical,S001
        """,
        start="2020-01-07",
        end="2020-01-31",
    )
    assert pick(out.actions, "date,account_id,action") == rows("""
        date,account_id,action
        2020-01-07,R2,disconnect
        2020-01-09,R1,disconnect
        2020-01-16,K1,notice
        2020-01-17,K1,disconnect
    """)
    assert out.protections == rows("""
        date,account_id,policy_id,kind,prevented_action,deferred_to
        2020-01-10,K1,H2,hold,notice,
    """)
    assert out.relief == rows("""
        hold_id,account_id,kind,outcome,outcome_on
        H1,R1,hold,ended,2020-01-06
        H2,K1,hold,ended,2020-01-16
    """)


def test_without_a_holds_file_the_outputs_are_as_before(tmp_path: Path) -> None:
    out = scenario(
        tmp_path,
        accounts=f"""
            account_id,utility,customer_class,region
            A1,{POWER}
        """,
        bills="B1,A1,2020-01,2020-01-01,2020-01-15,10000",
        start="2020-01-01",
        end="2020-01-31",
    )
    assert not (out.folder / "account_relief.csv").exists()
    assert "account_relief" not in out.summary


def test_holds_rows_that_break_the_rules_are_rejected_with_line_column_and_reason(
    tmp_path: Path,
) -> None:
    write_inputs(
        tmp_path,
        accounts=f"""
            account_id,utility,customer_class,region,billing_mode
            A1,{POWER},postpaid
            A2,{POWER},postpaid
            K1,{POWER},prepaid
        """,
        holds="""
            H1,A1,hold,2020-02-01,,,,,dispute,S1                    # line 2: no until
            H2,A1,promise,2020-02-01,2020-02-10,,,,hardship,S1      # 3: no amount
            H3,K1,instalments,2020-02-01,,,9000,3,hardship,S1       # 4: prepaid
            H4,A1,instalments,2020-02-01,,,9000,61,hardship,S1      # 5: too many parts
            H5,A1,instalments,2020-02-01,2020-04-30,,9000,3,other,S1  # 6: last due 05-01
            H6,A1,instalments,2020-02-01,,,9000,3,other,S1          # 7: loaded
            H7,A1,instalments,2020-03-01,,,9000,3,other,S1          # 8: a second plan
            H8,A1,freeze,2020-02-01,2020-02-10,,,,other,S1          # 9: unknown kind
            H9,A1,hold,2020-02-10,2020-02-01,,,,other,S1            # 10: until before from
            H10,ZZ,hold,2020-02-01,2020-02-10,,,,other,S1           # 11: unknown account
            H6,A2,hold,2020-02-01,2020-02-10,,,,other,S1            # 12: repeated hold_id
            H11,A2,promise,2020-02-01,2020-02-10,notice,100,,other,S1  # 13: steps
            H12,A2,hold,2020-02-01,2020-02-10,,,,sad,S1             # 14: unknown reason
        """,
    )
    inputs = read_inputs(tmp_path / "data")
    assert [(r.line, r.column, r.reason) for r in inputs.rejects if r.line <= 8] == [
        (2, "until", "a lock needs until"),
        (3, "amount_fen", "a promise to pay needs amount_fen"),
        (4, "account_id", "an instalment plan is for a postpaid account's bills"),
        (5, "instalments", "at most 60 instalments"),
        (6, "until", "the last instalment falls due on 2020-05-01: give that or leave it empty"),
        (8, "kind", "this account already has an instalment plan in this file"),
    ]
    later = {(r.line, r.column) for r in inputs.rejects if r.line > 8}
    assert later == {
        (9, "kind"),
        (10, "until"),
        (11, "account_id"),
        (12, "hold_id"),
        (13, "steps"),
        (14, "reason"),
    }
    assert {r.file for r in inputs.rejects} == {"holds.csv"}
    assert inputs.holds.get_column("hold_id").to_list() == ["H6"]
