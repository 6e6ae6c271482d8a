"""The collections desk (desk/, web/console/desk.py), on SQLite and PostgreSQL: the worklist's
filters, locks and promises set from the first day not recorded (refused before it, too long,
without an amount, on another company's account), a lock lifted, the roles (an agent records
promises, only a supervisor locks), and the audit rows each writes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from sanbuting.customers.service import set_holder
from sanbuting.desk.holds import HoldRequest, InvalidHold, holds_of, lift_hold, set_hold
from sanbuting.desk.search import Search, search_accounts
from sanbuting.desk.worklist import Filters, WorkItem, as_csv, why_not
from sanbuting.domain import BillingMode, CustomerClass, Utility
from sanbuting.errors import Conflict, NotFound
from sanbuting.jobs.preview import Proposed
from sanbuting.policy import parse_policies
from sanbuting.policy.model import AccountFacts
from sanbuting.store.database import sessions
from sanbuting.store.models import Account, OpenBookRow
from test_console_access import (  # noqa: F401  (fixtures: a store run through 2020-01-24)
    audit_rows,
    client,
    company,
    csrf,
    engine,
    sign_in,
    url,
)

NOW = datetime(2020, 1, 25, 2, 0, tzinfo=UTC)
FIRST_OPEN = date(2020, 1, 25)


def item(account: str, action: str, arrears: int, days: int | None, region: str) -> WorkItem:
    row = Proposed(account, action, action, "", "", "…", "power", arrears, days)
    return WorkItem(row, "power", region, "residential", ("hospital",) if account == "A" else ())


ITEMS = [
    item("A", "disconnect", 12_000, 45, "440305"),
    item("B", "notice", 300, 31, "420102"),
    item("C", "remind", 5_000, 1, "440104"),
    item("D", "low_balance", 0, None, "440305"),
]


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        (Filters(), "ABCD"),
        (Filters(region="44"), "ACD"),
        (Filters(region="4403"), "AD"),
        (Filters(action="notice"), "B"),
        (Filters(tag="hospital"), "A"),
        (Filters(min_arrears_fen=5_000), "AC"),
        (Filters(max_arrears_fen=300), "BD"),
        (Filters(min_days_overdue=31), "AB"),  # a row with no overdue bill is not kept
        (Filters(max_days_overdue=31, region="4"), "BC"),
    ],
)
def test_worklist_filters(filters: Filters, kept: str) -> None:
    assert "".join(i.proposed.account_id for i in ITEMS if filters.keep(i)) == kept


def test_the_worklist_table_in_chinese() -> None:
    assert as_csv(ITEMS[:2], "zh").splitlines() == [
        "户号,动作,步骤,账单,政策,原因,欠费（元）,逾期天数,行业,地区,类别,标签,纾困政策为何不适用",
        "A,disconnect,disconnect,,,…,120.00,45,power,440305,residential,hospital,",
        "B,notice,notice,,,…,3.00,31,power,420102,residential,,",
    ]


WHY_POLICIES = """
policies:
  - id: hubei-exempt
    effect: exempt
    scope: {utility: [power], region: ["42"]}
    window: {start: 2020-01-24, end: 2020-03-01}
  - id: power-defer
    effect: defer
    scope: {utility: [power]}
    defer: {days: 10}
    window: {start: 2020-03-01, end: 2020-04-01}
  - id: gas-exempt
    effect: exempt
    scope: {utility: [gas]}
    window: {start: 2020-01-24, end: 2020-03-01}
  - id: april-exempt
    effect: exempt
    scope: {utility: [power]}
    window: {start: 2020-04-01, end: 2020-05-01}
"""


def test_the_worklist_says_why_no_policy_stops_an_action() -> None:
    policies = parse_policies(WHY_POLICIES, "why.yaml")
    facts = AccountFacts(Utility.POWER, "420102", CustomerClass.RESIDENTIAL, BillingMode.POSTPAID)
    row = Proposed("H1", "disconnect", "disconnect", "", "", "…", "power", 10_000, 80)
    assert why_not(policies, facts, row, date(2020, 3, 20), "zh") == (
        "hubei-exempt（免停）已于 2020-03-01 结束；power-defer（缓停）本次欠费已顺延过；"
        "april-exempt（免停）2020-04-01 起才生效"
    )
    remind = Proposed("H1", "remind", "remind", "B1", "", "…", "power", 10_000, 1)
    assert why_not(policies, facts, remind, date(2020, 3, 20), "zh") == ""


def test_holds_start_on_the_first_day_not_recorded(engine: Engine) -> None:  # noqa: F811
    with sessions(engine).begin() as session:
        power = company(session, "power")

        def refused(request: HoldRequest) -> str:
            with pytest.raises(InvalidHold) as caught:
                set_hold(session=session, company=power, request=request, by="s", now=NOW)
            return caught.value.code

        assert refused(HoldRequest("H1", "hold", date(2020, 1, 24), FIRST_OPEN, "dispute")) == (
            "too_early"
        )
        assert refused(HoldRequest("H1", "hold", FIRST_OPEN, date(2020, 1, 24), "dispute")) == (
            "until_before"
        )
        assert refused(HoldRequest("H1", "hold", FIRST_OPEN, date(2021, 1, 25), "medical")) == (
            "too_long"
        )
        assert refused(HoldRequest("H1", "promise", FIRST_OPEN, FIRST_OPEN, "hardship")) == (
            "amount"
        )
        assert refused(HoldRequest("H1", "hold", FIRST_OPEN, FIRST_OPEN, "sad")) == "reason"
        with pytest.raises(NotFound):  # gas's account is not power's to lock
            set_hold(
                session=session,
                company=power,
                request=HoldRequest("S1", "hold", FIRST_OPEN, FIRST_OPEN, "dispute"),
                by="s",
                now=NOW,
            )
        lock = set_hold(
            session=session,
            company=power,
            request=HoldRequest("H1", "hold", FIRST_OPEN, date(2020, 2, 29), "medical"),
            by="power-super",
            now=NOW,
        )
        promise = set_hold(
            session=session,
            company=power,
            request=HoldRequest("H1", "promise", FIRST_OPEN, date(2020, 2, 5), "hardship",
                                amount_fen=8_000),
            by="power-agent",
            now=NOW,
        )  # fmt: skip
        lifted = lift_hold(session=session, company=power, hold_id=lock.hold_id)
        assert lifted.until_on == date(2020, 1, 24)  # it never acts: nothing is recorded yet
        with pytest.raises(Conflict):
            lift_hold(session=session, company=power, hold_id=lock.hold_id)
        with pytest.raises(Conflict):
            lift_hold(session=session, company=power, hold_id=promise.hold_id)
        account = session.scalar(select(Account).where(Account.account_id == "H1"))
        assert account is not None
        found = [(h.kind, h.start_on, h.until_on, h.amount_fen) for h in holds_of(
            session, power, account)]  # fmt: skip
        assert found == [
            ("promise", FIRST_OPEN, date(2020, 2, 5), 8_000),
            ("hold", FIRST_OPEN, date(2020, 1, 24), None),
        ]


def test_an_instalment_plan_from_the_first_day_not_recorded(engine: Engine) -> None:  # noqa: F811
    """A plan of H1's 100 yuan in three monthly parts from 01-25: its last part falls due on
    04-25; a second plan while it is open is refused, as are one part and no amount; H1's open
    books are forgotten (they were made without the plan)."""
    with sessions(engine).begin() as session:
        power = company(session, "power")

        def plan(account: str, amount: int | None, parts: int | None) -> HoldRequest:
            return HoldRequest(account, "instalments", FIRST_OPEN, None, "hardship",
                               amount_fen=amount, instalments=parts)  # fmt: skip

        def refused(request: HoldRequest) -> str:
            with pytest.raises(InvalidHold) as caught:
                set_hold(session=session, company=power, request=request, by="s", now=NOW)
            return caught.value.code

        assert refused(plan("H1", 10_000, 1)) == "parts"
        assert refused(plan("H1", 10_000, 61)) == "parts"
        assert refused(plan("H1", None, 3)) == "amount"
        assert refused(HoldRequest("H1", "promise", FIRST_OPEN, None, "hardship", "all", 10)) == (
            "until"
        )
        made = set_hold(
            session=session, company=power, request=plan("H1", 10_000, 3), by="a", now=NOW
        )
        assert (made.hold_id[:3], made.start_on, made.until_on, made.amount_fen) == (
            "IP-", FIRST_OPEN, date(2020, 4, 25), 10_000,
        )  # fmt: skip
        assert made.instalments == 3
        assert refused(plan("H1", 5_000, 2)) == "second_plan"
        account = session.scalar(select(Account).where(Account.account_id == "H1"))
        assert account is not None
        assert (
            session.scalars(select(OpenBookRow).where(OpenBookRow.account == account.id)).all()
            == []
        )


def test_agents_promise_supervisors_lock_and_both_are_audited(
    client: TestClient,  # noqa: F811
    engine: Engine,  # noqa: F811
) -> None:
    assert sign_in(client, "power-agent") == 303
    form = {"csrf_token": csrf(client), "reason": "hardship", "until": "2020-02-05"}
    locked = client.post("/console/holds/bulk", data={**form, "accounts": ["H1"]})
    assert locked.status_code == 403
    lock = client.post("/console/accounts/H1/holds", data={**form, "kind": "hold"})
    assert lock.status_code == 403
    promised = client.post(
        "/console/accounts/H1/holds",
        data={**form, "kind": "promise", "amount": "80.00"},
        follow_redirects=False,
    )
    assert promised.status_code == 303
    assert promised.headers["location"] == "/console/accounts/H1#holds"
    early = client.post(
        "/console/accounts/H1/holds",
        data={**form, "kind": "promise", "amount": "", "until": "2020-01-30"},
        follow_redirects=False,
    )
    assert early.headers["location"] == "/console/accounts/H1?refused=amount#holds"
    planned = client.post(
        "/console/accounts/H1/holds",
        data={**form, "kind": "instalments", "amount": "100.00", "until": "", "parts": "2"},
        follow_redirects=False,
    )
    assert planned.headers["location"] == "/console/accounts/H1#holds"
    page = client.get("/console/accounts/H1")
    assert 'data-kind="promise"' in page.text and "缴费承诺" in page.text
    assert 'data-kind="instalments"' in page.text and "分 2 期" in page.text
    assert [
        (a, t)
        for a, t, _ in audit_rows(engine, "power-agent")
        if a in ("record_promise", "agree_plan")
    ] == [
        ("record_promise", "H1"),
        ("agree_plan", "H1"),
    ]

    client.post("/console/signout", data={"csrf_token": csrf(client)})
    assert sign_in(client, "power-super") == 303
    answer = client.post(
        "/console/holds/bulk",
        data={**form, "csrf_token": csrf(client), "accounts": ["H1", "G1", "H1"],
              "back": "day=2020-01-25&action=notice&evil=http://x"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/worklist?day=2020-01-25&action=notice&locked=2"
    targets = [t for a, t, _ in audit_rows(engine, "power-super") if a == "lock_account"]
    assert targets == ["H1", "G1"]
    listed = client.get("/console/worklist?day=2020-01-25")
    assert listed.status_code == 200 and 'id="worklist"' in listed.text
    xlsx = client.get("/console/worklist.xlsx?day=2020-01-25")
    assert xlsx.content[:2] == b"PK"  # a zip: the XLSX container


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (Search(text="江岸"), [("H1", "disconnected", 10_000)]),  # 420102: 武汉市江岸区
        (Search(text="王小"), [("G1", "active", 0)]),
        (Search(text="13800000002"), [("G1", "active", 0)]),
        (Search(state="disconnected"), [("H1", "disconnected", 10_000)]),
        (Search(min_arrears_fen=5_000), [("H1", "disconnected", 10_000)]),
        (Search(max_arrears_fen=0), [("G1", "active", 0)]),
        (Search(text="S1"), []),  # gas's account: another company's
        (Search(), []),
    ],
)
def test_search_by_name_place_state_and_arrears(
    engine: Engine,  # noqa: F811
    asked: Search,
    expected: list[tuple[str, str, int]],
) -> None:
    """The store is recorded through 2020-01-24: H1 (due 2019-12-20) got its notice on 01-20
    and was disconnected on 01-23, owing its 10000 fen (the fee is not finalized)."""
    with sessions(engine).begin() as session:
        power = company(session, "power")
        g1 = session.scalar(select(Account).where(Account.account_id == "G1"))
        assert g1 is not None
        set_holder(session=session, account=g1, name="王小明")
        found = search_accounts(session, power.id, asked, date(2020, 1, 24))
        assert [(f.account.account_id, f.state, f.arrears_fen) for f in found] == expected


def test_the_console_search_shows_state_and_arrears(client: TestClient) -> None:  # noqa: F811
    assert sign_in(client, "power-agent") == 303
    page = client.get("/console/accounts", params={"q": "江岸", "state": "disconnected"})
    assert page.status_code == 200
    assert 'data-account="H1"' in page.text and 'data-state="disconnected"' in page.text
    assert "100.00" in page.text
    assert client.get("/console/accounts", params={"state": "asleep"}).status_code == 422
