"""The relief-policy language: valid files load into the right records, every malformed file
is refused whole with `file:line: message` problems, and `check-policies` reports both."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from textwrap import dedent

import pytest
from typer.testing import CliRunner

from sanbuting.cli.app import app
from sanbuting.cli.policies import describe_effect, describe_scope, describe_window
from sanbuting.domain import BillingMode, CustomerClass, Utility
from sanbuting.errors import PolicyError
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

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "policies" / "2020-epidemic.yaml"

GOOD = dedent("""\
    policies:
      - id: gd-power
        effect: exempt
        scope: {utility: [power], region: ["44"]}
        window: {start: 2020-01-24, end: 2020-03-01}
""")


def problems_of(text: str, source: str = "p.yaml") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policies(dedent(text), source)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def only_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


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


# -- one problem, one line ---------------------------------------------------------------------


def test_unknown_key_at_policy_level() -> None:
    problems = problems_of("""\
        policies:
          - id: gd-power
            effect: exempt
            scope: {}
            windw: {start: 2020-01-24, end: 2020-03-01}
    """)
    assert problems == [
        "p.yaml:2: policy 'gd-power' has no 'window' "
        "(add 'window: {start: YYYY-MM-DD, end: YYYY-MM-DD}')",
        "p.yaml:5: unknown key 'windw' in policy 'gd-power' (expected one of: id, title, "
        "effect, scope, window, pause_reminders, reconnect, resume)",
    ]


def test_unknown_key_in_scope() -> None:
    problem = only_problem(GOOD.replace('region: ["44"]', 'regoin: ["44"]'))
    assert problem.startswith("p.yaml:4: unknown key 'regoin' in scope of policy 'gd-power' ")
    assert "utility, region, customer_class, tags, billing_mode" in problem


def test_unknown_key_in_window() -> None:
    problem = only_problem(GOOD.replace("end: 2020-03-01", "end: 2020-03-01, ende: 1"))
    assert problem == (
        "p.yaml:5: unknown key 'ende' in window of policy 'gd-power' (expected start or end)"
    )


def test_unknown_key_at_top_level() -> None:
    problem = only_problem(GOOD + "version: 2\n")
    assert problem == "p.yaml:6: unknown key 'version' at the top level (expected only 'policies')"


@pytest.mark.parametrize(
    ("written", "phrase"),
    [
        ("2020-02-30", "'2020-02-30' is not a real date"),
        ("2020/01/24", "'2020/01/24' is not a date: write YYYY-MM-DD"),
        ('"2020-1-24"', "'2020-1-24' is not a date"),
        ("2020-01-24T08:00:00", "is not a date"),
        ("[2020-01-24]", "must be a single value, not a list"),
    ],
)
def test_bad_date(written: str, phrase: str) -> None:
    problem = only_problem(GOOD.replace("start: 2020-01-24", f"start: {written}"))
    assert problem.startswith("p.yaml:5: window start of policy 'gd-power'")
    assert phrase in problem


@pytest.mark.parametrize(
    ("start", "end"), [("2020-02-01", "2020-02-01"), ("2020-02-01", "2020-01-01")]
)
def test_window_end_must_be_after_start(start: str, end: str) -> None:
    text = GOOD.replace("start: 2020-01-24, end: 2020-03-01", f"start: {start}, end: {end}")
    problem = only_problem(text)
    assert problem.startswith(f"p.yaml:5: window end {end} is not after start {start}")


def test_window_needs_start_and_end() -> None:
    problem = only_problem(GOOD.replace("start: 2020-01-24, ", ""))
    assert problem.startswith("p.yaml:5: window of policy 'gd-power' has no 'start'")


def test_unknown_region_prefix() -> None:
    problem = only_problem(GOOD.replace('["44"]', '["44", "4499"]'))
    assert problem.startswith("p.yaml:4: region prefix '4499' is not in the GB/T 2260 table")


@pytest.mark.parametrize("prefix", ['"4"', '"44030"', "4403051", '"44a3"', "44.0", '"4403 "'])
def test_bad_region_length(prefix: str) -> None:
    problem = only_problem(GOOD.replace('["44"]', f"[{prefix}]"))
    assert problem.startswith("p.yaml:4: region prefix")
    assert "must be 2, 4 or 6 digits" in problem


def test_region_as_int_and_single_scalar() -> None:
    [loaded] = parse_policies(GOOD.replace('["44"]', "4403"), "p.yaml")
    assert loaded.scope.region == ("4403",)


@pytest.mark.parametrize(
    ("key", "value", "phrase"),
    [
        (
            "utility",
            "[water]",
            "unknown utility 'water' in scope of policy 'gd-power' "
            "(expected one of: power, telecom, gas)",
        ),
        ("customer_class", "[business]", "unknown customer_class 'business'"),
        ("billing_mode", "prepay", "unknown billing_mode 'prepay'"),
        ("tags", '[""]', "tag '' in scope of policy 'gd-power' must be a non-empty name"),
        ("tags", '["a;b"]', "without ';'"),
        ("tags", "[]", "'tags' in scope of policy 'gd-power' is an empty list"),
        ("tags", "[[a]]", "an item of 'tags' in scope of policy 'gd-power' must be a single"),
    ],
)
def test_bad_scope_values(key: str, value: str, phrase: str) -> None:
    problem = only_problem(
        GOOD.replace('{utility: [power], region: ["44"]}', f"{{{key}: {value}}}")
    )
    assert problem.startswith("p.yaml:4: ")
    assert phrase in problem


def test_scope_must_be_a_mapping() -> None:
    problem = only_problem(GOOD.replace('scope: {utility: [power], region: ["44"]}', "scope:"))
    assert problem.startswith("p.yaml:4: scope of policy 'gd-power' must be a mapping")


def test_duplicate_id_in_one_file() -> None:
    text = dedent("""\
        policies:
          - {id: x, effect: exempt, scope: {}, window: {start: 2020-01-24, end: 2020-03-01}}
          - {id: y, effect: exempt, scope: {}, window: {start: 2020-01-24, end: 2020-03-01}}
          - {id: x, effect: exempt, scope: {}, window: {start: 2020-01-24, end: 2020-03-01}}
    """)
    assert problems_of(text) == ["p.yaml:4: duplicate policy id 'x' (first at p.yaml:2)"]


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(GOOD, encoding="utf-8")
    second.write_text("# another file\n" + GOOD, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policies([first, second])
    assert caught.value.problems == [
        f"{second}:3: duplicate policy id 'gd-power' (first at {first}:2)"
    ]


def test_files_load_together_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(P2_POLICIES, encoding="utf-8")
    second.write_text(GOOD, encoding="utf-8")
    loaded = load_policies([second, first])
    assert [p.id for p in loaded] == ["gd-power", "tel-frontline-exempt", "tel-defer-30"]
    assert loaded[1].source == f"{first}:2"


@pytest.mark.parametrize("bad_id", ["GD-power", "gd_power", "gd power", '""', "gd.power"])
def test_bad_id_pattern(bad_id: str) -> None:
    problem = only_problem(GOOD.replace("id: gd-power", f"id: {bad_id}"))
    assert problem.startswith("p.yaml:2: policy id ")
    assert "may only use a-z, 0-9 and '-'" in problem


def test_unknown_effect() -> None:
    problem = only_problem(GOOD.replace("effect: exempt", "effect: exmpt"))
    assert problem == (
        "p.yaml:3: unknown effect 'exmpt' in policy 'gd-power' "
        "(expected one of: exempt, defer, waive_late_fee, emergency_credit)"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    effect: exempt\n", "p.yaml:2: policy 'gd-power' has no 'effect'"),
        (
            '    scope: {utility: [power], region: ["44"]}\n',
            "p.yaml:2: policy 'gd-power' has no 'scope'",
        ),
        (
            "    window: {start: 2020-01-24, end: 2020-03-01}\n",
            "p.yaml:2: policy 'gd-power' has no 'window'",
        ),
    ],
)
def test_missing_required_key(line: str, message: str) -> None:
    problem = only_problem(GOOD.replace(line, ""))
    assert problem.startswith(message)


def test_missing_id_names_the_policy_by_its_place() -> None:
    text = GOOD + "  - {effect: exempt, scope: {}, window: {start: 2020-01-24, end: 2020-03-01}}\n"
    problem = only_problem(text)
    assert problem.startswith("p.yaml:6: policy #2 has no 'id'")


DEFER = dedent("""\
    policies:
      - id: x
        effect: defer
        scope: {}
        window: {start: 2020-01-24, end: 2020-03-31}
""")


def test_defer_without_defer() -> None:
    assert only_problem(DEFER) == (
        "p.yaml:2: defer policy 'x' needs 'defer: {days: N}' or 'defer: {until: DATE}'"
    )


def test_defer_with_both_days_and_until() -> None:
    problem = only_problem(DEFER + "    defer: {days: 30, until: 2020-04-01}\n")
    assert problem == "p.yaml:6: defer of policy 'x' gives both 'days' and 'until': keep one"


@pytest.mark.parametrize(
    ("defer", "phrase"),
    [
        ("{}", "p.yaml:6: defer policy 'x' needs 'defer: {days: N}'"),
        ("{days: 0}", "p.yaml:6: 'days' in defer of policy 'x' must be at least 1, not 0"),
        ('{days: "10"}', "must be a whole number such as 30 (remove the quotes), not '10'"),
        ("{days: 1.5}", "must be a whole number such as 30, not '1.5'"),
        ("{until: 2020-01-24}", "defer until 2020-01-24 is not after window start 2020-01-24"),
        ("{weeks: 2}", "unknown key 'weeks' in defer of policy 'x' (expected days or until)"),
        ("30", "defer of policy 'x' must be a mapping such as {days: 30}"),
    ],
)
def test_bad_defer(defer: str, phrase: str) -> None:
    problems = problems_of(DEFER + f"    defer: {defer}\n")
    assert any(p.startswith("p.yaml:6: ") and phrase in p for p in problems), problems


def test_pause_reminders_on_a_defer() -> None:
    problems = problems_of(DEFER + "    defer: {days: 30}\n    pause_reminders: true\n")
    assert problems == [
        "p.yaml:7: 'pause_reminders' belongs to exempt policies, not defer (policy 'x')"
    ]


def test_credit_fen_missing() -> None:
    text = GOOD.replace("effect: exempt", "effect: emergency_credit")
    assert only_problem(text).startswith(
        "p.yaml:2: emergency_credit policy 'gd-power' needs 'credit_fen: N'"
    )


def test_credit_fen_misplaced() -> None:
    problem = only_problem(GOOD + "    credit_fen: 10000\n")
    assert problem == (
        "p.yaml:6: 'credit_fen' belongs to emergency_credit policies, not exempt "
        "(policy 'gd-power')"
    )


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("0", "must be at least 1, not 0"),
        ("-5", "at least 1"),
        ('"100"', "remove the quotes"),
        ("100.00", "must be a whole number"),
        ("10000000000000000", "must be at most"),
    ],
)
def test_bad_credit_fen(value: str, phrase: str) -> None:
    text = GOOD.replace("effect: exempt", "effect: emergency_credit") + f"    credit_fen: {value}\n"
    problem = only_problem(text)
    assert problem.startswith("p.yaml:6: 'credit_fen' of policy 'gd-power' ")
    assert phrase in problem


WAIVER = GOOD.replace("effect: exempt", "effect: waive_late_fee")


def test_bills_with_both_issued_in_and_period_in() -> None:
    problem = only_problem(WAIVER + '    bills: {issued_in: ["2020-01"], period_in: ["2020-01"]}\n')
    assert problem.startswith(
        "p.yaml:6: bills of policy 'gd-power' gives both 'issued_in' and 'period_in'"
    )


@pytest.mark.parametrize("period", ['"2020-13"', "2020-1", "202001", "2020-01-15", '""'])
def test_bad_period(period: str) -> None:
    problem = only_problem(WAIVER + f'    bills: {{issued_in: ["2020-02", {period}]}}\n')
    assert problem.startswith("p.yaml:6: 'issued_in' in bills of policy 'gd-power': ")
    assert "is not a billing period: write YYYY-MM" in problem


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        (
            "    reconnect: yes\n",
            "'reconnect' of policy 'gd-power' must be true or false, not 'yes'",
        ),
        ('    pause_reminders: "true"\n', "must be true or false, not 'true'"),
        (
            "    resume: {spread_days: -1}\n",
            "'spread_days' in resume of policy 'gd-power' must be at least 0",
        ),
        ("    resume: {}\n", "resume of policy 'gd-power' needs 'spread_days: N'"),
        ("    resume: {spread_dayz: 3}\n", "unknown key 'spread_dayz' in resume"),
    ],
)
def test_bad_exempt_options(extra: str, phrase: str) -> None:
    problems = problems_of(GOOD + extra)
    assert any(p.startswith("p.yaml:6: ") and phrase in p for p in problems), problems


def test_yaml_syntax_error() -> None:
    problem = only_problem("""\
        policies:
          - id: x
            effect: [exempt
            scope: {}
    """)
    assert problem.startswith("p.yaml:4: not valid YAML: ")


def test_duplicate_key_and_explicit_tags() -> None:
    problems = problems_of(GOOD.replace("    effect: exempt\n", "    effect: exempt\n    id: y\n"))
    assert problems == ["p.yaml:4: duplicate key 'id' in policy 'gd-power' (first at line 2)"]
    tagged = only_problem(GOOD.replace("id: gd-power", "id: !!python/object:os.system gd-power"))
    assert tagged.startswith("p.yaml:2: YAML tag ") and "is not allowed" in tagged


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "p.yaml:1: the file is empty"),
        ("# just a comment\n", "p.yaml:1: the file is empty"),
        ("- id: x\n", "p.yaml:1: the file must be a mapping"),
        ("policies:\n", "p.yaml:1: 'policies' must be a list of policies"),
        ("policies: {id: x}\n", "p.yaml:1: 'policies' must be a list of policies"),
        ("policies:\n  - gd-power\n", "p.yaml:2: policy #1 must be a mapping"),
    ],
)
def test_bad_file_shapes(text: str, problem: str) -> None:
    assert problems_of(text)[0].startswith(problem)


def test_unreadable_file_is_one_problem_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("policies: []  # caf\xe9\n".encode("latin-1"))
    with pytest.raises(PolicyError) as caught:
        load_policies([missing, latin1])
    assert caught.value.problems == [
        f"{missing}: cannot read the file (No such file or directory)",
        f"{latin1}: not UTF-8 text; save the policy file as UTF-8",
    ]


def test_several_problems_reported_together_in_line_order() -> None:
    problems = problems_of("""\
        policies:
          - id: Bad_Id
            effect: defer
            scope: {utility: [water], region: ["4499"]}
            window: {start: 2020-03-01, end: 2020-02-01}
            pause_reminders: true
          - id: ok
            effect: waive_late_fee
            scope: {}
            bills: {issued_in: ["2020-13"]}
            window: {start: 2020-01-01, end: 2020-03-01}
    """)
    assert [p.split(": ", 1)[0] for p in problems] == [
        "p.yaml:2",  # bad id
        "p.yaml:2",  # defer without defer
        "p.yaml:4",  # unknown utility
        "p.yaml:4",  # unknown region
        "p.yaml:5",  # end before start
        "p.yaml:6",  # pause_reminders on a defer
        "p.yaml:10",  # bad period
    ]
    assert "policy id 'Bad_Id'" in problems[0]
    assert "'pause_reminders' belongs to exempt policies, not defer" in problems[5]


# -- check-policies ----------------------------------------------------------------------------


def test_check_policies_prints_the_example() -> None:
    result = CliRunner().invoke(app, ["check-policies", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "gd-power-exempt-residential-2020" in result.stdout
    assert "crgas-hubei-exempt-2020" in result.stdout
    assert "power · residential · in 广东省 (44) except 深圳市 (4403)" in result.stdout
    assert "examples/policies/2020-epidemic.yaml:18" in result.stdout
    assert "2020-01-24 → 2020-02-29" in result.stdout
    assert "11 policies in 1 file: valid." in result.stdout
    assert result.stderr == ""


def test_check_policies_reports_problems_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("end: 2020-03-01", "end: 2020-01-01"), encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    result = CliRunner().invoke(app, ["check-policies", str(EXAMPLE), str(bad), str(missing)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{bad}:5: window end 2020-01-01 is not after start 2020-01-24 (policy 'gd-power'; "
        "the window is [start, end): end is the first day no longer covered)",
        f"{missing}: cannot read the file (No such file or directory)",
    ]


def test_descriptions_in_words() -> None:
    loaded = {p.id: p for p in load_policies([EXAMPLE])}
    guangdong = loaded["gd-power-exempt-epidemic-key-2020"]
    assert describe_scope(guangdong.scope) == (
        "power · in 广东省 (44) except 深圳市 (4403) · tagged hospital or epidemic_key"
    )
    assert describe_scope(Scope()) == "every account"
    assert describe_scope(Scope(region=("4403", "420102"))) == (
        "in 湖北省 武汉市 江岸区 (420102), 广东省 深圳市 (4403)"
    )
    assert describe_effect(loaded["telecom-defer-30-2020"]) == "defer (緩停) by 30 days"
    assert describe_effect(loaded["telecom-exempt-hubei-2020"]) == (
        "exempt (免停); reconnects those cut off"
    )
    assert describe_effect(loaded["sz-power-waive-2020"]) == (
        "waive late fee (免違約金): bills issued in 2020-01, 2020-02"
    )
    assert describe_effect(loaded["crgas-hubei-credit-2020"]) == "emergency credit 100.00 yuan"
    assert describe_window(Window(date(2020, 1, 31), date(2020, 3, 1))) == (
        "2020-01-31 → 2020-02-29 (30 days)"
    )


# -- the model's own decisions -----------------------------------------------------------------


def facts(
    utility: Utility = Utility.POWER,
    region: str = "440305",
    cls: CustomerClass = CustomerClass.RESIDENTIAL,
    mode: BillingMode = BillingMode.POSTPAID,
    tags: frozenset[str] = frozenset(),
) -> AccountFacts:
    return AccountFacts(utility, region, cls, mode, tags)


def test_scope_matches() -> None:
    assert Scope().matches(facts())
    power_gd = Scope(utility=(Utility.POWER,), region=("44",))
    assert power_gd.matches(facts())
    assert not power_gd.matches(facts(utility=Utility.GAS))
    assert not power_gd.matches(facts(region="420102"))
    cities = Scope(region=("4401", "4403"))
    assert cities.matches(facts(region="440305")) and cities.matches(facts(region="440106"))
    assert not cities.matches(facts(region="440402"))
    district = Scope(region=("440305",))
    assert district.matches(facts()) and not district.matches(facts(region="440304"))
    tagged = Scope(tags=("hospital", "epidemic_key"))
    assert tagged.matches(facts(tags=frozenset({"epidemic_key", "vip"})))
    assert not tagged.matches(facts(tags=frozenset({"vip"})))
    assert not tagged.matches(facts())
    both = Scope(customer_class=(CustomerClass.RESIDENTIAL,), billing_mode=(BillingMode.PREPAID,))
    assert both.matches(facts(mode=BillingMode.PREPAID))
    assert not both.matches(facts())
    assert not both.matches(facts(cls=CustomerClass.NON_RESIDENTIAL, mode=BillingMode.PREPAID))


def _waiver(issued_in: tuple[str, ...] | None, period_in: tuple[str, ...] | None) -> WaiverPolicy:
    window = Window(date(2020, 1, 1), date(2020, 3, 1))
    return WaiverPolicy("w", "w", Scope(), window, issued_in=issued_in, period_in=period_in)


def test_waiver_matches_bill() -> None:
    by_issue = _waiver(("2020-01", "2020-02"), None)
    assert by_issue.matches_bill(issued_on=date(2020, 1, 31), period="2019-12")
    assert by_issue.matches_bill(issued_on=date(2020, 2, 1), period="2020-02")
    assert not by_issue.matches_bill(issued_on=date(2019, 12, 31), period="2020-01")
    by_period = _waiver(None, ("2020-01",))
    assert by_period.matches_bill(issued_on=date(2020, 2, 5), period="2020-01")
    assert not by_period.matches_bill(issued_on=date(2020, 1, 5), period="2019-12")
    every_bill = _waiver(None, None)
    assert every_bill.matches_bill(issued_on=date(2018, 6, 1), period="2018-05")


def test_defer_moved_day() -> None:
    window = Window(date(2020, 1, 24), date(2020, 3, 31))
    by_days = DeferPolicy("d", "d", Scope(), window, days=30)
    assert by_days.moved_day(date(2020, 2, 1)) == date(2020, 3, 2)  # 2020 is a leap year
    assert by_days.moved_day(date(2020, 3, 30)) == date(2020, 4, 29)
    until = DeferPolicy("u", "u", Scope(), window, until=date(2020, 4, 1))
    assert until.moved_day(date(2020, 2, 1)) == date(2020, 4, 1)
    assert until.moved_day(date(2020, 4, 1)) == date(2020, 4, 1)
    assert until.moved_day(date(2020, 4, 5)) == date(2020, 4, 5)  # an until not later moves nothing
