"""A YAML document's shape checked on the parser's events, before PyYAML composes its nodes.

PyYAML's composer recurses once per nested list or mapping, so a file nested thousands deep
ends it in a RecursionError; and an alias shares its anchor's node, so a few lines of nested
aliases ("billion laughs") make a tree of billions of values for the checks to walk. The
event parser is iterative: `beyond_limits` reads its events once, keeping the nesting depth,
the aliases met and the number of values the document expands to (each anchor's expanded
size is remembered, so an alias costs one step), and stops at the first limit passed.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from sanbuting.policy.limits import MAX_ALIASES, MAX_DEPTH, MAX_VALUES

Loader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 1


def beyond_limits(text: str, loader: Loader) -> tuple[int, str] | None:
    """The line and message of the first limit `text` passes, or None when within them all.

    A YAML syntax error raises PyYAML's error, as composing would.
    """
    try:
        return _first_excess(yaml.parse(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" not in str(exc.problem):
            raise
        # libyaml's own limit (1,000 levels), met when it reads a line of brackets ahead
        mark = exc.problem_mark or exc.context_mark
        return (mark.line + 1 if mark is not None else 1), _too_deep()


def _too_deep() -> str:
    return (
        f"lists and mappings nest more than {MAX_DEPTH} deep here (a policy file needs 5: the "
        "file, 'policies', a policy, its scope, a list): remove the extra nesting"
    )


def _first_excess(events: Iterator[yaml.Event]) -> tuple[int, str] | None:
    open_collections: list[tuple[str | None, int]] = []  # (anchor, values counted before it)
    anchor_sizes: dict[str, int] = {}
    values = 0
    aliases = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                return _line(event), (
                    f"more than {MAX_ALIASES:,} aliases (*name): a policy file needs a few, to "
                    "share a list; write the values out or split the file"
                )
            name = str(event.anchor)
            if any(anchor == name for anchor, _ in open_collections):
                return _line(event), (
                    f"alias *{name} is inside the value anchored as &{name}: "
                    "a value cannot contain itself"
                )
            values += anchor_sizes.get(name, 0)  # an undefined alias: the composer says so
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            if event.anchor is not None:
                anchor_sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(open_collections) >= MAX_DEPTH:
                return _line(event), _too_deep()
            open_collections.append((event.anchor, values))
            values += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_collections.pop()
            if anchor is not None:
                anchor_sizes[anchor] = values - before
        if values > MAX_VALUES:
            return _line(event), (
                f"the file holds more than {MAX_VALUES:,} values, counting each alias (*name) "
                "as the values it stands for: a policy set needs far fewer; "
                "split the file or share less through aliases"
            )
    return None
