"""Re-reading the latest answers for the edits and deletions no stream brought: many at a
time where the server allows it (``GET /api/v1/statuses?id[]=``, Mastodon 4.3 and later),
else one at a time, a few per cycle, so that the request budget holds. A server that
refuses the batch endpoint is noticed once, not warned about at every cycle."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.platforms.base import PlatformError
from bot.platforms.mastodon.api import endpoint, status_code

if TYPE_CHECKING:
    from bot.platforms.mastodon.platform import MastodonPlatform

log = logging.getLogger(__name__)

PAGE = 40
REFRESHED = 80  # the most recent answers re-read for edits and deletions,
REFRESHED_FOR = timedelta(hours=2)  # as long as a chat may still be running
ONE_AT_A_TIME = 4  # statuses re-read per cycle where the batch endpoint is refused
# What a server without the batch endpoint answers (405 from some, 404 before 4.3).
_NO_BATCH = frozenset({400, 404, 405, 410, 422, 501})


class Refresher:
    def __init__(
        self,
        platform: MastodonPlatform,
        *,
        edited: Callable[[Mapping[str, Any]], None],
        deleted: Callable[[str], None],
    ) -> None:
        self.p = platform
        self._edited = edited
        self._deleted = deleted
        self.batch = True
        self._turn = 0  # where the next one-at-a-time round starts

    def requests_per_cycle(self) -> int:
        return REFRESHED // PAGE if self.batch else ONE_AT_A_TIME

    def _latest(self) -> list[str]:
        since = self.p.clock.now() - REFRESHED_FOR
        latest = reversed(self.p.statuses.seen.items())
        return [i for i, s in latest if s.answer and s.seen_at > since][:REFRESHED]

    async def refresh(self) -> None:
        ids = self._latest()
        if self.batch:
            for start in range(0, len(ids), PAGE):
                batch = ids[start : start + PAGE]
                try:
                    found = await self.p.api.read(self.p.api.mastodon.statuses, batch)
                except PlatformError as exc:
                    code = status_code(exc.__cause__)
                    if code not in _NO_BATCH:
                        raise
                    log.info(
                        "mastodon: the server refuses %s (%s); re-reading answers one at a"
                        " time, %d per cycle",
                        endpoint(exc.__cause__) or "GET /api/v1/statuses",
                        code,
                        ONE_AT_A_TIME,
                    )
                    self.batch = False
                    break
                self._compare(batch, {str(s["id"]): s for s in found})
            else:
                return
        await self._one_at_a_time(ids)

    async def _one_at_a_time(self, ids: list[str]) -> None:
        if not ids:
            return
        start = self._turn % len(ids)
        chosen = (ids[start:] + ids[:start])[:ONE_AT_A_TIME]
        self._turn = start + len(chosen)
        for sid in chosen:
            try:
                status = await self.p.api.read(self.p.api.mastodon.status, sid)
            except PlatformError as exc:
                if status_code(exc.__cause__) in (404, 410):
                    self._deleted(sid)
                    continue
                log.debug("mastodon: could not re-read status %s: %s", sid, exc)
                return
            self._compare([sid], {sid: status})

    def _compare(self, ids: list[str], present: Mapping[str, Mapping[str, Any]]) -> None:
        for sid in ids:
            if sid not in present:
                self._deleted(sid)
            elif present[sid].get("edited_at") is not None:
                seen = self.p.statuses.seen.get(sid)
                if seen is not None and str(present[sid]["edited_at"]) != seen.edited_at:
                    self._edited(present[sid])
