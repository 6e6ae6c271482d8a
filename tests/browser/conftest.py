"""Fixtures of the browser tests (Playwright's sync API driving Debian's Chromium; no
pytest-playwright plugin, never a downloaded browser):

- `browser` (per session): Chromium at /usr/bin/chromium; without it the tests skip, unless
  SANBUTING_REQUIRE_BROWSER=1 (then they fail);
- `server` (per session, so per xdist worker): the demo store served live (`browser_world`);
- `visit` (per test): fresh phone or desktop pages; the test fails at teardown if any page
  logged a console error (CSP violations included) or threw.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from browser_world import (
    CHROMIUM,
    SCREENSHOTS,
    Live,
    Visits,
    build_store,
    pick_accounts,
    staff_by_utility,
    start_server,
)
from playwright.sync_api import Browser, sync_playwright


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (never a downloaded browser)"
        if os.environ.get("SANBUTING_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The demo store served live (asks for `browser` first: no store is built to be skipped)."""
    url, store = build_store(tmp_path_factory.mktemp("browser-store"))
    in_arrears, quick, power = pick_accounts(url)
    base, running = start_server(url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield Live(base, in_arrears, quick, power, staff_by_utility(url, store))
    finally:
        running.stop()


@pytest.fixture
def visit(browser: Browser, server: Live) -> Iterator[Visits]:
    """Fresh contexts for one test; fails at teardown if a page logged a console error."""
    visits = Visits(browser, server.url)
    try:
        yield visits
    finally:
        visits.close()
    assert not visits.errors, "pages logged errors:\n" + "\n".join(visits.errors)
