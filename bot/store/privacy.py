"""Forgetting people, honouring opt-outs, and deleting chats past their retention."""

from __future__ import annotations

from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import ts
from bot.store.connection import transaction
from bot.store.site_figures import SiteFigures

FORGOTTEN = "(forgotten)"


class PrivacyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def forget(self, user: str) -> tuple[int, list[int]]:
        """Delete everything stored about ``user`` in one transaction.

        Returns how many messages went, and the closed sessions whose published
        transcripts showed them and must be written again. The audit log keeps its
        entries, for moderators' accountability, with the person's name taken out.
        """
        async with self._db.execute(
            "SELECT DISTINCT m.session_id FROM messages m JOIN sessions s ON s.id = m.session_id"
            " WHERE m.author_key = ? AND s.state = 'closed' AND s.transcript_url IS NOT NULL",
            (user,),
        ) as cur:
            published = [int(r[0]) for r in await cur.fetchall()]
        statements = [
            ("DELETE FROM messages WHERE author_key = ?", (user,)),
            ("DELETE FROM votes WHERE voter = ?", (user,)),
            ("DELETE FROM signups WHERE user = ?", (user,)),
            ("DELETE FROM suggestions WHERE author = ? AND state != 'approved'", (user,)),
            ("UPDATE suggestions SET author = ?, author_name = ? WHERE author = ?",
             (FORGOTTEN, FORGOTTEN, user)),
            ("UPDATE moderation_actions SET target = ? WHERE target = ?", (FORGOTTEN, user)),
            ("UPDATE moderation_actions SET actor = ?, actor_name = ? WHERE actor = ?",
             (FORGOTTEN, FORGOTTEN, user)),
            ("DELETE FROM mutes WHERE user = ?", (user,)),
        ]  # fmt: skip
        async with transaction(self._db):
            cur = await self._db.execute(*statements[0])
            deleted = cur.rowcount
            for sql, args in statements[1:]:
                await self._db.execute(sql, args)
        await SiteFigures(self._db).follow(*published)  # the numbers without them at once
        return deleted, published

    async def opt_out(self, user: str, at: datetime) -> bool:
        async with transaction(self._db):
            cur = await self._db.execute(
                "INSERT OR IGNORE INTO optouts (user, created_at) VALUES (?, ?)", (user, ts(at))
            )
        return cur.rowcount == 1

    async def opt_in(self, user: str) -> bool:
        async with transaction(self._db):
            cur = await self._db.execute("DELETE FROM optouts WHERE user = ?", (user,))
        return cur.rowcount == 1

    async def opted_out(self) -> set[str]:
        async with self._db.execute("SELECT user FROM optouts") as cur:
            return {str(r[0]) for r in await cur.fetchall()}

    async def expired(self, community: str, ended_before: datetime) -> list[tuple[int, str]]:
        """(id, slug) of the community's closed chats that ended before the cut-off and
        still hold messages or a published page."""
        async with self._db.execute(
            "SELECT id, slug FROM sessions WHERE community = ? AND state = 'closed'"
            " AND ends_at < ? AND (transcript_url IS NOT NULL"
            " OR EXISTS (SELECT 1 FROM messages WHERE session_id = sessions.id))",
            (community, ts(ended_before)),
        ) as cur:
            return [(int(i), str(s)) for i, s in await cur.fetchall()]

    async def purge(self, session_id: int) -> None:
        async with transaction(self._db):
            await self._db.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            await self._db.execute(
                "UPDATE sessions SET transcript_url = NULL WHERE id = ?", (session_id,)
            )
        await SiteFigures(self._db).follow(session_id)  # taken down: the ranks after it move
