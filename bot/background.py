"""Work that follows an event without holding up whoever reported it, yet is waited for.

A chat's close starts its community's planning: that may not hold the chat's lock (the
planner takes the chats' locks while it holds its own), and it must be finished before
the bot stops (and before a test looks).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    def __init__(self, what: str) -> None:
        self._what = what  # for the log, should a task fail: "after closing a chat"
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: %s", self._what, exc, exc_info=exc)

    async def idle(self) -> None:
        """Wait until every task started so far, and any they started, has ended."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
