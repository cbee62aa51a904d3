"""Bringing the search index up to the newest message (migration 13).

On SQLite new messages are indexed in bulk rather than in the writer's commit: raising
``search_mark.upto`` to the newest message id runs one ``INSERT ... SELECT`` (a trigger
of the mark) that indexes every message above the old mark as it is now, leaving out
the deleted, hidden and opted-out ones. Callers: the message writer when its queue has
been quiet a moment, and every search before it reads, so a search never misses a
stored message whatever wrote it. On PostgreSQL the index is kept per statement and
this does nothing.
"""

from __future__ import annotations

from bot.store.backend import Database

_BEHIND = "SELECT upto < (SELECT coalesce(max(id), 0) FROM messages) FROM search_mark"
_CATCH_UP = (
    "UPDATE search_mark SET upto = (SELECT max(id) FROM messages)"
    " WHERE upto < (SELECT coalesce(max(id), 0) FROM messages)"
)


async def catch_up(db: Database) -> int:
    """Index the messages stored since the last catch-up; returns 1 if there were any."""
    if db.dialect == "postgresql":
        return 0
    behind = await db.fetchone(_BEHIND)  # a read: a search takes no write lock in vain
    if not behind or not behind[0]:
        return 0
    async with db.transaction():
        result = await db.execute(_CATCH_UP)
    return max(result.rowcount, 0)
