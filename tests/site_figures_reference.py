"""The numbers page's figures counted from scratch, as hashchat counted them before they
were kept per chat (one statement over every published chat's tallies): the reference the
kept figures must equal (tests/test_site_figures.py)."""

from __future__ import annotations

from bot.store.backend import Database

# Chats in order; ``pa`` is one row per (chat, person) with their messages and answers.
_SCRATCH = """
WITH chats AS (
    SELECT id, ROW_NUMBER() OVER (ORDER BY starts_at, id) AS n FROM sessions
    WHERE community = ? AND state = 'closed' AND transcript_url IS NOT NULL
),
pa AS MATERIALIZED (
    SELECT c.n, p.author_key, p.platform, p.messages AS msgs, p.answers
    FROM chats c JOIN chat_people p ON p.session_id = c.id
    WHERE p.messages > 0
),
marked AS (
    SELECT n, msgs,
        CASE WHEN n = MIN(n) OVER (PARTITION BY author_key) THEN 1 ELSE 0 END AS first_time,
        CASE WHEN LEAD(n) OVER (PARTITION BY author_key ORDER BY n) - n <= 4 THEN 1 ELSE 0 END
            AS came_back
    FROM pa
)
SELECT 'chat', CAST(n AS TEXT), SUM(msgs), COUNT(*), SUM(first_time), SUM(came_back)
    FROM marked GROUP BY n
UNION ALL
SELECT 'platform', platform, SUM(msgs), COUNT(DISTINCT author_key), 0, 0
    FROM pa GROUP BY platform
UNION ALL
SELECT 'person', * FROM (
    SELECT author_key, SUM(msgs), SUM(answers), COUNT(*), 0 FROM pa
    WHERE author_key NOT IN (SELECT user FROM optouts)
    GROUP BY author_key ORDER BY SUM(msgs) DESC, SUM(answers) DESC, author_key LIMIT ?
) AS people
"""

Figures = tuple[
    list[tuple[int, int, int, int]],  # per chat, oldest first: messages, people, new, back
    list[tuple[str, int, int]],  # platform, messages, people; most messages first
    list[tuple[str, int, int, int]],  # the most active: key, messages, answers, chats
]


async def from_scratch(db: Database, community: str, *, chats: int, top: int = 10) -> Figures:
    per_chat: dict[int, tuple[int, int, int, int]] = {}
    platforms: list[tuple[str, int, int]] = []
    people: list[tuple[str, int, int, int]] = []
    for kind, key, a, b, c, d in await db.fetchall(_SCRATCH, (community, top)):
        if kind == "chat":
            per_chat[int(key)] = (int(a), int(b), int(c), int(d))
        elif kind == "platform":
            platforms.append((str(key), int(a), int(b)))
        else:
            people.append((str(key), int(a), int(b), int(c)))
    return (
        [per_chat.get(n, (0, 0, 0, 0)) for n in range(1, chats + 1)],
        sorted(platforms, key=lambda p: (-p[1], p[0])),
        people,
    )
