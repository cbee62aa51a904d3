"""Notices to the moderators, kept like posts: a row per channel, claimed before the
send, marked sent after it, so none is lost to a refused post or a restart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import parse_ts, ts
from bot.store.connection import transaction


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    channel: str
    text: str
    attempts: int
    next_at: datetime


class NoticeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, channels: Iterable[str], text: str, now: datetime, *, once: str | None = None
    ) -> int:
        """Queue ``text`` for each channel; with ``once``, a channel that already has that
        notice is left alone. Returns how many were queued."""
        added = 0
        async with transaction(self._db):
            for channel in dict.fromkeys(channels):
                cur = await self._db.execute(
                    "INSERT OR IGNORE INTO notices (channel, text, once, next_at, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (channel, text, once, ts(now), ts(now)),
                )
                added += cur.rowcount
        return added

    async def pending(self) -> list[Notice]:
        """Every notice not yet sent, oldest first; one found ``sending`` was cut off by a
        stop and is sent again."""
        async with self._db.execute(
            "SELECT id, channel, text, attempts, next_at FROM notices"
            " WHERE state != 'sent' ORDER BY id"
        ) as cur:
            rows = await cur.fetchall()
        return [Notice(int(i), str(c), str(t), int(a), parse_ts(n)) for i, c, t, a, n in rows]

    async def claim(self, notice_id: int) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "UPDATE notices SET state = 'sending', attempts = attempts + 1 WHERE id = ?",
                (notice_id,),
            )

    async def sent(self, notice_id: int, now: datetime) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "UPDATE notices SET state = 'sent', sent_at = ? WHERE id = ?",
                (ts(now), notice_id),
            )

    async def retry_at(self, notice_id: int, when: datetime) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "UPDATE notices SET state = 'pending', next_at = ? WHERE id = ?",
                (ts(when), notice_id),
            )

    async def all_due(self, now: datetime) -> int:
        """Make every unsent notice due now (a restart is a fresh chance); how many."""
        async with transaction(self._db):
            cur = await self._db.execute(
                "UPDATE notices SET next_at = ? WHERE state != 'sent'", (ts(now),)
            )
        return cur.rowcount

    async def forget_sent(self, before: datetime) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "DELETE FROM notices WHERE state = 'sent' AND sent_at < ?", (ts(before),)
            )
