"""The relief-policy language, valid files: they load into the right records with their
sources, the shipped 2020 example reads as published, and the p2 telecom policies load."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from textwrap import dedent

from helpers_policy import EXAMPLE, GOOD
from sanbuting.domain import BillingMode, CustomerClass, Utility
from sanbuting.policy import (
    AccountFacts,
    CreditPolicy,
    DeferPolicy,
    Effect,
    ExemptPolicy,
    Scope,
    WaiverPolicy,
    Window,
    load_policies,
    parse_policies,
)

# -- valid files -------------------------------------------------------------------------------


def test_good_policy_loads_with_its_source() -> None:
    [loaded] = parse_policies(GOOD, "p.yaml")
    assert loaded == ExemptPolicy(
        id="gd-power",
        title="gd-power",
        scope=Scope(utility=(Utility.POWER,), region=("44",)),
        window=Window(date(2020, 1, 24), date(2020, 3, 1)),
        source="p.yaml:2",
    )
    assert loaded.effect is Effect.EXEMPT


def test_empty_list_is_valid() -> None:
    assert parse_policies("policies: []\n", "p.yaml") == []


def test_every_effect_with_its_keys() -> None:
    text = """\
        policies:
          - id: e
            title: "  Exempt, with everything  "
            effect: exempt
            scope: {utility: power, region: 4403, customer_class: residential, tags: hospital,
                    billing_mode: [prepaid, postpaid]}
            window: {start: "2020-01-24", end: 2020-03-01}
            pause_reminders: true
            reconnect: True
            resume: {spread_days: 7}
          - id: d-until
            effect: defer
            scope: {}
            defer: {until: 2020-04-01}
            window: {start: 2020-01-24, end: 2020-03-31}
          - id: w-all
            effect: waive_late_fee
            scope: {}
            window: {start: 2020-01-01, end: 2020-03-01}
          - id: w-period
            effect: waive_late_fee
            scope: {}
            bills: {period_in: ["2019-12", 2020-01]}
            window: {start: 2020-01-01, end: 2020-03-01}
          - id: c
            effect: emergency_credit
            scope: {utility: [gas], billing_mode: [prepaid]}
            credit_fen: 10_000
            window: {start: 2020-01-24, end: 2020-03-31}
    """
    exempt, defer, waive_all, waive_period, credit = parse_policies(dedent(text), "p.yaml")
    assert isinstance(exempt, ExemptPolicy)
    assert exempt.title == "Exempt, with everything"
    assert (exempt.pause_reminders, exempt.reconnect, exempt.spread_days) == (True, True, 7)
    assert exempt.scope == Scope(
        utility=(Utility.POWER,),
        region=("4403",),
        customer_class=(CustomerClass.RESIDENTIAL,),
        tags=("hospital",),
        billing_mode=(BillingMode.PREPAID, BillingMode.POSTPAID),
    )
    assert defer == DeferPolicy(
        id="d-until",
        title="d-until",
        scope=Scope(),
        window=Window(date(2020, 1, 24), date(2020, 3, 31)),
        source="p.yaml:11",
        until=date(2020, 4, 1),
    )
    assert isinstance(waive_all, WaiverPolicy)
    assert (waive_all.issued_in, waive_all.period_in) == (None, None)
    assert isinstance(waive_period, WaiverPolicy)
    assert waive_period.period_in == ("2019-12", "2020-01")
    assert isinstance(credit, CreditPolicy)
    assert credit.credit_fen == 10_000


P2_POLICIES = """\
policies:
  - id: tel-frontline-exempt
    title: No suspension for frontline medical staff
    effect: exempt
    scope:
      utility: [telecom]
      tags: [frontline_medical]
    window: {start: 2020-01-24, end: 2020-03-01}
    pause_reminders: true
  - id: tel-defer-30
    title: Suspension deferred by 30 days
    effect: defer
    scope:
      utility: [telecom]
    defer: {days: 30}
    window: {start: 2020-01-24, end: 2020-03-31}
"""


def test_p2_policies_load_into_the_right_records() -> None:
    assert parse_policies(P2_POLICIES, "policies.yaml") == [
        ExemptPolicy(
            id="tel-frontline-exempt",
            title="No suspension for frontline medical staff",
            scope=Scope(utility=(Utility.TELECOM,), tags=("frontline_medical",)),
            window=Window(date(2020, 1, 24), date(2020, 3, 1)),
            source="policies.yaml:2",
            pause_reminders=True,
        ),
        DeferPolicy(
            id="tel-defer-30",
            title="Suspension deferred by 30 days",
            scope=Scope(utility=(Utility.TELECOM,)),
            window=Window(date(2020, 1, 24), date(2020, 3, 31)),
            source="policies.yaml:10",
            days=30,
        ),
    ]


def test_shipped_2020_example() -> None:
    loaded = {p.id: p for p in load_policies([EXAMPLE])}
    effects = {pid: p.effect.value for pid, p in loaded.items()}
    assert effects == {
        "gd-power-exempt-residential-2020": "exempt",
        "gd-power-exempt-epidemic-key-2020": "exempt",
        "gd-power-waive-jan-2020": "waive_late_fee",
        "sz-power-exempt-2020": "exempt",
        "sz-power-waive-2020": "waive_late_fee",
        "hubei-power-exempt-2020": "exempt",
        "telecom-exempt-frontline-2020": "exempt",
        "telecom-exempt-hubei-2020": "exempt",
        "telecom-defer-30-2020": "defer",
        "crgas-hubei-credit-2020": "emergency_credit",
        "crgas-hubei-exempt-2020": "exempt",
    }
    for p in loaded.values():
        assert "2020-02-03" in p.title  # every title cites the report
    guangdong = loaded["gd-power-exempt-residential-2020"]
    assert guangdong.scope.region is not None
    assert "4403" not in guangdong.scope.region
    assert len(guangdong.scope.region) == 20 and all(
        r.startswith("44") for r in guangdong.scope.region
    )
    assert guangdong.scope.customer_class == (CustomerClass.RESIDENTIAL,)
    assert guangdong.window == Window(date(2020, 1, 24), date(2020, 3, 1))
    key_users = loaded["gd-power-exempt-epidemic-key-2020"]
    assert key_users.scope.tags == ("hospital", "epidemic_key")
    assert key_users.scope.region == guangdong.scope.region
    assert key_users.scope.customer_class is None

    gd_waiver = loaded["gd-power-waive-jan-2020"]
    assert isinstance(gd_waiver, WaiverPolicy) and gd_waiver.issued_in == ("2020-01",)
    assert gd_waiver.window == Window(date(2020, 2, 1), date(2020, 3, 1))
    shenzhen = loaded["sz-power-exempt-2020"]
    assert shenzhen.scope == Scope(utility=(Utility.POWER,), region=("4403",))
    assert shenzhen.window == Window(date(2020, 1, 31), date(2020, 3, 1))
    sz_waiver = loaded["sz-power-waive-2020"]
    assert isinstance(sz_waiver, WaiverPolicy)
    assert sz_waiver.issued_in == ("2020-01", "2020-02")
    assert sz_waiver.window == Window(date(2020, 1, 1), date(2020, 3, 1))
    hubei = loaded["hubei-power-exempt-2020"]
    assert hubei.scope == Scope(utility=(Utility.POWER,), region=("42",))
    assert hubei.window.start == date(2020, 1, 24)

    assert loaded["telecom-exempt-frontline-2020"].scope.tags == (
        "hospital",
        "frontline_medical",
        "epidemic_key",
    )
    tel_hubei = loaded["telecom-exempt-hubei-2020"]
    assert isinstance(tel_hubei, ExemptPolicy) and tel_hubei.reconnect
    assert tel_hubei.scope.region == ("42",)
    tel_defer = loaded["telecom-defer-30-2020"]
    assert isinstance(tel_defer, DeferPolicy) and tel_defer.days == 30
    assert tel_defer.scope == Scope(utility=(Utility.TELECOM,))
    assert tel_defer.window == Window(date(2020, 1, 24), date(2020, 3, 31))

    gas_credit = loaded["crgas-hubei-credit-2020"]
    assert isinstance(gas_credit, CreditPolicy) and gas_credit.credit_fen == 10000
    assert gas_credit.scope == Scope(
        utility=(Utility.GAS,), region=("42",), billing_mode=(BillingMode.PREPAID,)
    )
    gas_exempt = loaded["crgas-hubei-exempt-2020"]
    assert gas_exempt.scope.billing_mode == (BillingMode.POSTPAID,)


def test_example_scopes_pick_the_right_accounts() -> None:
    policies = load_policies([EXAMPLE])

    def ids(utility: Utility, region: str, cls: CustomerClass, *tags: str) -> set[str]:
        facts = AccountFacts(utility, region, cls, BillingMode.POSTPAID, frozenset(tags))
        return {p.id for p in policies if p.scope.matches(facts) and p.effect is Effect.EXEMPT}

    nanshan, tianhe = "440305", "440106"
    assert ids(Utility.POWER, tianhe, CustomerClass.RESIDENTIAL) == {
        "gd-power-exempt-residential-2020"
    }
    assert ids(Utility.POWER, tianhe, CustomerClass.NON_RESIDENTIAL) == set()
    assert ids(Utility.POWER, tianhe, CustomerClass.NON_RESIDENTIAL, "hospital") == {
        "gd-power-exempt-epidemic-key-2020"
    }
    assert ids(Utility.POWER, nanshan, CustomerClass.NON_RESIDENTIAL) == {"sz-power-exempt-2020"}


def test_region_as_int_and_single_scalar() -> None:
    [loaded] = parse_policies(GOOD.replace('["44"]', "4403"), "p.yaml")
    assert loaded.scope.region == ("4403",)


def test_files_load_together_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(P2_POLICIES, encoding="utf-8")
    second.write_text(GOOD, encoding="utf-8")
    loaded = load_policies([second, first])
    assert [p.id for p in loaded] == ["gd-power", "tel-frontline-exempt", "tel-defer-30"]
    assert loaded[1].source == f"{first}:2"
