"""Mastodon's request budget (300 per 5 minutes per account), shared so that polling can
never starve the chat's own posts."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]

LIMIT = 300
WINDOW = 300.0
# Background reads (polling, refreshing, boosting) stop at this share of the budget, so
# the posts of a chat always find requests left.
BACKGROUND_SHARE = 0.8
# Polling may use this share of the budget when it runs continuously.
POLLING_SHARE = 0.5
MIN_POLL_INTERVAL = 5.0


class Budget:
    """A sliding window of the requests made; ``acquire`` waits until one more fits."""

    def __init__(
        self,
        *,
        limit: int = LIMIT,
        window: float = WINDOW,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._sleep = sleep
        self._made: deque[float] = deque()

    def used(self) -> int:
        now = self._monotonic()
        while self._made and self._made[0] <= now - self.window:
            self._made.popleft()
        return len(self._made)

    async def acquire(self, *, background: bool = False) -> None:
        cap = int(self.limit * BACKGROUND_SHARE) if background else self.limit
        while self.used() >= cap:
            # The oldest requests leave the window first; wait for enough of them.
            oldest = self._made[self.used() - cap]
            await self._sleep(max(0.01, oldest + self.window - self._monotonic()))
        self._made.append(self._monotonic())


def poll_interval(requests_per_cycle: int, *, limit: int = LIMIT, window: float = WINDOW) -> float:
    """Seconds between polls so that continuous polling stays within its share."""
    per_second = limit / window * POLLING_SHARE
    return max(MIN_POLL_INTERVAL, requests_per_cycle / per_second)
