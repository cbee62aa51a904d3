"""A chat's record is complete: its transcript waits for the platforms' backlog, and is
rebuilt when a message of its last moments arrives after it closed.

Answers sent while the bot was down reach it only once it reads the platform again; a
chat that closed first would leave them out of its transcript for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from bot.platforms.base import CatchesUp, Platform

log = logging.getLogger(__name__)

# The longest a chat's close waits for a platform's backlog: a stalled read must not
# keep the transcript from being posted; whatever comes later is added as a late message.
CATCH_UP_BOUND = timedelta(seconds=30)


async def caught_up(platforms: Iterable[Platform], bound: timedelta | None = None) -> None:
    """Wait, at most ``bound`` in all, until every platform has handed over its backlog."""
    bound = CATCH_UP_BOUND if bound is None else bound
    waits = [p.caught_up() for p in platforms if isinstance(p, CatchesUp)]
    if not waits:
        return
    try:
        async with asyncio.timeout(bound.total_seconds()):
            await asyncio.gather(*waits)
    except TimeoutError:
        log.warning("the platforms' backlog is not read after %s; closing anyway", bound)


class Rebuilds:
    """Rewrites closed chats' transcripts after late messages, one at a time.

    A burst of late messages costs one or two rebuilds, not one per message.
    """

    def __init__(self, publish: Callable[[int], Awaitable[str]]) -> None:
        self._publish = publish
        self._dirty: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    def request(self, session_id: int) -> None:
        """Rebuild soon; the publisher commits every message received so far first."""
        self._dirty.add(session_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="rebuild-transcripts")

    async def _run(self) -> None:
        while self._dirty:
            session_id = self._dirty.pop()
            try:
                await self._publish(session_id)
                log.info("session %d: transcript rebuilt with late messages", session_id)
            except Exception:
                log.exception("could not rebuild the transcript of session %d", session_id)

    async def idle(self) -> None:
        """Return once every requested rebuild is done."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
