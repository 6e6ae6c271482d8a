"""Reading a YAML document as PyYAML nodes, keeping the line of every key and value.

The policy loader never lets PyYAML construct Python objects: it composes the node tree with
the safe loader and reads each scalar's text itself, so that every problem can name the
1-based line it was found on and a value means exactly what the policy language says (a
boolean is `true`/`false`, an integer is written as digits, a date is `YYYY-MM-DD`).
Problems are collected, not raised, so that one pass reports all of them (up to
`limits.PROBLEMS_COLLECTED`, where `Problems.add` stops the checking with `TooManyProblems`).

Nodes are composed by libyaml when PyYAML has it (ten times faster than PyYAML's own parser,
which stays the fallback), and only after `shape.beyond_limits` has bounded the document's
nesting and alias expansion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sanbuting.domain import parse_date
from sanbuting.errors import SanbutingError
from sanbuting.policy import shape
from sanbuting.policy.limits import LONGEST_PROBLEM, PROBLEMS_COLLECTED, FileProblems

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge")
)
"""The tags a policy file may carry: those PyYAML's resolver gives plain values."""

_DECIMAL = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
LOADER: shape.Loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""libyaml's safe loader when PyYAML was built with it, else PyYAML's own."""
_UNPRINTABLE = {
    code: repr(chr(code))[1:-1]
    for code in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0xD800, 0xE000))
    if code != ord("\t")
}
"""Control characters, line breaks and lone surrogates, each with its escape (`\\x1b`)."""


def line_of(node: Node) -> int:
    """The 1-based line a node starts on."""
    mark = node.start_mark
    return mark.line + 1 if mark is not None else 1


class TooManyProblems(Exception):
    """Raised by `Problems.add` past its limit, to stop checking a pathological file."""


@dataclass
class Problems:
    """The problems found in one source, each with its line; reported in line order."""

    source: str
    found: list[tuple[int, str]] = field(default_factory=list)
    limit: int = PROBLEMS_COLLECTED
    complete: bool = True
    """False once a problem past `limit` was met (and `TooManyProblems` raised)."""

    def add(self, where: Node | int, message: str) -> None:
        if len(self.found) >= self.limit:
            self.complete = False
            raise TooManyProblems(self.source)
        line = where if isinstance(where, int) else line_of(where)
        self.found.append((line, _printable(message)))

    def __len__(self) -> int:
        return len(self.found)

    def location(self, where: Node | int) -> str:
        """`source:line` of a node (or a line number)."""
        line = where if isinstance(where, int) else line_of(where)
        return f"{self.source}:{line}"

    def lines(self) -> list[str]:
        """Every problem as `source:line: message`, by line (stable within a line)."""
        ordered = sorted(self.found, key=lambda found: found[0])
        return [f"{self.source}:{line}: {message}" for line, message in ordered]

    def report(self) -> FileProblems:
        return FileProblems(self.source, self.lines(), self.complete)


def _printable(message: str) -> str:
    """`message` on one line and at most about `LONGEST_PROBLEM` characters (a huge value it
    quotes keeps its start and its end)."""
    if len(message) > LONGEST_PROBLEM:
        head, tail = LONGEST_PROBLEM // 2, LONGEST_PROBLEM // 4
        left_out = len(message) - head - tail
        message = f"{message[:head]} … [{left_out:,} characters left out] … {message[-tail:]}"
    return escaped(message)


def escaped(value: str) -> str:
    """`value` with control characters and line breaks written as escapes (`\\n`, `\\x1b`):
    a problem quoting a value stays one line, and a value cannot drive a terminal."""
    return value.translate(_UNPRINTABLE)


def compose(text: str, problems: Problems) -> Node | None:
    """The node tree of a single YAML document; a syntax error, or a document past the limits
    of nesting and alias expansion (`shape`), becomes one problem and None."""
    try:
        excess = shape.beyond_limits(text, LOADER)
        if excess is not None:
            problems.add(*excess)
            return None
        return yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        said = ", ".join(part for part in (exc.context, exc.problem) if part) or "unreadable"
        problems.add(line, f"not valid YAML: {said}")
    except yaml.YAMLError as exc:
        problems.add(1, f"not valid YAML: {exc}")
    return None


def check_tags(root: Node, problems: Problems) -> None:
    """A problem for each explicit tag such as `!!python/object` (policies are plain data)."""
    stack: list[Node] = [root]
    visited: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in visited:  # an alias shares its anchor's node: visit it once
            continue
        visited.add(id(node))
        if node.tag not in PLAIN_TAGS:
            problems.add(node, f"YAML tag '{node.tag}' is not allowed: policies are plain values")
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(part for pair in node.value for part in pair)


@dataclass(frozen=True, slots=True)
class Entry:
    """One key of a mapping with its value node."""

    key: str
    key_node: ScalarNode
    value: Node


def entries(node: MappingNode, where: str, problems: Problems) -> dict[str, Entry]:
    """The keys of a mapping in document order; a repeated key is a problem, the first kept."""
    found: dict[str, Entry] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            problems.add(key_node, f"a key in {where} must be a plain name, not a list or mapping")
            continue
        key = str(key_node.value)
        if key_node.tag == MERGE_TAG:
            problems.add(
                key_node, f"YAML merge keys ('<<') are not supported in {where}: write the keys out"
            )
            continue
        if key in found:
            first = line_of(found[key].key_node)
            problems.add(key_node, f"duplicate key '{key}' in {where} (first at line {first})")
            continue
        found[key] = Entry(key, key_node, value_node)
    return found


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    return "an empty value" if is_null(node) else f"'{node.value}'"


def mapping(node: Node, what: str, example: str, problems: Problems) -> MappingNode | None:
    """`node` as a mapping, or a problem saying `what` must look like `example`."""
    if isinstance(node, MappingNode):
        return node
    problems.add(node, f"{what} must be a mapping such as {example}, not {_kind(node)}")
    return None


def text(node: Node, what: str, problems: Problems) -> str | None:
    """The text of a non-empty single value (any scalar: `44` and `"44"` both read as 44)."""
    if isinstance(node, ScalarNode) and node.tag != NULL_TAG:
        return str(node.value)
    problems.add(node, f"{what} must be a single value, not {_kind(node)}")
    return None


def boolean(node: Node, what: str, problems: Problems) -> bool | None:
    """A YAML `true` or `false` (not yes/no/on/off, not a quoted string)."""
    if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
        lowered = str(node.value).lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    problems.add(node, f"{what} must be true or false, not {_kind(node)}")
    return None


def integer(
    node: Node, what: str, problems: Problems, *, minimum: int, maximum: int, example: int
) -> int | None:
    """A whole number written as digits (not quoted, not 1.5), within [minimum, maximum]."""
    value: int | None = None
    if isinstance(node, ScalarNode) and node.tag == INT_TAG:
        digits = str(node.value).replace("_", "")
        if _DECIMAL.match(digits):
            value = int(digits)
    if value is None:
        quoted = " (remove the quotes)" if _is_quoted_number(node) else ""
        problems.add(
            node, f"{what} must be a whole number such as {example}{quoted}, not {_kind(node)}"
        )
        return None
    if not minimum <= value <= maximum:
        bound = f"at least {minimum}" if value < minimum else f"at most {maximum}"
        problems.add(node, f"{what} must be {bound}, not {value}")
        return None
    return value


def _is_quoted_number(node: Node) -> bool:
    return (
        isinstance(node, ScalarNode)
        and node.tag == STR_TAG
        and bool(_DECIMAL.match(str(node.value)))
    )


def date_value(node: Node, what: str, problems: Problems) -> date | None:
    """A `YYYY-MM-DD` date, quoted or not."""
    raw = text(node, what, problems)
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except SanbutingError as exc:
        problems.add(node, f"{what}: {exc}")
        return None


def scalar_items(node: Node, what: str, problems: Problems) -> list[ScalarNode] | None:
    """The items of a list of single values; one single value counts as a list of one.

    An empty list is refused (it would match nothing); items that are lists, mappings or empty
    are problems and left out.
    """
    if isinstance(node, ScalarNode) and node.tag != NULL_TAG:
        return [node]
    if not isinstance(node, SequenceNode):
        problems.add(node, f"{what} must be a value or a list of values, not {_kind(node)}")
        return None
    if not node.value:
        problems.add(
            node,
            f"{what} is an empty list, which matches nothing: "
            "give at least one item, or leave the key out",
        )
        return None
    items: list[ScalarNode] = []
    for item in node.value:
        if isinstance(item, ScalarNode) and item.tag != NULL_TAG:
            items.append(item)
        else:
            problems.add(item, f"an item of {what} must be a single value, not {_kind(item)}")
    return items


def only_keys(
    found: dict[str, Entry], allowed: tuple[str, ...], where: str, problems: Problems
) -> None:
    """A problem for each key of `found` that is not in `allowed`."""
    expected = " or ".join(allowed) if len(allowed) <= 2 else "one of: " + ", ".join(allowed)
    for key, entry in found.items():
        if key not in allowed:
            problems.add(entry.key_node, f"unknown key '{key}' in {where} (expected {expected})")
