"""A community's numbers across its chats, for the site's numbers page.

What counts: the community's published chats (closed, with a transcript page), and in
them the messages a transcript shows (hidden and deleted ones never count, so the totals
match the transcript pages). People
who opted out still count in the anonymous totals, as their earlier messages stay in the
transcripts, but are never named: they are left out of the most active participants and
their links are not listed. People who sent ``forgetme`` are gone from the store.

A person is one ``(platform, user id)``: the same human on two platforms counts twice.

The first-timers, who came back, the platforms and the people are kept per published chat
when it is published or changes (bot/store/site_figures.py), so the page reads a few
hundred rows; the answers per question come from the per-chat tallies of migration 7.
"""

from __future__ import annotations

import json
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import decode_questions, parse_ts
from bot.store.site_figures import WINDOW, ensure

RETENTION_WINDOW = WINDOW  # "came back": at one of the next four chats of the community

# Kept per published chat by bot/store/site_figures.py: a few hundred rows per community.
_PLATFORMS = (
    "SELECT platform, SUM(messages), COUNT(DISTINCT author_key) FROM site_people"
    " WHERE community = ? GROUP BY platform"
)
_PEOPLE = (
    "SELECT author_key, SUM(messages), SUM(answers), SUM(chats) FROM site_people"
    " WHERE community = ? AND author_key NOT IN (SELECT user FROM optouts)"
    " GROUP BY author_key ORDER BY SUM(messages) DESC, SUM(answers) DESC, author_key LIMIT ?"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatFigures:
    """One closed chat; ``returned`` is how many of its people came to one of the next
    four chats, of which there were ``later`` (fewer than four for the newest chats)."""

    slug: str
    title: str
    starts_at: datetime
    messages: int
    participants: int
    first_timers: int
    returned: int
    later: int

    @property
    def returning(self) -> int:
        return self.participants - self.first_timers

    @property
    def retention(self) -> int:
        """The percentage who came back, rounded to a whole number."""
        return round(100 * self.returned / self.participants) if self.participants else 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformShare:
    platform: str
    messages: int
    participants: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivePerson:
    author_key: str
    name: str
    messages: int
    answers: int
    chats: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionFigures:
    slug: str
    chat_title: str
    starts_at: datetime
    number: int
    text: str
    answers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityFigures:
    chats: tuple[ChatFigures, ...]  # oldest first
    platforms: tuple[PlatformShare, ...]  # most messages first
    most_active: tuple[ActivePerson, ...]  # never anyone who opted out
    top_questions: tuple[QuestionFigures, ...]  # most answers first

    @property
    def total_messages(self) -> int:
        return sum(c.messages for c in self.chats)


# The last figures of each community per connection, with the stamp they were read at.
_Cached = dict[tuple[str, int], tuple[object, "CommunityFigures"]]
_CACHE: weakref.WeakKeyDictionary[Database, _Cached] = weakref.WeakKeyDictionary()


def forget_figures(db: Database) -> None:
    """Drops the figures cached for this connection (the benchmark's cold render)."""
    _CACHE.pop(db, None)


class SiteStatsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _stamp(self) -> object:
        """Changes with any commit (see ``Database.change_stamp``): equal stamps mean the
        figures read before still hold."""
        return await self._db.change_stamp()

    async def figures(
        self, community: str, *, top: int = 10, cached: bool = True
    ) -> CommunityFigures:
        """The community's figures, read again only when the database changed since
        (``cached=False`` reads them anyway: the benchmark's cold render)."""
        stamp = await self._stamp()
        known = _CACHE.setdefault(self._db, {})
        hit = known.get((community, top))
        if cached and hit is not None and hit[0] == stamp:
            return hit[1]
        figures = await self._figures(community, top)
        known[(community, top)] = (stamp, figures)
        return figures

    async def chats(self, community: str) -> list[tuple[int, str, str, datetime, dict[int, str]]]:
        """(id, slug, title, start, question texts) of the closed chats, oldest first."""
        async with self._db.execute(
            "SELECT s.id, s.slug, json_extract(s.plan_json, '$.title'),"
            " COALESCE(w.due_at, s.starts_at), json_extract(s.plan_json, '$.questions')"
            " FROM sessions s LEFT JOIN steps w ON w.session_id = s.id AND w.key = 'welcome'"
            " WHERE s.community = ? AND s.state = 'closed' AND s.transcript_url IS NOT NULL"
            " ORDER BY s.starts_at, s.id",
            (community,),
        ) as cur:
            rows = await cur.fetchall()
        return [
            (
                int(i),
                str(slug),
                str(title or ""),
                parse_ts(str(start)),
                {int(q["number"]): str(q["text"]) for q in json.loads(qs or "[]")},
            )
            for i, slug, title, start, qs in rows
        ]

    async def _per_chat(self, community: str) -> dict[int, tuple[int, ...]]:
        """(messages, participants, first-timers, returned) per published chat, by rank."""
        await ensure(self._db, community)
        rows = await self._db.fetchall(
            "SELECT n, messages, participants, first_timers, returned FROM site_chats"
            " WHERE community = ?",
            (community,),
        )
        return {int(r[0]): tuple(int(v) for v in r[1:]) for r in rows}

    async def _figures(self, community: str, top: int) -> CommunityFigures:
        chats = await self.chats(community)
        per_chat = await self._per_chat(community)
        platforms = [
            PlatformShare(platform=str(p), messages=int(m), participants=int(n))
            for p, m, n in await self._db.fetchall(_PLATFORMS, (community,))
        ]
        people = [
            (str(k), int(m), int(a), int(c))
            for k, m, a, c in await self._db.fetchall(_PEOPLE, (community, top))
        ]
        names = await self._names([p[0] for p in people])
        figures = []
        for n, (_, slug, title, start, _qs) in enumerate(chats, start=1):
            msgs, parts, first, back = per_chat.get(n, (0, 0, 0, 0))
            figures.append(
                ChatFigures(
                    slug=slug,
                    title=title,
                    starts_at=start,
                    messages=msgs,
                    participants=parts,
                    first_timers=first,
                    returned=back,
                    later=min(RETENTION_WINDOW, len(chats) - n),
                )
            )
        return CommunityFigures(
            chats=tuple(figures),
            platforms=tuple(sorted(platforms, key=lambda p: (-p.messages, p.platform))),
            most_active=tuple(
                ActivePerson(author_key=k, name=names.get(k, k), messages=m, answers=a, chats=c)
                for k, m, a, c in people
            ),
            top_questions=await self._top_questions(community, chats, top),
        )

    async def _names(self, keys: list[str]) -> dict[str, str]:
        """The latest non-blank name of each person in the published transcripts."""
        names: dict[str, str] = {}
        for key in keys:
            row = await self._db.fetchone(
                "SELECT name FROM site_names WHERE author_key = ? ORDER BY said_at DESC LIMIT 1",
                (key,),
            )
            if row is not None:
                names[key] = str(row[0])
        return names

    async def _top_questions(
        self, community: str, chats: list[tuple[int, str, str, datetime, dict[int, str]]], top: int
    ) -> tuple[QuestionFigures, ...]:
        """Answers are counted by the questions stored on each message; a message answering
        two questions counts for both, as in the transcript's table."""
        by_id = {c[0]: c for c in chats}
        counts: Counter[tuple[int, int]] = Counter()
        async with self._db.execute(
            "SELECT a.session_id, a.questions, a.messages FROM chat_answers a"
            " JOIN sessions s ON s.id = a.session_id"
            " WHERE s.community = ? AND s.state = 'closed' AND s.transcript_url IS NOT NULL"
            " AND a.messages > 0",
            (community,),
        ) as cur:
            for session_id, qs, n in await cur.fetchall():
                texts = by_id[int(session_id)][4]
                for number in decode_questions(str(qs)):
                    if number in texts:  # a stray "A7" is general discussion
                        counts[(int(session_id), number)] += int(n)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], by_id[kv[0][0]][3], kv[0][1]))
        return tuple(
            QuestionFigures(
                slug=by_id[sid][1],
                chat_title=by_id[sid][2],
                starts_at=by_id[sid][3],
                number=number,
                text=by_id[sid][4][number],
                answers=n,
            )
            for (sid, number), n in ranked[:top]
        )
