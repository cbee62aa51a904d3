"""The numbers page's figures, kept per chat when a chat is published or changes after.

Who came for the first time and who came back within the next four chats depend on a
person's whole history, and counting them from the per-chat tallies (``chat_people``,
147,000 rows at 500 chats) took 400 ms a view. So they are kept in three tables
(migration 12), read in a few hundred rows by :mod:`bot.store.site_stats`:

- ``site_attendance``: each published chat's ``chat_people`` rows as they were when it
  was last published (the transcript page shows the same state);
- ``site_people``: per community and person, their messages, answers, chats and the rank
  of their first chat;
- ``site_chats``: per published chat, its rank among the community's published chats,
  messages, participants, first-timers and how many came back within the next four.

They are brought up to date when a chat's publication changes (:meth:`SiteFigures.follow`
from ``Store.set_state``/``set_transcript_url`` through :func:`set_publication`, and from
``PrivacyStore.purge``) and when a published chat's messages change, which rewrites its
page (late messages, edits, hiding, deleting, ``forgetme``: ``bot.publishing.write_page``
and ``PrivacyStore.forget``): the numbers show what the pages show. The links shared
in a chat are found again at the same moments (bot/store/site_links.py).
A change in one chat touches only that chat, the four before it (their "came back"), and
the chats that were or are the first of the people whose tallies changed. A chat published
between others, or one taken down, shifts every rank after it: the community's figures are
then built again from the tallies (a second at 500 chats; rare). Nothing runs per message.

A person is one ``(author key, platform)`` row as in ``chat_people``; author keys are
``platform:id``, so each key has one platform. Opted-out people stay in the tables (they
count in the totals) and are left out when the page reads its most active people.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.store.backend import Database
from bot.store.connection import transaction
from bot.store.site_links import extract_chat, forget_chats, note_names

log = logging.getLogger(__name__)

WINDOW = 4  # "came back": at one of the next four chats (bot/store/site_stats.py)
_NEVER = 1 << 40  # a rank no chat has: "not this person's first chat"
_LOCK = 0x73697465  # PostgreSQL advisory lock class of the site's counts ("site")

_PUBLISHED = (
    "SELECT id FROM sessions WHERE community = ? AND state = 'closed'"
    " AND transcript_url IS NOT NULL ORDER BY starts_at, id"
)

# Each chat's figures from the attendance and the people's first ranks; for a few chats
# (incremental) or all of them (rebuild). A lookup per person per later chat, on keys.
_RECOUNT = f"""
UPDATE site_chats SET
    messages = (SELECT COALESCE(SUM(a.messages), 0) FROM site_attendance a
        WHERE a.session_id = site_chats.session_id),
    participants = (SELECT COUNT(*) FROM site_attendance a
        WHERE a.session_id = site_chats.session_id),
    first_timers = (SELECT COUNT(*) FROM site_attendance a
        WHERE a.session_id = site_chats.session_id
        AND (SELECT MIN(p.first_n) FROM site_people p
            WHERE p.community = site_chats.community AND p.author_key = a.author_key)
            = site_chats.n),
    returned = (SELECT COUNT(*) FROM site_attendance a
        WHERE a.session_id = site_chats.session_id AND EXISTS (
            SELECT 1 FROM site_chats later JOIN site_attendance b
                ON b.session_id = later.session_id AND b.author_key = a.author_key
            WHERE later.community = site_chats.community
                AND later.n BETWEEN site_chats.n + 1 AND site_chats.n + {WINDOW}))
WHERE community = ?"""

# A chat taken in at its rank, counted by _RECOUNT.
_ADD_CHATS = (
    "INSERT INTO site_chats (session_id, community, n, messages, participants,"
    " first_timers, returned) VALUES (?, ?, ?, 0, 0, 0, 0)"
)

_UPSERT_PERSON = """
INSERT INTO site_people (community, author_key, platform, messages, answers, chats, first_n)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (community, author_key, platform) DO UPDATE SET
    messages = site_people.messages + excluded.messages,
    answers = site_people.answers + excluded.answers,
    chats = site_people.chats + excluded.chats,
    first_n = CASE WHEN excluded.first_n < site_people.first_n
        THEN excluded.first_n ELSE site_people.first_n END"""

_FIRST_AGAIN = """
UPDATE site_people SET first_n = (
    SELECT MIN(c.n) FROM site_attendance a JOIN site_chats c ON c.session_id = a.session_id
    WHERE c.community = site_people.community AND a.author_key = site_people.author_key
        AND a.platform = site_people.platform)
WHERE community = ? AND author_key = ? AND platform = ?"""

Person = tuple[str, str]  # (author key, platform)
Tally = tuple[int, int]  # (messages, answers)


async def set_publication(db: Database, session_id: int, column: str, value: str) -> None:
    """Sets a chat's state or transcript link, which together make it published (closed,
    with a page), and lets the figures follow."""
    if column not in ("state", "transcript_url"):
        raise ValueError(f"not a publication column: {column}")
    async with transaction(db):
        await db.execute(f"UPDATE sessions SET {column} = ? WHERE id = ?", (value, session_id))
    await SiteFigures(db).follow(session_id)


async def ensure(db: Database, community: str) -> None:
    """Before a read: takes in chats published or taken down without the figures
    following (an older hashchat, a copied database); reads only when all is in step."""
    published = [int(r[0]) for r in await db.fetchall(_PUBLISHED, (community,))]
    stored = await db.fetchall(
        "SELECT n, session_id FROM site_chats WHERE community = ? ORDER BY n", (community,)
    )
    if [(int(n), int(i)) for n, i in stored] != list(enumerate(published, start=1)):
        await SiteFigures(db).sync(community)


class SiteFigures:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def follow(self, *session_ids: int) -> None:
        """These chats were published, taken down, or their messages changed: bring
        their communities' figures up to date. Must not run inside a transaction."""
        by_community: dict[str, set[int]] = {}
        for session_id in session_ids:
            row = await self._db.fetchone(
                "SELECT community FROM sessions WHERE id = ?", (session_id,)
            )
            if row is not None:
                by_community.setdefault(str(row[0]), set()).add(session_id)
        for community, changed in by_community.items():
            try:
                async with transaction(self._db):
                    await self._sync(community, changed)
            except Exception:
                # The chat is published already: its figures must not undo that. Forgotten,
                # they are counted again from the tallies on the next read (ensure()).
                log.exception("%s: could not count the site's numbers; recounting later", community)
                async with transaction(self._db):
                    await self._db.execute(
                        "DELETE FROM site_chats WHERE community = ?", (community,)
                    )

    async def sync(self, community: str) -> None:
        """Takes in chats published (or taken down) without :meth:`follow`."""
        async with transaction(self._db):
            await self._sync(community, set())

    async def _sync(self, community: str, changed: set[int]) -> None:
        if self._db.dialect == "postgresql":  # one count at a time, across instances too
            await self._db.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))",
                                   (_LOCK, community))  # fmt: skip
        published = [int(r[0]) for r in await self._db.fetchall(_PUBLISHED, (community,))]
        ranks = {session_id: n for n, session_id in enumerate(published, start=1)}
        stored = {
            int(i): int(n)
            for i, n in await self._db.fetchall(
                "SELECT session_id, n FROM site_chats WHERE community = ?", (community,)
            )
        }
        new = [i for i in published if i not in stored]
        touched = [*new, *sorted(changed & stored.keys())]
        if any(ranks.get(i) != n for i, n in stored.items()) or (new and not stored):
            await self._rebuild(community, published)  # ranks moved, or never counted
            await forget_chats(self._db, community)
        else:
            await self._db.executemany(_ADD_CHATS, [(i, community, ranks[i]) for i in new])
            for session_id in touched:
                await self._chat(community, session_id, ranks[session_id])
        for session_id in touched:
            await extract_chat(self._db, session_id)  # an edit may change only the text
            await note_names(self._db, session_id)

    async def _chat(self, community: str, session_id: int, n: int) -> None:
        """Takes in one chat's current tallies, and recounts the chats they touch."""
        now = await self._tallies(
            "SELECT author_key, platform, messages, answers FROM chat_people"
            " WHERE session_id = ? AND messages > 0",
            session_id,
        )
        was = await self._tallies(
            "SELECT author_key, platform, messages, answers FROM site_attendance"
            " WHERE session_id = ?",
            session_id,
        )
        changed = sorted(p for p in now.keys() | was.keys() if now.get(p) != was.get(p))
        if not changed:
            return
        keys = sorted({key for key, _ in changed})
        firsts_before = await self._firsts(community, keys)
        await self._db.executemany(
            "DELETE FROM site_attendance WHERE session_id = ? AND author_key = ? AND platform = ?",
            [(session_id, *p) for p in changed if p in was],
        )
        await self._db.executemany(
            "INSERT INTO site_attendance VALUES (?, ?, ?, ?, ?)",
            [(session_id, *p, *now[p]) for p in changed if p in now],
        )
        deltas = []
        for p in changed:
            (m1, a1), (m0, a0) = now.get(p, (0, 0)), was.get(p, (0, 0))
            joined = (p in now) - (p in was)
            deltas.append((community, *p, m1 - m0, a1 - a0, joined, n if joined > 0 else _NEVER))
        await self._db.executemany(_UPSERT_PERSON, deltas)
        await self._db.execute(
            "DELETE FROM site_people WHERE community = ? AND chats <= 0", (community,)
        )
        # Who left this chat may have had it as their first: their first is further on.
        await self._db.executemany(_FIRST_AGAIN, [(community, *p) for p in changed if p not in now])
        firsts_after = await self._firsts(community, keys)
        touched = set(range(max(1, n - WINDOW), n + 1))
        touched |= set(firsts_before.values()) | set(firsts_after.values())
        await self._recount(community, touched)

    async def _tallies(self, sql: str, session_id: int) -> dict[Person, Tally]:
        rows = await self._db.fetchall(sql, (session_id,))
        return {(str(k), str(p)): (int(m), int(a)) for k, p, m, a in rows}

    async def _firsts(self, community: str, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(keys, 500):
            marks = ", ".join("?" * len(chunk))
            for key, first in await self._db.fetchall(
                "SELECT author_key, MIN(first_n) FROM site_people"
                f" WHERE community = ? AND author_key IN ({marks}) GROUP BY author_key",
                (community, *chunk),
            ):
                found[str(key)] = int(first)
        return found

    async def _recount(self, community: str, ranks: set[int] | None) -> None:
        """Recounts these chats of the community (by rank), or all of them (None)."""
        if ranks is None:
            await self._db.execute(_RECOUNT, (community,))
            return
        for chunk in _chunks(sorted(ranks), 500):
            marks = ", ".join("?" * len(chunk))
            await self._db.execute(f"{_RECOUNT} AND n IN ({marks})", (community, *chunk))

    async def _rebuild(self, community: str, published: list[int]) -> None:
        """The community's figures from the tallies, after the ranks moved."""
        await self._db.execute(
            "DELETE FROM site_attendance WHERE session_id IN"
            " (SELECT id FROM sessions WHERE community = ?)",
            (community,),
        )
        await self._db.execute("DELETE FROM site_chats WHERE community = ?", (community,))
        await self._db.execute("DELETE FROM site_people WHERE community = ?", (community,))
        await self._db.executemany(
            _ADD_CHATS, [(i, community, n) for n, i in enumerate(published, start=1)]
        )
        await self._db.execute(
            "INSERT INTO site_attendance"
            " SELECT p.session_id, p.author_key, p.platform, p.messages, p.answers"
            " FROM chat_people p JOIN site_chats c ON c.session_id = p.session_id"
            " WHERE c.community = ? AND p.messages > 0",
            (community,),
        )
        await self._db.execute(
            "INSERT INTO site_people"
            " SELECT c.community, a.author_key, a.platform, SUM(a.messages), SUM(a.answers),"
            " COUNT(*), MIN(c.n)"
            " FROM site_attendance a JOIN site_chats c ON c.session_id = a.session_id"
            " WHERE c.community = ? GROUP BY c.community, a.author_key, a.platform",
            (community,),
        )
        await self._recount(community, None)


def _chunks(items: list[str] | list[int], size: int) -> Iterable[list[str] | list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
