"""Rulesets: the late-fee rates and cut-off ladders of each utility, loaded from cited YAML.

Shipped rulesets live in `rules/data/NAME.yaml`; a utility adds its own by passing the path of
a YAML file that follows `rules.schema.Ruleset` wherever a ruleset name is accepted.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from sanbuting.domain import Utility
from sanbuting.errors import RulesetError
from sanbuting.rules.schema import Ruleset

DEFAULT_RULESETS: dict[Utility, str] = {
    Utility.POWER: "cn-power-1996",
    Utility.TELECOM: "cn-telecom-2016",
    Utility.GAS: "cn-gas-default",
}
"""The ruleset each utility's accounts follow unless told otherwise."""


def builtin_names() -> list[str]:
    """Names of the shipped rulesets."""
    data = resources.files("sanbuting.rules") / "data"
    return sorted(p.name.removesuffix(".yaml") for p in data.iterdir() if p.name.endswith(".yaml"))


def parse_ruleset(text: str, source: str) -> Ruleset:
    """Validate ruleset YAML text; errors name `source` and the failing field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesetError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return Ruleset.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise RulesetError(f"{source}: not a valid ruleset: {problems}") from exc


@cache
def load_ruleset(name_or_path: str) -> Ruleset:
    """A shipped ruleset by name (`cn-power-1996`) or a ruleset file by path."""
    if name_or_path.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RulesetError(f"cannot read ruleset file {path}: {exc.strerror}") from exc
        return parse_ruleset(text, str(path))
    if name_or_path not in builtin_names():
        raise RulesetError(
            f"unknown ruleset {name_or_path!r}: use one of {', '.join(builtin_names())} "
            "or the path of a ruleset .yaml file"
        )
    resource = resources.files("sanbuting.rules") / "data" / f"{name_or_path}.yaml"
    ruleset = parse_ruleset(resource.read_text(encoding="utf-8"), f"{name_or_path}.yaml")
    if ruleset.name != name_or_path:
        raise RulesetError(f"{name_or_path}.yaml names itself {ruleset.name!r}")
    return ruleset


def rulesets_by_utility(overrides: dict[Utility, str] | None = None) -> dict[Utility, Ruleset]:
    """The ruleset of each utility: the defaults, replaced where `overrides` names another."""
    chosen = {**DEFAULT_RULESETS, **(overrides or {})}
    result = {utility: load_ruleset(name) for utility, name in chosen.items()}
    for utility, ruleset in result.items():
        if ruleset.utility != utility:
            raise RulesetError(f"ruleset {ruleset.name!r} is for {ruleset.utility}, not {utility}")
    return result
