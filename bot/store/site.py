"""What the community site reads: a community's coming chats and its published past chats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import parse_ts, ts
from bot.timeline import SessionPlan


@dataclass(frozen=True, slots=True, kw_only=True)
class ComingRow:
    """A chat planned and not over: what the home page and the calendar list."""

    session_id: int
    plan: SessionPlan
    host: str | None  # the user key
    # The name the host last wrote under; none if they never wrote or opted out.
    host_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PastRow:
    """A closed chat with its counts, the way the published transcript counts them
    (deleted and hidden messages left out)."""

    session_id: int
    plan: SessionPlan
    starts_at: datetime
    participants: int
    messages: int
    answers: int


class SiteStore:
    """Read-only queries for the site; one instance per store connection."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def coming(self, community: str, now: datetime) -> list[ComingRow]:
        """Chats not closed whose end is after ``now``, soonest first."""
        async with self._db.execute(
            "SELECT id, plan_json, host, (SELECT author_name FROM messages"
            "  WHERE author_key = sessions.host AND NOT EXISTS"
            "  (SELECT 1 FROM optouts WHERE optouts.user = sessions.host)"
            "  ORDER BY sent_at DESC LIMIT 1)"
            " FROM sessions WHERE community = ? AND state != 'closed'"
            " AND ends_at > ? ORDER BY starts_at, id",
            (community, ts(now)),
        ) as cur:
            rows = await cur.fetchall()
        return [
            ComingRow(
                session_id=int(r[0]),
                plan=SessionPlan.from_json(str(r[1])),
                host=None if r[2] is None else str(r[2]),
                host_name=None if r[3] is None else str(r[3]),
            )
            for r in rows
        ]

    async def past_count(self, community: str) -> int:
        async with self._db.execute(
            "SELECT COUNT(*) FROM sessions WHERE community = ? AND state = 'closed'"
            " AND transcript_url IS NOT NULL",
            (community,),
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def published_ids(self, community: str) -> list[int]:
        """The published chats' ids, newest first, as :meth:`past` lists them."""
        async with self._db.execute(
            "SELECT id FROM sessions"
            " WHERE community = ? AND state = 'closed' AND transcript_url IS NOT NULL"
            " ORDER BY starts_at DESC, id DESC",
            (community,),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def past(self, community: str, *, offset: int = 0, limit: int = -1) -> list[PastRow]:
        """Published chats newest first; ``limit`` -1 is all of them.

        The counts come from the per-chat tallies of migration 7 (``chat_people``, kept by
        triggers), and only for the chats of this page: a page costs the same with 500
        chats of 800 messages as with one (it used to count every message, 1.8 s).
        """
        async with self._db.execute(
            "WITH page AS (SELECT id, plan_json, starts_at FROM sessions"
            " WHERE community = ? AND state = 'closed' AND transcript_url IS NOT NULL"
            " ORDER BY starts_at DESC, id DESC LIMIT ? OFFSET ?)"
            " SELECT page.id, page.plan_json, page.starts_at,"
            " COUNT(DISTINCT p.author_key), COALESCE(SUM(p.messages), 0),"
            " COALESCE(SUM(p.answers), 0)"
            " FROM page LEFT JOIN chat_people p ON p.session_id = page.id AND p.messages > 0"
            " GROUP BY page.id ORDER BY page.starts_at DESC, page.id DESC",
            (community, limit if limit >= 0 else _ALL_ROWS, offset),
        ) as cur:
            rows = await cur.fetchall()
        return [
            PastRow(
                session_id=int(r[0]),
                plan=SessionPlan.from_json(str(r[1])),
                starts_at=parse_ts(str(r[2])),
                participants=int(r[3]),
                messages=int(r[4]),
                answers=int(r[5]),
            )
            for r in rows
        ]


_ALL_ROWS = 1 << 62  # "no limit": PostgreSQL refuses SQLite's LIMIT -1


@dataclass(frozen=True, slots=True)
class Neighbour:
    session_id: int
    slug: str
    title: str


async def neighbours(
    db: Database, session_id: int, publishing: int | None = None
) -> tuple[Neighbour | None, Neighbour | None]:
    """The published chats of the same community just before and just after this one.

    ``publishing`` counts as published too: the chat whose page is being written for the
    first time, before its link is stored, when the pages beside it are written again.
    """
    found: list[Neighbour | None] = []
    for compare, order in (("<", "DESC"), (">", "ASC")):
        async with db.execute(
            "SELECT o.id, o.slug, o.plan_json FROM sessions s JOIN sessions o"
            " ON o.community = s.community AND o.id != s.id"
            " WHERE s.id = ? AND (o.id = ? OR o.state = 'closed' AND o.transcript_url IS NOT NULL)"
            f" AND (o.starts_at, o.id) {compare} (s.starts_at, s.id)"
            f" ORDER BY o.starts_at {order}, o.id {order} LIMIT 1",
            (session_id, publishing),
        ) as cur:
            row = await cur.fetchone()
        found.append(
            None
            if row is None
            else Neighbour(int(row[0]), str(row[1]), SessionPlan.from_json(str(row[2])).title)
        )
    return found[0], found[1]
