"""Running a coroutine from a test: in an event loop of its own thread, because the browser
tests (Playwright's synchronous API), in the same process, leave an event loop running in the
main one, where `asyncio.run` is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_apart(work: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()
