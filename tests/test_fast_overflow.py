"""Amounts near the contract's ceiling (10^15 fen) could overflow the fast kernel's 64-bit fee
arithmetic: such accounts are run by the reference engine, so the answer stays exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import ENGINES, rows, scenario

pytestmark = pytest.mark.parametrize("engine", ENGINES)


def test_huge_bills_are_exact(tmp_path: Path, engine: str) -> None:
    # 10^15 fen x 3‰ a day: 3 x 10^12 fen a day, 31 days in January 2020 = 9.3 x 10^13 fen;
    # in fen x ppm units that is 9.3 x 10^22, far beyond int64 (9.2 x 10^18).
    out = scenario(
        tmp_path,
        engine=engine,
        accounts="""
            H1,telecom,residential,440305,postpaid,,active,0,0
            S1,telecom,residential,440305,postpaid,,active,0,0
        """,
        bills="""
            HB1,H1,2019-12,2019-12-01,2019-12-31,1000000000000000
            SB1,S1,2019-12,2019-12-01,2019-12-31,10000
        """,
        start="2020-01-01",
        end="2020-01-31",
    )
    assert out.fees == rows("""
        bill_id,account_id,accrued_fen,waived_fen,charged_fen,days,waived_days
        HB1,H1,93000000000000,0,0,31,0
        SB1,S1,930,0,0,31,0
    """)
