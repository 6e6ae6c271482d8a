"""The relief-policy language, malformed files: each is refused whole, every problem one
`file:line: message` line, reported together in line order."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from helpers_policy import GOOD
from sanbuting.errors import PolicyError
from sanbuting.policy import load_policies, parse_policies


def problems_of(text: str, source: str = "p.yaml") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policies(dedent(text), source)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def only_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


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
