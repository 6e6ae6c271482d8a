"""The gateway's rate limit: a token bucket of `rate` submits a second that halves its rate
when the SMSC says ESME_RTHROTTLED (at most once per `cooldown`, so a window of throttled
answers to the same burst counts once) and recovers slowly, by `recovery` of the configured
rate per second, never above it and never below `floor`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """`await take()` before each submit (see the module)."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        recovery: float = 0.1,
        floor: float = 1.0,
        cooldown: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"a rate must be positive, not {rate}")
        self.max_rate = rate
        self.burst = max(1.0, burst if burst is not None else min(rate, 10.0))
        self.recovery = recovery
        self.floor = min(floor, rate)
        self.cooldown = cooldown
        self._clock = clock
        self._rate = rate
        self._tokens = self.burst
        self._last = clock()
        self._last_throttle = float("-inf")
        self.lowest = rate
        """The lowest rate reached so far."""
        self.throttles = 0
        """How many times the rate was halved."""

    @property
    def rate(self) -> float:
        self._refill()
        return self._rate

    async def take(self) -> None:
        """Wait for a token and take it."""
        while True:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self._tokens) / self._rate)

    def throttled(self) -> None:
        """The SMSC asked to slow down: halve the rate (once per cooldown), drop the tokens."""
        self._refill()
        now = self._clock()
        self._tokens = min(self._tokens, 0.0)
        if now - self._last_throttle < self.cooldown:
            return
        self._last_throttle = now
        self._rate = max(self.floor, self._rate / 2)
        self.lowest = min(self.lowest, self._rate)
        self.throttles += 1

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        recovering = now - max(self._last, self._last_throttle + self.cooldown)
        if self._rate < self.max_rate and recovering > 0:
            self._rate = min(self.max_rate, self._rate + self.max_rate * self.recovery * recovering)
        self._last = now
        self._tokens = min(self.burst, self._tokens + self._rate * elapsed)
