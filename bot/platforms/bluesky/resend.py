"""Posting a chat's step at most once: a post whose answer was lost (a timeout, a cut
connection, or a process killed mid-send) is first looked for among the bot's own
latest posts (its author feed), by text and the post it replies to, and sent again only
if it is not there. Bluesky has no idempotency key of its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.platforms.base import DeliveryUncertain, PlatformError
from bot.platforms.bluesky.posts import Item

log = logging.getLogger(__name__)

POST_ATTEMPTS = 3
LOOK_BACK = 10  # the bot's latest posts: a cut-off step is among them
RECENT = timedelta(hours=2)  # never last week's reminder for this week's

Feed = Callable[[int], Awaitable[list[Item]]]
Sleep = Callable[[float], Awaitable[None]]


class OwnPosts:
    def __init__(
        self, feed: Feed, now: Callable[[], datetime], backoff: Sleep = asyncio.sleep
    ) -> None:
        self._feed = feed
        self._now = now
        self._backoff = backoff
        self._before: list[Item] = []  # made before this start, not yet matched
        self._cut: set[str] = set()  # keys whose send may have reached the service
        self._taken: set[str] = set()  # posts already given for a step

    async def load(self) -> list[Item]:
        try:
            self._before = await self._latest()
        except PlatformError as exc:
            log.warning("bluesky: could not read the bot's own recent posts: %s", exc)
        return list(self._before)

    async def _latest(self) -> list[Item]:
        since = self._now() - RECENT
        return [i for i in await self._feed(LOOK_BACK) if i.at >= since]

    async def post(
        self, key: str | None, text: str, parent: str | None, send: Callable[[], Awaitable[Item]]
    ) -> Item:
        """``send()``, except that a keyed post already made is found, not made again."""
        if key is not None and (found := await self._find(text, parent, fresh=key in self._cut)):
            return found
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                item = await send()
            except DeliveryUncertain as exc:
                if key is None:
                    raise
                self._cut.add(key)
                log.warning("bluesky: no answer to a post (%s); looking for it", exc)
                await self._backoff(2.0**attempt)
                try:
                    found = await self._find(text, parent, fresh=True)
                except PlatformError:
                    raise exc from None
                if found is not None:
                    self._cut.discard(key)
                    return found
                if attempt == POST_ATTEMPTS:
                    raise
                continue
            if key is not None:
                self._cut.discard(key)
            self._taken.add(item.uri)
            return item
        raise AssertionError("unreachable")

    async def _find(self, text: str, parent: str | None, *, fresh: bool) -> Item | None:
        candidates = list(self._before) + (await self._latest() if fresh else [])
        for item in candidates:
            if item.uri in self._taken:
                continue
            if " ".join(str(item.record.get("text")).split()) == " ".join(text.split()) and (
                item.parent == parent
            ):
                self._before = [i for i in self._before if i.uri != item.uri]
                self._taken.add(item.uri)
                log.info("bluesky: this step was already posted as %s", item.uri)
                return item
        return None
