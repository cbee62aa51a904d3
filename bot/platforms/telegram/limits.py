"""Telegram's flood limits, kept on our side so the bot is rarely told to wait."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


class _Window:
    """At most ``count`` events in any ``seconds``."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.count:
            return 0.0
        return self.times[0] + self.seconds - now


class RateLimiter:
    """About 30 messages a second overall and 20 a minute in any one group, as Telegram
    asks of bots; ``monotonic`` and ``sleep`` are injected so tests never wait."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float],
        sleep: Sleep,
        per_chat: int = 20,
        per_chat_seconds: float = 60.0,
        overall: int = 30,
        overall_seconds: float = 1.0,
    ) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self._per_chat = (per_chat, per_chat_seconds)
        self._chats: dict[int, _Window] = {}
        self._all = _Window(overall, overall_seconds)

    async def acquire(self, chat_id: int) -> None:
        """Return when one more message may go to ``chat_id``, and count it."""
        chat = self._chats.setdefault(chat_id, _Window(*self._per_chat))
        while True:
            now = self.monotonic()
            delay = max(chat.wait_needed(now), self._all.wait_needed(now))
            if delay <= 0:
                chat.times.append(now)
                self._all.times.append(now)
                return
            await self.sleep(delay)
