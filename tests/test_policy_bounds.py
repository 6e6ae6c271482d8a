"""Hostile policy files, bounded (issue 11, item 6): a file too large, nested too deep or
expanding through aliases too far is refused with one clean problem, never a traceback; a
refused set lists its first 100 problems and counts the rest; real files still load."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest
import yaml
from typer.testing import CliRunner

from helpers_policy import EXAMPLE, GOOD
from sanbuting.cli.app import app
from sanbuting.errors import PolicyError, SanbutingError
from sanbuting.policy import limits, load_policies, parse_policies
from sanbuting.policy import yamlnodes as yn

DEEP_FLOW = "policies: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_COMPACT = "policies:\n  " + "- " * 5000 + "x\n"
DEEP_BLOCK = "policies:\n" + "".join(" " * level + "a:\n" for level in range(1, 1000))
"""1,000 mappings inside one another, one a line (500 KB): the 21st, one past the limit, on
line 21. PyYAML's composer dies of a RecursionError at a few hundred."""
TOO_DEEP = "nest more than 20 deep here"


def problems_of(text: str, source: str = "p.yaml", **options: int) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policies(text, source, **options)
    return caught.value.problems


@pytest.fixture(params=["libyaml", "pyyaml"])
def either_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test using it runs with libyaml's parser and with PyYAML's own (the fallback)."""
    if request.param == "pyyaml":
        monkeypatch.setattr(yn, "LOADER", yaml.SafeLoader)
    yield request.param


def bad_policies(count: int, start: int = 0) -> str:
    """`count` policies with one problem each (an unknown effect), one a line."""
    lines = [
        f"  - {{id: p{n}, effect: nope, scope: {{}}, "
        "window: {start: 2020-01-24, end: 2020-03-01}}"
        for n in range(start, start + count)
    ]
    return "policies:\n" + "\n".join(lines) + "\n"


# -- nesting -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("either_parser")
@pytest.mark.parametrize(("text", "line"), [(DEEP_FLOW, 1), (DEEP_COMPACT, 2), (DEEP_BLOCK, 21)])
def test_deep_nesting_is_one_problem_naming_its_line(text: str, line: int) -> None:
    [problem] = problems_of(text)
    assert problem.startswith(f"p.yaml:{line}: lists and mappings {TOO_DEEP}")
    assert "remove the extra nesting" in problem


def test_nesting_up_to_the_limit_is_only_checked_as_usual() -> None:
    def region_lists(depth: int) -> str:  # the file, policies, a policy and its scope: 4 deep
        lists = depth - 4
        return "policies:\n  - id: a\n    scope: {region: " + "[" * lists + "]" * lists + "}\n"

    assert not any(TOO_DEEP in problem for problem in problems_of(region_lists(20)))
    [problem] = problems_of(region_lists(21))
    assert TOO_DEEP in problem


def test_check_policies_on_a_deep_file_prints_one_problem_and_exits_1(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(DEEP_BLOCK, encoding="utf-8")
    result = CliRunner().invoke(app, ["check-policies", str(deep)])
    assert result.exit_code == 1
    assert not isinstance(result.exception, RecursionError)
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{deep}:21: lists and mappings {TOO_DEEP}")
    assert result.stdout == ""


# -- aliases -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("either_parser")
def test_billion_laughs_is_refused_at_once() -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    bomb = "\n".join(levels) + "\npolicies: [{id: x, scope: {region: *a9}}]\n"
    began = time.perf_counter()
    [problem] = problems_of(bomb)
    assert time.perf_counter() - began < 2
    assert problem.startswith("p.yaml:6: the file holds more than 200,000 values")


def test_too_many_aliases_are_refused() -> None:
    text = "policies:\n  - &p {id: p}\n" + "  - *p\n" * (limits.MAX_ALIASES + 1)
    [problem] = problems_of(text)
    assert problem.startswith(f"p.yaml:{limits.MAX_ALIASES + 3}: more than 10,000 aliases")


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    [problem] = problems_of("policies: &loop [*loop]\n")
    assert problem == (
        "p.yaml:1: alias *loop is inside the value anchored as &loop: a value cannot contain itself"
    )


def test_the_2020_example_with_its_shared_region_list_still_loads() -> None:
    loaded = {p.id: p for p in load_policies([EXAMPLE], max_bytes=9 * 1024)}
    assert len(loaded) == 11
    anchored = loaded["gd-power-exempt-residential-2020"].scope.region
    assert anchored is not None and len(anchored) == 20
    assert loaded["gd-power-exempt-epidemic-key-2020"].scope.region == anchored


# -- size --------------------------------------------------------------------------------------


def padded(size: int) -> str:
    """The good policy, padded with a comment to exactly `size` bytes."""
    return GOOD + "#" * (size - len(GOOD) - 1) + "\n"


def test_a_text_over_max_bytes_is_refused_unparsed() -> None:
    assert problems_of(padded(3000) + "policies: [[[", max_bytes=2048) == [
        "p.yaml:1: the file is 3 KB; a policy file may be at most 2 KB: split its policies over "
        "smaller files, or raise the limit with SANBUTING_POLICY_MAX_BYTES"
    ]
    assert len(parse_policies(padded(2048), "p.yaml", max_bytes=2048)) == 1


def test_the_cap_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANBUTING_POLICY_MAX_BYTES", "2048")
    assert limits.max_policy_bytes() == 2048
    at_cap, over = tmp_path / "at-cap.yaml", tmp_path / "over.yaml"
    at_cap.write_text(padded(2048), encoding="utf-8")
    over.write_text(padded(2049), encoding="utf-8")
    assert len(load_policies([at_cap])) == 1
    with pytest.raises(PolicyError) as caught:
        load_policies([at_cap, over])
    assert caught.value.problems == [
        f"{over}:1: the file is 3 KB; a policy file may be at most 2 KB: split its policies "
        "over smaller files, or raise the limit with SANBUTING_POLICY_MAX_BYTES"
    ]


def test_the_default_cap_is_1_mb_and_a_huge_file_is_not_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANBUTING_POLICY_MAX_BYTES", raising=False)
    assert limits.max_policy_bytes() == 1024 * 1024
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as file:
        file.truncate(8 * 1024 * 1024)  # sparse: 8 MB of NUL bytes that take no disk
    with pytest.raises(PolicyError) as caught:
        load_policies([huge])
    [problem] = caught.value.problems
    assert problem.startswith(f"{huge}:1: the file is 8,192 KB; a policy file may be at most 1,024")


def test_a_cap_that_is_no_size_is_an_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANBUTING_POLICY_MAX_BYTES", "1MB")
    with pytest.raises(SanbutingError, match="SANBUTING_POLICY_MAX_BYTES='1MB' is not a size"):
        parse_policies(GOOD, "p.yaml")
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(app, ["check-policies", str(good)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: SANBUTING_POLICY_MAX_BYTES='1MB' is not a size")


# -- how many problems are listed --------------------------------------------------------------


def test_the_first_100_problems_then_a_count_of_the_rest() -> None:
    problems = problems_of(bad_policies(150))
    assert len(problems) == 101
    assert problems[0].startswith("p.yaml:2: unknown effect 'nope' in policy 'p0'")
    assert problems[99].startswith("p.yaml:101: unknown effect 'nope' in policy 'p99'")
    assert problems[100] == "p.yaml: … and 50 more problems; fix the ones above first"


def test_the_100_are_counted_over_the_whole_set(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(bad_policies(80), encoding="utf-8")
    second.write_text(bad_policies(50, start=80), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policies([first, second, tmp_path / "missing.yaml"])
    problems = caught.value.problems
    assert len(problems) == 101
    assert problems[79].startswith(f"{first}:81: ")
    assert problems[80].startswith(f"{second}:2: ")
    assert problems[100] == (
        f"{second}: … and 30 more problems (and 1 in {tmp_path / 'missing.yaml'}); "
        "fix the ones above first"
    )


def test_problems_reached_through_aliases_stop_being_collected() -> None:
    bad = "  - &bad {id: A, effect: nope, scope: {utility: [a, b, c, d, e]}, window: {}}\n"
    text = "policies:\n" + bad + "  - *bad\n" * 3000  # 3,001 policies, 9 problems each
    began = time.perf_counter()
    problems = problems_of(text)
    assert time.perf_counter() - began < 5
    assert len(problems) == 101
    assert problems[-1] == (
        "p.yaml: … and at least 9,900 more problems; fix the ones above first "
        "(checking a file stops after 10,000 problems)"
    )


def test_a_problem_quoting_a_huge_or_unprintable_value_stays_short_and_on_one_line() -> None:
    [problem] = problems_of(GOOD.replace("id: gd-power", f"id: Gd{'x' * 100_000}"))
    assert len(problem) < limits.LONGEST_PROBLEM + 100
    assert "characters left out" in problem
    assert problem.endswith("xxxx')")
    [escaped] = problems_of(GOOD.replace("id: gd-power", 'id: "gd\\e[31m\\npower"'))
    assert escaped.startswith("p.yaml:2: policy id 'gd\\x1b[31m\\npower' may only use")
    assert "\n" not in escaped and "\x1b" not in escaped


def test_an_empty_set_is_still_valid(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text(
        dedent("""\
        policies: []
    """),
        encoding="utf-8",
    )
    assert load_policies([empty], max_bytes=1024) == []
    result = CliRunner().invoke(app, ["check-policies", str(empty)])
    assert result.exit_code == 0, result.output
    assert "0 policies in 1 file: valid." in result.stdout
