"""The layers stay apart: no module outside `web/` and `cli/` imports from `sanbuting.web`
(domain services raise the errors of `errors.py`; hashing and rate limits live in
`sanbuting.guard`; settings in `sanbuting.settings`); `store/` is persistence only, so none of
its modules imports a service or job above it (orchestration lives in `jobs/`); and the
domain's error kinds are the ones the web layer maps to HTTP answers."""

from __future__ import annotations

import ast
from pathlib import Path

from sanbuting import errors
from sanbuting.web import problems

SOURCE = Path(__file__).resolve().parents[1] / "src" / "sanbuting"
ABOVE = ("web", "cli")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_service_imports_the_web_layer() -> None:
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            m for m in imported_modules(path) if m.startswith("sanbuting.web")
        )
        for path in SOURCE.rglob("*.py")
        if path.relative_to(SOURCE).parts[0] not in ABOVE
    }
    assert {name: found for name, found in offenders.items() if found} == {}


BELOW_STORE = (
    "sanbuting.store",
    "sanbuting.domain",
    "sanbuting.errors",
    "sanbuting.engine",
    "sanbuting.io",
    "sanbuting.policy",
    "sanbuting.rules",
    "sanbuting.ledger.open_items",
    "sanbuting.settings",
    "sanbuting.privacy",
)
"""What `store/` may import: itself and the layers below it (the engine's records and frames,
the readers, the policy and rules models, an open book's types)."""


def test_the_store_imports_nothing_above_it() -> None:
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            m
            for m in imported_modules(path)
            if m.startswith("sanbuting")
            and m != "sanbuting"
            and not any(m == low or m.startswith(f"{low}.") for low in BELOW_STORE)
        )
        for path in (SOURCE / "store").rglob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_error_kinds_live_in_errors_and_each_has_an_http_answer() -> None:
    for kind in (errors.NotFound, errors.Forbidden, errors.Unauthorized, errors.Conflict):
        assert kind.__module__ == "sanbuting.errors"
        assert any(kind is mapped for mapped, _, _ in problems.STATUS)
    too_many = problems.answer(errors.TooMany("wait", retry_after=30))
    assert (too_many.status_code, too_many.headers["retry-after"]) == (429, "30")
