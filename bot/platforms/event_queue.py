"""The events an adapter has read, in order, with a mark after its start-up backlog.

Adapters that read in background tasks (Mastodon's streams and polls, Bluesky's
Jetstream) queue what they read here; the core takes it through ``events()``. The mark
queued once the backlog is read is reached only after the core has taken every event
before it, which is what ``CatchesUp.caught_up()`` must wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bot.domain import PlatformEvent


class _BacklogRead:
    """Queued after the events of the backlog."""


_BACKLOG_READ = _BacklogRead()


class EventQueue:
    def __init__(self) -> None:
        self._items: asyncio.Queue[PlatformEvent | _BacklogRead | None] = asyncio.Queue()
        self._caught_up = asyncio.Event()

    def put(self, event: PlatformEvent) -> None:
        self._items.put_nowait(event)

    def backlog_read(self) -> None:
        """Everything of the start-up backlog is queued: mark its end."""
        self._items.put_nowait(_BACKLOG_READ)

    def close(self) -> None:
        """Nothing more will be read: ``events()`` ends, and no one waits for a mark."""
        self._items.put_nowait(None)
        self._caught_up.set()

    async def events(self) -> AsyncIterator[PlatformEvent]:
        while (event := await self._items.get()) is not None:
            if isinstance(event, _BacklogRead):
                self._caught_up.set()  # asked for more: every event before it is handled
                continue
            yield event

    async def caught_up(self) -> None:
        await self._caught_up.wait()
