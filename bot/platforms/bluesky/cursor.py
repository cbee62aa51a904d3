"""Jetstream's read position (``time_us``), kept durable so that a restart replays what
was not yet stored: it moves only past events the core has committed (or that carried
nothing for it), never past one handed over and not yet acknowledged."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

SAVE_EVERY = 1.0  # seconds between saves while only unrelated events pass


class Cursor:
    def __init__(
        self, saved: int | None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.saved = saved
        self.read = saved or 0  # the newest event taken from the stream
        self._pending: dict[str, int] = {}  # handed over, not yet acknowledged: key -> time_us
        # The same, oldest first; entries acknowledged since are skipped when they reach
        # the top, so no event costs a scan of all that wait (linear in the events read).
        self._oldest: list[tuple[int, str]] = []
        # Acknowledged while an earlier one was not: past the durable position, so a
        # restart replays them; kept with it so that they are not handed over twice.
        self.stored_ahead: dict[str, int] = {}
        self._ahead: list[tuple[int, str]] = []  # stored_ahead, oldest first
        self._monotonic = monotonic
        self._last_save = monotonic()

    def took(self, time_us: int, key: str | None = None) -> None:
        """An event was read; ``key`` names what was handed over from it, if anything."""
        self.read = max(self.read, time_us)
        if key is not None and key not in self._pending:
            self._pending[key] = time_us
            heapq.heappush(self._oldest, (time_us, key))

    def acknowledged(self, key: str) -> bool:
        """True when this acknowledgement was waited for."""
        at = self._pending.pop(key, None)
        if at is None:
            return False
        self.stored_ahead[key] = at
        heapq.heappush(self._ahead, (at, key))
        durable, ahead = self.durable(), self._ahead
        while ahead and ahead[0][0] <= durable:  # now behind the durable position
            _, passed = heapq.heappop(ahead)
            self.stored_ahead.pop(passed, None)
        return True

    def durable(self) -> int:
        """Everything up to here is stored: just before the oldest unacknowledged event."""
        oldest, pending = self._oldest, self._pending
        while oldest and pending.get(oldest[0][1]) != oldest[0][0]:
            heapq.heappop(oldest)  # acknowledged since
        if oldest:
            return oldest[0][0] - 1
        return self.read

    def to_save(self, *, urgent: bool) -> int | None:
        """The value to store now, if it moved (and, unless ``urgent``, not too often)."""
        value = self.durable()
        if self.saved is not None and value <= self.saved:
            return None
        if not urgent and self._monotonic() - self._last_save < SAVE_EVERY:
            return None
        self.saved = value
        self._last_save = self._monotonic()
        return value
