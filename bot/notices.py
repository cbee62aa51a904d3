"""Telling moderators about problems, wherever they listen, without ever losing a word.

A notice is a step like a question: it is stored before it is sent, claimed while the
request is out and marked sent after it, so a refused post is retried and a notice
queued before a stop goes out after the restart. A notice whose send was cut off is sent
again: for the moderators a notice twice is better than none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from bot.alarm import Alarm
from bot.clock import Clock
from bot.domain import ChannelRef
from bot.platforms.base import Platform, PlatformError
from bot.store import Store
from bot.store.notices import Notice, NoticeStore

log = logging.getLogger(__name__)

RETRY_FIRST = timedelta(seconds=30)  # then doubled per attempt, up to RETRY_MAX
RETRY_MAX = timedelta(hours=1)
KEEP_SENT = timedelta(days=7)


def moderator_targets(
    moderator_channels: Sequence[str], channels: Sequence[str], exclude: str | None = None
) -> list[str]:
    """The moderators' own channels, or else the chat's. A notice about one channel goes
    to the others when there are any, but never nowhere."""
    own = list(moderator_channels) or list(channels)
    return [c for c in own if c != exclude] or own


class Notices:
    """The moderators' queue; ``hold`` it while the platforms start, so that a problem
    found by the first platform waits for the one the moderators read."""

    def __init__(
        self,
        *,
        store: Store,
        platforms: Mapping[str, Platform],
        alarm: Alarm,
        clock: Clock,
    ) -> None:
        self.platforms = platforms
        self.alarm = alarm
        self.clock = clock
        self._store = NoticeStore(store.db)
        self._held = False
        self.may_post: Callable[[], bool] = lambda: True  # the runner's: within the lease
        self._lock = asyncio.Lock()

    def hold(self) -> None:
        self._held = True

    async def release(self) -> None:
        """Start delivering, first what an earlier run left pending."""
        self._held = False
        if waiting := await self._store.all_due(self.clock.now()):
            log.warning("%d notice(s) to the moderators pending: sending now", waiting)
        await self.deliver()

    async def tell(self, channels: Iterable[str], text: str, *, once: str | None = None) -> None:
        """Queue ``text`` for each channel and send it now if possible. With ``once``,
        a notice already queued under that key (say, today's alert about one problem) is
        not queued again."""
        added = await self._store.add(channels, text, self.clock.now(), once=once)
        if added and not self._held:
            await self.deliver()

    async def deliver(self) -> None:
        """Send every notice that is due; the others wake the alarm when they are."""
        async with self._lock:
            later: list[datetime] = []
            for notice in await self._store.pending():
                if self._held:
                    return
                if notice.next_at > self.clock.now():
                    later.append(notice.next_at)
                elif (retry := await self._send(notice)) is not None:
                    later.append(retry)
            if later:
                self.alarm.wake_at("notices", min(later), self.deliver)

    async def pending(self) -> list[Notice]:
        return await self._store.pending()

    async def prune(self) -> None:
        """Forget notices sent long enough ago that no ``once`` key can need them."""
        await self._store.forget_sent(self.clock.now() - KEEP_SENT)

    async def _send(self, notice: Notice) -> datetime | None:
        """Send one notice; returns when to try again if the platform refused it."""
        ref = ChannelRef.parse(notice.channel)
        platform = self.platforms.get(ref.platform)
        await self._store.claim(notice.id)
        try:
            if platform is None:
                raise PlatformError(f"platform {ref.platform!r} is not configured")
            if not self.may_post():
                return None  # the lease ran out: the new leader sends it
            await platform.send(ref, notice.text, idempotency_key=f"notice:{notice.id}")
        except PlatformError as exc:
            retry = self.clock.now() + min(RETRY_FIRST * (1 << min(notice.attempts, 8)), RETRY_MAX)
            await self._store.retry_at(notice.id, retry)
            log.error(
                "a notice to the moderators in %s is pending (%s); next try at %s: %s",
                notice.channel,
                exc,
                f"{retry:%H:%M:%S}",
                notice.text,
            )
            return retry
        await self._store.sent(notice.id, self.clock.now())
        return None
