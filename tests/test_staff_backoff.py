"""Staff sign-in backs off in the database, on SQLite and PostgreSQL: after the free failures
each further one doubles the wait; the wait is shared by every worker process and survives a
restart (a new application over the same store sees it); the real user, signing in from an
address they used before, still signs in while someone else hammers their username from
elsewhere. The attack this answers: 20 tries a minute per user and per address, kept in one
process's memory with no back-off (about 28,800 guesses a day), and the real user got 429."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from sanbuting.domain import read_utc
from sanbuting.guard import throttle
from sanbuting.store.database import make_engine, sessions
from sanbuting.store.web_models import SignInThrottle, StaffAddress
from test_console_access import PASSWORD, make_client, sign_in, url  # noqa: F401  (fixture)

FREE = 3


def stop(client: object) -> None:
    client.app.state.engine.dispose()  # type: ignore[attr-defined]


def lengthen_waits(store: str) -> None:
    """Make every wait the failures earned an hour long, so that it cannot pass while a slow
    machine runs the test (the doubling itself is checked with explicit times below)."""
    engine = make_engine(store)
    with sessions(engine).begin() as session:
        for row in session.scalars(select(SignInThrottle)):
            if row.blocked_until > row.last_failure_at:
                row.blocked_until = row.last_failure_at + timedelta(hours=1)
    engine.dispose()


def test_each_failure_past_the_free_ones_doubles_the_wait(url: str) -> None:  # noqa: F811
    policy = throttle.Policy(free_failures=FREE, max_wait_seconds=60)
    keys = ["user-ip:x:10.0.0.1"]
    start = datetime(2026, 12, 1, tzinfo=UTC)
    engine = make_engine(url)
    waits = []
    with sessions(engine).begin() as session:
        for n in range(FREE + 8):
            moment = start + timedelta(minutes=n)
            throttle.failed(session=session, keys=keys, now=moment, policy=policy)
            row = session.get(SignInThrottle, keys[0], populate_existing=True)
            assert row is not None
            waits.append(int((read_utc(row.blocked_until) - moment).total_seconds()))
        late = start + timedelta(days=2)  # a key that has not failed for a day starts afresh
        throttle.failed(session=session, keys=keys, now=late, policy=policy)
        fresh = session.get(SignInThrottle, keys[0], populate_existing=True)
        assert fresh is not None and fresh.failures == 1
    engine.dispose()
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_failures_back_off_and_the_wait_is_in_the_database(url: str) -> None:  # noqa: F811
    with make_client(url, "10.0.0.66", sign_in_free_failures=FREE) as attacker:
        codes = [sign_in(attacker, "power-agent", f"guess-{n}") for n in range(FREE + 1)]
        assert codes == [401] * (FREE + 1)  # the fourth failure starts a wait
        lengthen_waits(url)
        assert sign_in(attacker, "power-agent", "guess-x") == 429
        assert sign_in(attacker, "power-agent", PASSWORD) == 429  # even the right password
        stop(attacker)
    # another worker, or the server after a restart: a new application over the same store
    with make_client(url, "10.0.0.66", sign_in_free_failures=FREE) as restarted:
        assert sign_in(restarted, "power-agent", "guess-y") == 429
        stop(restarted)
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        keys = dict(session.execute(select(SignInThrottle.key, SignInThrottle.failures)).all())
    engine.dispose()
    assert keys == {  # refusals while waiting are not counted: nothing was tried
        "user-ip:power-agent:10.0.0.66": FREE + 1,
        "ip:10.0.0.66": FREE + 1,
        "user:power-agent": FREE + 1,  # 10.0.0.66 was never the user's own address
    }


def test_the_real_user_signs_in_from_their_own_address(url: str) -> None:  # noqa: F811
    with make_client(url, "192.168.1.20", sign_in_free_failures=FREE) as office:
        assert sign_in(office, "power-agent") == 303  # the user's own address, known now
        stop(office)
    with make_client(url, "10.0.0.66", sign_in_free_failures=FREE) as attacker:
        for n in range(FREE + 1):
            assert sign_in(attacker, "power-agent", f"guess-{n}") == 401
        lengthen_waits(url)
        assert sign_in(attacker, "power-agent", "guess") == 429
        stop(attacker)
    with make_client(url, "10.0.0.77", sign_in_free_failures=FREE) as stranger:
        # a new address for this username waits too: the username's own key is spent
        assert sign_in(stranger, "power-agent", PASSWORD) == 429
        assert sign_in(stranger, "power-super", PASSWORD) == 303  # another user is free
        stop(stranger)
    with make_client(url, "192.168.1.20", sign_in_free_failures=FREE) as office:
        assert sign_in(office, "power-agent") == 303  # the real user still signs in
        stop(office)
    engine = make_engine(url)
    with sessions(engine).begin() as session:
        known = set(session.scalars(select(StaffAddress.ip)))
    engine.dispose()
    assert known == {"192.168.1.20", "10.0.0.77"}


def test_the_api_backs_off_as_the_console_does(url: str, tmp_path: Path) -> None:  # noqa: F811
    with make_client(url, "10.0.0.88", sign_in_free_failures=FREE) as client:
        answers = [
            client.post(
                "/api/v1/auth/staff", json={"username": "power-agent", "password": f"g-{n}"}
            ).status_code
            for n in range(FREE + 1)
        ]
        lengthen_waits(url)
        waited = client.post(
            "/api/v1/auth/staff", json={"username": "power-agent", "password": PASSWORD}
        )
        stop(client)
    assert answers == [401] * (FREE + 1)
    assert waited.status_code == 429 and int(waited.headers["retry-after"]) > 3000
