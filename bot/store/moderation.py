"""Mutes, and who wrote a message: what moderators' actions need from the database."""

from __future__ import annotations

from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import parse_ts_or_none, ts, ts_or_none
from bot.store.connection import transaction


class MuteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def mute(self, community: str, user: str, until: datetime | None, at: datetime) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "INSERT INTO mutes (community, user, until, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (community, user) DO UPDATE SET until = excluded.until,"
                " created_at = excluded.created_at",
                (community, user, ts_or_none(until), ts(at)),
            )

    async def unmute(self, community: str, user: str) -> bool:
        async with transaction(self._db):
            cur = await self._db.execute(
                "DELETE FROM mutes WHERE community = ? AND user = ?", (community, user)
            )
        return cur.rowcount > 0

    async def all(self) -> dict[tuple[str, str], datetime | None]:
        """Every mute, open-ended ones with None; expired ones are simply ignored by readers."""
        async with self._db.execute("SELECT community, user, until FROM mutes") as cur:
            return {(c, u): parse_ts_or_none(until) for c, u, until in await cur.fetchall()}

    async def author_of(
        self, platform: str, channel: str, platform_id: str
    ) -> tuple[str, str] | None:
        """(author key, display name) of a stored message."""
        async with self._db.execute(
            "SELECT author_key, author_name FROM messages"
            " WHERE platform = ? AND channel = ? AND platform_id = ?",
            (platform, channel, platform_id),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else (str(row[0]), str(row[1]))
