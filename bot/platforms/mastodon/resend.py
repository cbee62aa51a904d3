"""Posting a chat's step at most once without trusting ``Idempotency-Key``: some servers
ignore it, so a post whose send was cut off (here, or in a process that was killed) is
first looked for among the bot's own recent statuses, and sent again only if not found."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.platforms.base import DeliveryUncertain, PlatformError
from bot.platforms.mastodon.api import Api
from bot.platforms.mastodon.pace import Sleep
from bot.platforms.mastodon.statuses import aware
from bot.platforms.mastodon.text import html_to_text

log = logging.getLogger(__name__)

POST_ATTEMPTS = 3  # a post whose answer was lost: looked for, then sent again
# A post cut off is among the bot's very latest statuses: after it, the process that sent
# it sent nothing more (it died or waited). Looking further back would let the previous
# chat's welcome, with the same words, pass for this one's.
LOOK_BACK = 5
RECENT = timedelta(hours=2)  # and never last week's reminder for this week's


def _comparable(text: str) -> str:
    """As the server shows it: whitespace collapsed, a remote mention without its server."""
    text = re.sub(r"(?<![/\w])(@\w+)@[\w.:-]+\w", r"\1", text)
    return " ".join(text.split())


def _ident(value: Any) -> str | None:
    return None if value is None else str(value)


class OwnPosts:
    """The bot's statuses made before this process started, and the keys whose sends were
    cut off since: the places a step may already be posted."""

    def __init__(self, api: Api, now: Callable[[], datetime], backoff: Sleep) -> None:
        self.api = api
        self._now = now
        self._backoff = backoff
        self.account_id = ""
        self._before: list[Mapping[str, Any]] = []  # made before this start, not yet matched
        self._cut: set[str] = set()  # keys whose send may have reached the server
        self._taken: set[str] = set()  # statuses already given for a step: not again

    async def load(self, account_id: str) -> list[Mapping[str, Any]]:
        """The bot's recent statuses, once at start: a killed process may have posted
        a step without recording it."""
        self.account_id = account_id
        try:
            self._before = await self._latest()
        except PlatformError as exc:
            log.warning("mastodon: could not read the bot's own recent posts: %s", exc)
        return list(self._before)

    async def _latest(self) -> list[Mapping[str, Any]]:
        found = await self.api.read(
            self.api.mastodon.account_statuses, self.account_id, limit=LOOK_BACK
        )
        since = self._now() - RECENT
        return [s for s in found if s.get("reblog") is None and aware(s["created_at"]) >= since]

    async def post(self, key: str | None, **params: Any) -> Mapping[str, Any]:
        """``Api.post``, except that a keyed post already made is found, not made again."""
        if key is not None:
            found = await self._find(key, params, fresh=key in self._cut)
            if found is not None:
                return found
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                status: Mapping[str, Any] = await self.api.post(key, **params)
            except DeliveryUncertain as exc:
                if key is None:
                    raise
                self._cut.add(key)
                log.warning("mastodon: no answer to a post (%s); looking for it", exc)
                await self._backoff(2.0**attempt)
                try:
                    found = await self._find(key, params, fresh=True)
                except PlatformError:
                    raise exc from None
                if found is not None:
                    return found
                if attempt == POST_ATTEMPTS:
                    raise
                continue
            if key is not None:
                self._cut.discard(key)
            self._taken.add(str(status["id"]))
            return status
        raise AssertionError("unreachable")

    async def _find(
        self, key: str, params: Mapping[str, Any], *, fresh: bool
    ) -> Mapping[str, Any] | None:
        candidates = list(self._before)
        if fresh:
            candidates += await self._latest()
        text = _comparable(str(params.get("status") or ""))
        parent = _ident(params.get("in_reply_to_id"))
        for status in candidates:
            if str(status["id"]) in self._taken:
                continue
            same = (
                _comparable(html_to_text(str(status.get("content") or ""))) == text
                and _ident(status.get("in_reply_to_id")) == parent
                and status.get("visibility") == params.get("visibility")
            )
            if same:
                self._before = [s for s in self._before if s is not status]
                self._cut.discard(key)
                self._taken.add(str(status["id"]))
                log.info("mastodon: %s was already posted as %s", key, status["id"])
                return status
        return None
