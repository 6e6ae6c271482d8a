"""Rate limits kept in this process: a moving window per key (requests a minute from one
address, say). Limits that must hold across worker processes and restarts (codes sent, staff
sign-in back-off) are counted in the database instead (`customers.service`, `guard.throttle`)."""

from __future__ import annotations

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from sanbuting.errors import TooMany


class Limits:
    """Moving-window limits of one process."""

    def __init__(self, sign_ins_per_minute: int, codes_per_hour: int) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.sign_in = RateLimitItemPerMinute(sign_ins_per_minute)
        self.codes = RateLimitItemPerHour(codes_per_hour)

    def hit(self, item: RateLimitItem, *keys: str, what: str) -> None:
        """Count one try under `keys`; `TooMany` past the limit."""
        if not self.limiter.hit(item, *keys):
            raise TooMany(f"too many {what}: wait a while and try again")
