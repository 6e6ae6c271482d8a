"""`web.admission.Admission` lets at most `limit` requests into the application at once, and
at most `writes` of them not GET or HEAD (while reads go on): the rest wait (in the event loop)
and go in as others finish; a request's place is given back once
its answer is sent, even if the application goes on working after (a background task); a
request that fails gives its place back too."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from helpers_async import run_apart
from sanbuting.web.admission import Admission


class Slow:
    """An application that answers after `pause` seconds, counting who is inside at once."""

    def __init__(self, pause: float, after: float = 0.0) -> None:
        self.pause, self.after = pause, after
        self.inside = self.most = 0
        self.finishing = self.most_finishing = 0
        self.writing = self.most_writing = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/fail":
            raise RuntimeError("failed")
        writing = scope["method"] == "POST"
        self.inside += 1
        self.writing += writing
        self.most = max(self.most, self.inside)
        self.most_writing = max(self.most_writing, self.writing)
        await asyncio.sleep(self.pause)
        self.inside -= 1
        self.writing -= writing
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        self.finishing += 1  # work after the answer (a background task)
        self.most_finishing = max(self.most_finishing, self.finishing)
        await asyncio.sleep(self.after)
        self.finishing -= 1


async def ask(app: Admission, paths: list[str]) -> list[int | str]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def one(path: str) -> int | str:
            try:
                return (await client.get(path)).status_code
            except RuntimeError as exc:
                return str(exc)

        return list(await asyncio.gather(*(one(p) for p in paths)))


def test_at_most_limit_inside_and_all_answered() -> None:
    slow = Slow(0.05)
    answers = run_apart(ask(Admission(slow, 3), ["/"] * 12))
    assert answers == [200] * 12
    assert slow.most == 3


def test_without_a_limit_all_are_inside_at_once() -> None:
    slow = Slow(0.05)
    run_apart(ask(Admission(slow, 100), ["/"] * 12))
    assert slow.most == 12


def test_the_place_is_given_back_when_the_answer_is_sent() -> None:
    slow = Slow(0.0, after=0.1)
    assert run_apart(ask(Admission(slow, 1), ["/"] * 3)) == [200] * 3
    assert slow.most == 1
    assert slow.most_finishing == 3  # each went in while the others were still finishing


def test_failures_give_their_place_back() -> None:
    slow = Slow(0.01)
    answers = run_apart(ask(Admission(slow, 1), ["/fail", "/fail", "/", "/"]))
    assert answers == ["failed", "failed", 200, 200]


def test_one_writer_at_a_time_while_reads_go_on() -> None:
    slow = Slow(0.05)
    admission = Admission(slow, 10, writes=1)

    async def mixed() -> tuple[list[int], list[int]]:
        transport = httpx.ASGITransport(app=admission)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            posts = [client.post("/") for _ in range(4)]
            gets = [client.get("/") for _ in range(4)]
            answers = await asyncio.gather(*posts, *gets)
        codes = [a.status_code for a in answers]
        return codes[:4], codes[4:]

    assert run_apart(mixed()) == ([200] * 4, [200] * 4)
    assert slow.most_writing == 1
    assert slow.most == 5  # the four reads and one write inside together


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Admission(Slow(0), 0)
    with pytest.raises(ValueError, match="at least 1"):
        Admission(Slow(0), 4, writes=0)
