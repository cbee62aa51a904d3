"""The links shared in a community's published chats, found once per chat when it is
published or its page is rewritten (bot/store/site_figures.py calls :func:`extract_chat`),
so the links page reads one row per (message, link) instead of every message's text; and
at the same moments the names people last used in each chat (:func:`note_names`).

Only shown messages count (not hidden or deleted), as on the transcript pages; people who
opted out are left out when the page reads them, so opting out needs no rewrite. The
links are only normalised text (bot/site/urlnorm.py): hashchat never requests them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.site.urlnorm import extract, normalise
from bot.store.backend import Database
from bot.store.codec import decode_questions

# A cheap first sieve, as loose as extract(), which decides: it takes http(s) links in any
# case ("Https://", as phones write it), and no bare "www." address.
_CANDIDATES = (
    "SELECT m.id, m.author_key, m.questions, m.text, s.starts_at, m.sent_at"
    " FROM messages m JOIN sessions s ON s.id = m.session_id"
    " WHERE m.session_id = ? AND m.deleted_at IS NULL AND m.hidden_at IS NULL"
    " AND instr(lower(m.text), 'http') > 0"
)
_SHOWN_LINKS = (
    " FROM site_links l JOIN site_chats c ON c.session_id = l.session_id"
    " WHERE c.community = ? AND l.author_key NOT IN (SELECT user FROM optouts)"
)


async def extract_chat(db: Database, session_id: int) -> None:
    """The links of one chat as it stands; inside the caller's transaction."""
    rows = []
    for mid, author, questions, text, starts, sent in await db.fetchall(_CANDIDATES, (session_id,)):
        order = f"{starts} {sent} {int(mid):015d}"  # the order of the transcripts
        for url in sorted({u for u in map(normalise, extract(str(text))) if u is not None}):
            rows.append((session_id, int(mid), url, str(author), str(questions), order))
    await db.execute("DELETE FROM site_links WHERE session_id = ?", (session_id,))
    await db.executemany("INSERT INTO site_links VALUES (?, ?, ?, ?, ?, ?)", rows)


async def note_names(db: Database, session_id: int) -> None:
    """Each person's last non-blank name in one published chat, as its transcript shows
    it: the numbers page names people by the latest of these (a seek per person, where
    the latest of all their messages took reading every one of them)."""
    last: dict[str, tuple[str, str]] = {}
    for key, name, sent, mid in await db.fetchall(
        "SELECT author_key, author_name, sent_at, id FROM messages WHERE session_id = ?"
        " AND deleted_at IS NULL AND hidden_at IS NULL AND trim(author_name) != ''"
        " ORDER BY sent_at, id",
        (session_id,),
    ):
        last[str(key)] = (str(name), f"{sent} {int(mid):015d}")
    await db.execute("DELETE FROM site_names WHERE session_id = ?", (session_id,))
    await db.executemany(
        "INSERT INTO site_names VALUES (?, ?, ?, ?)",
        [(session_id, key, name, at) for key, (name, at) in last.items()],
    )


async def forget_chats(db: Database, community: str) -> None:
    """Drops the links and names of the community's chats that are no longer published."""
    for table in ("site_links", "site_names"):
        await db.execute(
            f"DELETE FROM {table} WHERE session_id IN"
            " (SELECT id FROM sessions WHERE community = ?)"
            " AND session_id NOT IN (SELECT session_id FROM site_chats)",
            (community,),
        )


@dataclass(frozen=True, slots=True)
class LinkShare:
    """One message sharing ``url``, in the order of the transcripts."""

    url: str
    session_id: int
    questions: frozenset[int]


class SiteLinksStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def count(self, community: str) -> int:
        row = await self._db.fetchone(f"SELECT COUNT(DISTINCT l.url){_SHOWN_LINKS}", (community,))
        return int(row[0]) if row else 0

    async def page(self, community: str, *, offset: int, limit: int) -> list[LinkShare]:
        """The messages that shared the links of one page: most shared first, then in the
        order they were first shared."""
        urls = [
            str(r[0])
            for r in await self._db.fetchall(
                f"SELECT l.url{_SHOWN_LINKS}"
                " GROUP BY l.url ORDER BY COUNT(*) DESC, MIN(l.sort_key), l.url LIMIT ? OFFSET ?",
                (community, limit, offset),
            )
        ]
        if not urls:
            return []
        marks = ", ".join("?" * len(urls))
        return [
            LinkShare(str(url), int(sid), decode_questions(str(qs)))
            for url, sid, qs in await self._db.fetchall(
                f"SELECT l.url, l.session_id, l.questions{_SHOWN_LINKS} AND l.url IN ({marks})"
                " ORDER BY l.sort_key, l.url",
                (community, *urls),
            )
        ]
