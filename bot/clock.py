"""Time as a dependency, so tests and the demo can drive it instead of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, always timezone-aware UTC."""
        ...


class WallClock(Clock, Protocol):
    """A clock that moves by itself, so a real alarm can tell when its times come."""

    def to_wall(self, when: datetime) -> datetime:
        """The wall-clock instant at which this clock will read ``when``."""
        ...


class SystemClock:
    """The wall clock used in production."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def to_wall(self, when: datetime) -> datetime:
        return when


class ScaledClock:
    """The wall clock run ``speed`` times faster from ``start``: the demo's time.

    Both the runner and the real alarm read it, so an accelerated chat goes through the
    same scheduler, jobs and waits as ``hashchat run`` does, only sooner.
    """

    def __init__(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs an aware datetime")
        if speed <= 0:
            raise ValueError("ScaledClock needs a positive speed")
        self.speed = speed
        self._start = start.astimezone(UTC)
        self._wall_start = datetime.now(UTC)

    def now(self) -> datetime:
        return self._start + (datetime.now(UTC) - self._wall_start) * self.speed

    def to_wall(self, when: datetime) -> datetime:
        return self._wall_start + (when - self._start) / self.speed

    def wall_delay(self, when: datetime) -> float:
        """Seconds of real time until this clock reads ``when`` (0 if it already has)."""
        return max(0.0, (self.to_wall(when) - datetime.now(UTC)).total_seconds())


class ManualClock:
    """A clock that only moves when told to; used by unit tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError(f"time cannot go backwards: {when} < {self._now}")
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
