"""What a what-if changes, on SQLite and PostgreSQL: the accounts whose actions change, day by
day, with the policy that made the difference (`whatif.accounts`), and the policy file's
changes in words (`whatif.policy_diff`).

The store is test_whatif.py's: H1, H2 (Wuhan, 420102) and G1 (Guangzhou, 440104) each owe one
power bill due 2019-12-20, never paid; the deployment-wide set in force exempts Guangzhou power
(gz-exempt) from 01-15 up to 02-01. Power postpaid (cn-power-1996): a notice when the bill is
more than 30 days overdue (01-20), the cut-off 3 days later (01-23); inside an exempt window
no step is taken, and from its end the ladder resumes (notice on the end day, cut-off 3 days
later). Only days inside the what-if's window count (the earliest start to the latest last
day of the file's and the replaced set's policies).
"""

from __future__ import annotations

from datetime import date
from textwrap import dedent as plain

import pytest
from sqlalchemy import Engine

from sanbuting.policy import parse_policies
from sanbuting.store.database import sessions
from sanbuting.whatif.accounts import AccountChange
from sanbuting.whatif.policy_diff import describe, policy_changes
from sanbuting.whatif.service import day_frame, what_if
from test_whatif import ON, dedent, engine  # noqa: F401  (the store fixture)

MOVED = """
    policies:
      - id: gz-exempt
        effect: exempt
        scope: {utility: [power], region: ["4401"]}
        window: {start: 2020-01-21, end: 2020-02-10}
"""
WIDENED = """
    policies:
      - id: gz-exempt
        effect: exempt
        scope: {utility: [power], region: ["4401", "42"]}
        window: {start: 2020-01-15, end: 2020-02-01}
"""


def change(account: str, day: str, before: str, after: str) -> AccountChange:
    return AccountChange(
        "power",
        account,
        date.fromisoformat(day),
        tuple(before.split("+")) if before else (),
        tuple(after.split("+")) if after else (),
        ("gz-exempt",),
    )


@pytest.mark.parametrize(
    ("text", "last_day", "expected"),
    [
        # gz-exempt moved to 01-21 up to 02-10 (window 01-15 to 02-09). In force, G1's notice
        # due 01-20 is prevented and comes on 02-01, its cut-off on 02-04. Moved, the notice
        # is served on 01-20 (before the window) and the cut-off due 01-23 is prevented; the
        # window ends after the what-if's last day, so nothing else happens to G1 inside it.
        # H1 and H2 are in no scope: the same in both runs.
        (
            MOVED,
            date(2020, 2, 9),
            [
                change("G1", "2020-01-20", "", "notice"),
                change("G1", "2020-02-01", "notice", ""),
                change("G1", "2020-02-04", "disconnect", ""),
            ],
        ),
        # gz-exempt widened to Hubei too (window 01-15 to 01-31): H1's and H2's notices due
        # 01-20 are prevented, so their cut-offs of 01-23 do not come; their notices fall on
        # 02-01, after the window. G1 is the same in both runs.
        (
            WIDENED,
            date(2020, 1, 31),
            [
                change("H1", "2020-01-20", "notice", ""),
                change("H1", "2020-01-23", "disconnect", ""),
                change("H2", "2020-01-20", "notice", ""),
                change("H2", "2020-01-23", "disconnect", ""),
            ],
        ),
    ],
    ids=["window-moved", "scope-widened"],
)
def test_the_accounts_whose_actions_change(
    engine: Engine,  # noqa: F811
    text: str,
    last_day: date,
    expected: list[AccountChange],
) -> None:
    with sessions(engine).begin() as session:
        result = what_if(session=session, scope=None, text=dedent(text), file_name="gz.yaml", on=ON)
    assert (result.first_day, result.last_day) == (date(2020, 1, 15), last_day)
    assert list(result.changes) == expected
    gas, power = result.companies
    assert (gas.changed, power.changed) == (0, len({c.account_id for c in expected}))
    assert (result.added, result.removed) == ((), ())
    (moved,) = result.policy_changes
    assert moved.kind == "changed"


def test_the_day_by_day_figures_add_up_to_the_totals(engine: Engine) -> None:  # noqa: F811
    with sessions(engine).begin() as session:
        result = what_if(
            session=session, scope=None, text=dedent(MOVED), file_name="gz.yaml", on=ON
        )
    frame = day_frame(result)
    totals = {
        (scenario, measure): int(frame.filter(scenario=scenario, measure=measure)["count"].sum())
        for scenario in ("before", "after")
        for measure in ("cutoffs", "events")
    }
    power = result.companies[1]
    assert totals == {
        ("before", "cutoffs"): power.cutoffs_without,  # H1, H2 on 01-23; G1 on 02-04
        ("after", "cutoffs"): power.cutoffs_with,  # H1, H2 on 01-23
        ("before", "events"): power.events_without,  # G1's notice prevented on 01-20
        ("after", "events"): power.events_with,  # G1's cut-off prevented on 01-23
    }
    assert (power.cutoffs_without, power.cutoffs_with) == (3, 2)


OLD = plain("""\
    policies:
      - id: moved
        effect: exempt
        scope: {utility: [power], region: ["42"]}
        window: {start: 2020-01-24, end: 2020-03-01}
      - id: widened
        effect: defer
        scope: {utility: [power]}
        defer: {days: 30}
        window: {start: 2020-01-24, end: 2020-03-01}
      - id: turned
        effect: defer
        scope: {utility: [gas]}
        defer: {days: 10}
        window: {start: 2020-01-24, end: 2020-03-01}
      - id: same
        effect: exempt
        scope: {utility: [telecom, power]}
        window: {start: 2020-01-24, end: 2020-03-01}
      - id: dropped
        effect: waive_late_fee
        scope: {utility: [power]}
        bills: {issued_in: ["2019-12"]}
        window: {start: 2020-02-01, end: 2020-03-01}
""")
NEW = plain("""\
    policies:
      - id: added
        effect: emergency_credit
        scope: {utility: [gas], billing_mode: [prepaid]}
        credit_fen: 5000
        window: {start: 2020-02-01, end: 2020-04-01}
      - id: same
        effect: exempt
        scope: {utility: [power, telecom]}
        window: {start: 2020-01-24, end: 2020-03-01}
      - id: moved
        effect: exempt
        scope: {utility: [power], region: ["42"]}
        window: {start: 2020-02-01, end: 2020-04-01}
      - id: widened
        effect: defer
        scope: {utility: [power, gas], customer_class: [residential]}
        defer: {days: 30}
        window: {start: 2020-01-24, end: 2020-03-01}
      - id: turned
        effect: exempt
        scope: {utility: [gas]}
        window: {start: 2020-01-24, end: 2020-03-01}
""")


def test_what_the_policy_file_changes_in_words() -> None:
    """A reordered list (`same`) is no change; the rest, by id, old → new."""
    changes = policy_changes(parse_policies(OLD, "old.yaml"), parse_policies(NEW, "new.yaml"))
    assert [(c.policy_id, c.kind, c.aspects) for c in changes] == [
        ("added", "added", ()),
        ("moved", "changed", ("window",)),
        ("widened", "changed", ("scope",)),
        ("turned", "changed", ("effect", "terms")),
        ("dropped", "removed", ()),
    ]
    assert [describe(c, "zh") for c in changes] == [
        "新增 added：应急额度（额度 50.00 元）；2020-02-01 至 2020-03-31；"
        "行业 燃气；计费方式 预付费",
        "修改 moved：期间 2020-01-24 至 2020-02-29 → 2020-02-01 至 2020-03-31",
        "修改 widened：范围 行业 电力 → 行业 电力、燃气；类别 居民",
        "修改 turned：效果 缓停 → 免停；条件 顺延 10 天 → 无",
        "删除 dropped：免收违约金（2019-12 出账的账单）；2020-02-01 至 2020-02-29；行业 电力",
    ]
    assert [describe(c, "en") for c in changes] == [
        "added added: emergency credit (50.00 yuan); 2020-02-01 to 2020-03-31; "
        "utility gas; billing prepaid",
        "changed moved: window 2020-01-24 to 2020-02-29 → 2020-02-01 to 2020-03-31",
        "changed widened: scope utility power → utility power, gas; class residential",
        "changed turned: effect defer → exempt; terms by 10 days → none",
        "removed dropped: late-fee waiver (bills issued in 2019-12); 2020-02-01 to 2020-02-29; "
        "utility power",
    ]


def test_a_file_the_same_as_the_set_it_replaces_changes_nothing() -> None:
    policies = parse_policies(OLD, "old.yaml")
    assert policy_changes(policies, parse_policies(OLD, "again.yaml")) == ()
