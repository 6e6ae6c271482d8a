"""Back-off after failed sign-ins, kept in the database: shared by every worker process, kept
across restarts.

Failures are counted under keys: the username at the address, the address (across usernames),
and the username from addresses its owner never signed in from. Each key may fail
`free_failures` times; every further failure doubles the wait before it may try again (1 s,
2 s, 4 s … up to `max_wait_seconds`); a key that has not failed for a day starts afresh. A
try is refused while any of its keys waits, before the password is even checked. So a
guesser working one username from one address gets about forty tries a day, one spreading
over many addresses meets the username's own key, and the real user, signing in from an
address they used before, is never locked out by someone else's failures: their own address
key and their own username-at-address key are theirs.

Keyword-only; the caller owns the transaction (commit the failure even when refusing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sanbuting.domain import as_utc, read_utc
from sanbuting.errors import TooMany
from sanbuting.store.web_models import SignInThrottle, StaffAddress

FORGET_AFTER = timedelta(days=1)
"""A key that has not failed for this long starts afresh."""
ADDRESS_FACTOR = 4
"""An address (an office behind one NAT) may fail this many times more than one username."""


@dataclass(frozen=True, slots=True)
class Policy:
    free_failures: int
    max_wait_seconds: int


def keys_for(session: Session, *, username: str, ip: str, staff_id: int | None) -> list[str]:
    """The keys a sign-in of `username` from `ip` is counted under."""
    keys = [f"user-ip:{username}:{ip}", f"ip:{ip}"]
    known = staff_id is not None and session.scalar(
        select(StaffAddress.id).where(StaffAddress.staff_id == staff_id, StaffAddress.ip == ip)
    )
    if not known:
        keys.append(f"user:{username}")
    return [key[:200] for key in keys]


def check(*, session: Session, keys: list[str], now: datetime) -> None:
    """`TooMany` (with the seconds to wait) while any of `keys` must wait."""
    moment = as_utc(now)
    rows = session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys)))
    waits = [
        read_utc(row.blocked_until) - moment
        for row in rows
        if read_utc(row.last_failure_at) + FORGET_AFTER > moment
    ]
    longest = max((w for w in waits if w.total_seconds() > 0), default=None)
    if longest is not None:
        seconds = max(1, int(longest.total_seconds() + 0.999))
        raise TooMany(
            f"too many failed sign-ins: wait {seconds} seconds and try again "
            "(or ask an administrator to check the account)",
            retry_after=seconds,
        )


def failed(*, session: Session, keys: list[str], now: datetime, policy: Policy) -> None:
    """Count one failure under each of `keys` and set how long each must wait."""
    moment = as_utc(now)
    for key in keys:
        row = session.get(SignInThrottle, key, with_for_update=True, populate_existing=True)
        free = policy.free_failures * (ADDRESS_FACTOR if key.startswith("ip:") else 1)
        if row is None or read_utc(row.last_failure_at) + FORGET_AFTER <= moment:
            failures = 1
        else:
            failures = row.failures + 1
        over = failures - free
        wait = 0 if over <= 0 else min(2 ** min(over - 1, 30), policy.max_wait_seconds)
        values = {
            "key": key,
            "failures": failures,
            "last_failure_at": moment,
            "blocked_until": moment + timedelta(seconds=wait),
        }
        _upsert(session, values)


def succeeded(*, session: Session, username: str, ip: str, staff_id: int, now: datetime) -> None:
    """A good sign-in: its username-at-address key starts afresh, and the address becomes one
    its owner is known to sign in from."""
    session.execute(
        delete(SignInThrottle).where(SignInThrottle.key == f"user-ip:{username}:{ip}"[:200])
    )
    known = session.scalar(
        select(StaffAddress).where(StaffAddress.staff_id == staff_id, StaffAddress.ip == ip)
    )
    if known is None:
        session.add(StaffAddress(staff_id=staff_id, ip=ip[:64], last_at=as_utc(now)))
    else:
        known.last_at = as_utc(now)
    session.flush()


def _upsert(session: Session, values: dict[str, object]) -> None:
    """Insert or replace one key's row (a key two workers first fail at once is made once)."""
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(SignInThrottle).values(**values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["key"],
                set_={k: statement.excluded[k] for k in values if k != "key"},
            )
        )
        return
    lite = sqlite.insert(SignInThrottle).values(**values)
    session.execute(
        lite.on_conflict_do_update(
            index_elements=["key"], set_={k: lite.excluded[k] for k in values if k != "key"}
        )
    )
