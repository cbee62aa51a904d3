"""The alarm clock that wakes the runner: APScheduler in production, a manual one in tests.

The store holds the timeline; an alarm only remembers the next wake-up per job, so
nothing is lost when it is rebuilt at start-up.

Every wake-up is a coroutine function. APScheduler 3's asyncio scheduler runs a plain
callable in a worker thread and drops whatever it returns, so a ``lambda`` returning a
coroutine would fire on time and do nothing: the alarm therefore never hands the
scheduler the callback itself, only its own ``async def`` runner that awaits it (the
rule of python-telegram-bot's ``JobQueue``).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import ManualClock, SystemClock, WallClock

log = logging.getLogger(__name__)

Wake = Callable[[], Awaitable[None]]


class Alarm(Protocol):
    def wake_at(self, job_id: str, when: datetime, callback: Wake) -> None:
        """Run ``callback`` at ``when``; a later call with the same id replaces this one."""
        ...

    def cancel(self, job_id: str) -> None: ...


class SchedulerAlarm:
    """APScheduler 3's AsyncIOScheduler with one named, replaceable date job per wake-up.

    ``clock`` is the time the callers speak in: the wall clock in production, a faster
    one in the demo; each due time is turned into the wall-clock instant it falls on.
    """

    def __init__(self, clock: WallClock | None = None) -> None:
        self.clock: WallClock = clock or SystemClock()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running = False

    def start(self) -> None:
        self.scheduler.start()
        self._running = True

    def shutdown(self) -> None:
        # The asyncio scheduler stops on the next loop turn, so `running` lags behind.
        if self._running:
            self._running = False
            self.scheduler.shutdown(wait=False)

    def wake_at(self, job_id: str, when: datetime, callback: Wake) -> None:
        self.scheduler.add_job(
            self._fire,
            "date",
            args=(job_id, callback),
            run_date=self.clock.to_wall(when),
            id=job_id,
            name=job_id,  # the scheduler's log lines then say which wake-up ran
            replace_existing=True,
            # A wake-up is never stale: the runner itself decides what is late or missed.
            misfire_grace_time=None,
            coalesce=True,
        )

    @staticmethod
    async def _fire(job_id: str, callback: Wake) -> None:
        """Await the wake-up itself; a failure is logged with the job it came from."""
        try:
            await callback()
        except Exception:
            log.exception("the wake-up %s failed", job_id)

    def cancel(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id):
            self.scheduler.remove_job(job_id)

    def next_wake(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        return getattr(job, "next_run_time", None)  # unset until the scheduler starts


class ManualAlarm:
    """Fires jobs only when :meth:`run_until` moves the clock past them."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._jobs: dict[str, tuple[datetime, Wake]] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._counter = 0

    def wake_at(self, job_id: str, when: datetime, callback: Wake) -> None:
        self._counter += 1
        self._jobs[job_id] = (when, callback)
        heapq.heappush(self._heap, (when, self._counter, job_id))

    def cancel(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def next_time(self) -> datetime | None:
        while self._heap:
            when, _, job_id = self._heap[0]
            current = self._jobs.get(job_id)
            if current is not None and current[0] == when:
                return when
            heapq.heappop(self._heap)  # superseded or cancelled
        return None

    async def run_until(self, until: datetime) -> None:
        """Advance the clock to ``until``, firing every job due on the way, in time order."""
        while (when := self.next_time()) is not None and when <= until:
            _, _, job_id = heapq.heappop(self._heap)
            _, callback = self._jobs.pop(job_id)
            if when > self.clock.now():
                self.clock.set(when)
            await callback()
            await asyncio.sleep(0)
        if until > self.clock.now():
            self.clock.set(until)
