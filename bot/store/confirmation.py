"""Confirming a question's post after the fact, from what a reply to it showed.

A post whose send was cut off (the platform took it, the bot was killed before it heard
back) is stored "uncertain" without an id on a platform where a resend could post it
twice. When a participant replies to it and the platform shows the replied-to post as
the bot's own question (see bot/own_posts.py), that is proof it was posted: its id is
recorded and it becomes "sent", keeping the first attempt's time.
"""

from __future__ import annotations

from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import ts
from bot.store.connection import transaction


async def confirm_post(
    db: Database,
    session_id: int,
    step: str,
    channel: str,
    message_id: str,
    now: datetime,
) -> bool:
    """Record ``message_id`` as the post of ``step`` in ``channel`` if it was not known
    (uncertain, or still being sent); False when there was nothing to confirm, or when
    that message is already known as another post (last week's question with the same
    words, say), which this reply then answers instead."""
    async with transaction(db):
        cur = await db.execute(
            "UPDATE posts SET state = 'sent', message_id = ?,"
            " posted_at = COALESCE(posted_at, ?), updated_at = ?"
            " WHERE session_id = ? AND step_key = ? AND channel = ?"
            " AND state IN ('uncertain', 'sending') AND message_id IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM posts WHERE channel = ? AND message_id = ?)",
            (message_id, ts(now), ts(now), session_id, step, channel, channel, message_id),
        )
    return cur.rowcount == 1
