"""One ``hashchat run`` process among any number sharing a database.

It serves the web pages at once, then leads only while it holds the lease
(bot/leadership.py): the leader's part of :class:`~bot.app.App` starts when the lease
is won. A leader whose lease runs out unrenewed exits at once with status 3, without
running one more line of the leader's code (no send, no read of a platform, no orderly
close that could post): systemd, or whoever started it, starts it again, as a standby.
What it had read but not stored, the new leader reads again from the platforms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from typing import Any

from bot.app import App
from bot.config import database_password
from bot.leadership import Leadership
from bot.store.backend import open_database
from bot.store.leadership import LeaseStore

log = logging.getLogger(__name__)

LOST_LEASE_STATUS = 3


class Instance:
    def __init__(self, app: App) -> None:
        self.app = app
        self._task: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        self._failed: asyncio.Future[None] = loop.create_future()
        self._settled: asyncio.Future[None] = loop.create_future()  # leads, or stands by
        self.leadership: Leadership | None = None

    async def start(self) -> None:
        """Lead or stand by, as the lease decides, then serve the pages. Returns once
        it leads (everything started, as a lone instance always did) or stands by; the
        lease is kept, or waited for, in the background."""
        await self.app.open()
        self.leadership = Leadership(LeaseStore(self.app.store.db))
        self.app.may_post = self.leadership.may_post
        self._task = asyncio.create_task(
            self.leadership.run(self._lead, self._lost, self._standing_by), name="leadership"
        )
        await asyncio.shield(self._settled)
        await self.app.serve()  # /ready answers once the role is known

    def _standing_by(self) -> None:
        if not self._settled.done():
            self._settled.set_result(None)

    async def _lead(self, token: int) -> None:
        self.app.store.fence = token
        try:
            await self.app.lead()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # told to start() or wait(), which report it and exit
            for future in (self._settled, self._failed):
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: only one of them is awaited
            return
        self._standing_by()  # settled: leading

    def _lost(self) -> None:
        self.app.metrics.leader(False)
        logging.shutdown()  # the lines said so far reach the log
        sys.stdout.flush()
        os._exit(LOST_LEASE_STATUS)

    async def wait(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set; raises what made the leader's start fail."""
        stopping = asyncio.ensure_future(stop.wait())
        waits: set[asyncio.Future[Any]] = {stopping, self._failed}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if self._failed.done():
            self._failed.result()

    async def stop(self) -> None:
        """Stop leading (or standing by), close everything, then free the lease so a
        standby takes over at its next try instead of waiting for it to run out."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.app.stop()
        if self.leadership is not None and self.leadership.token is not None:
            try:
                leases = await _reopen(self.app)
                try:
                    await leases.release(self.leadership.holder)
                finally:
                    await leases.db.close()
            except Exception as exc:  # it runs out by itself within seconds anyway
                log.warning("could not free the lease: %s", exc)


async def _reopen(app: App) -> LeaseStore:
    """The store is closed by then; one short connection frees the lease."""
    db = await open_database(app.config.database, password=database_password(app.config.bot))
    return LeaseStore(db)
