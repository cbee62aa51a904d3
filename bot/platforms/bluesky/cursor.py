"""Jetstream's read position (``time_us``), kept durable so that a restart replays what
was not yet stored: it moves only past events the core has committed (or that carried
nothing for it), never past one handed over and not yet acknowledged."""

from __future__ import annotations

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
        # Acknowledged while an earlier one was not: past the durable position, so a
        # restart replays them; kept with it so that they are not handed over twice.
        self.stored_ahead: dict[str, int] = {}
        self._monotonic = monotonic
        self._last_save = monotonic()

    def took(self, time_us: int, key: str | None = None) -> None:
        """An event was read; ``key`` names what was handed over from it, if anything."""
        self.read = max(self.read, time_us)
        if key is not None:
            self._pending.setdefault(key, time_us)

    def acknowledged(self, key: str) -> bool:
        """True when this acknowledgement was waited for."""
        at = self._pending.pop(key, None)
        if at is None:
            return False
        self.stored_ahead[key] = at
        durable = self.durable()
        self.stored_ahead = {k: t for k, t in self.stored_ahead.items() if t > durable}
        return True

    def durable(self) -> int:
        """Everything up to here is stored: just before the oldest unacknowledged event."""
        if self._pending:
            return min(self._pending.values()) - 1
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
