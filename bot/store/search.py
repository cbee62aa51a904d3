"""Searching a community's published transcripts through the FTS5 index of migration 6.

The index itself is kept by triggers (see the migration); new messages enter it in bulk
(migration 13), so a search first brings it up to the newest message. What
a transcript does not show is not in the index (deleted, hidden, opted-out, forgotten,
purged messages), and only published chats are searched, so a result always links to a
page that exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.store import search_pg
from bot.store.backend import Database
from bot.store.codec import parse_ts
from bot.store.search_index import catch_up
from bot.store.transcript_rows import (
    MESSAGE_COLUMNS,
    QuestionPosts,
    message_record,
    question_posts,
)
from bot.timeline import SessionPlan
from bot.transcript.model import MessageRecord

HIT_START, HIT_END = "\ue000", "\ue001"  # never in indexed text: the triggers strip them
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"\w+")
_QUESTION_ROWS = 1000  # a question's row id is -(session id * 1000 + its number)

Snippet = search_pg.Snippet  # (text, is a hit) pieces; the page escapes each


def query_parts(text: str) -> list[list[str]]:
    """The user's words, grouped in phrases, read so that no input is syntax.

    Balanced double quotes keep a phrase; everything else (``*``, ``-``, ``NEAR``, ``:``,
    parentheses, a lone quote) is read as plain words. Empty when no word is left: the
    page shows just the form.
    """
    parts: list[list[str]] = []
    for match in _PHRASE_OR_WORD.finditer(text[:500]):
        words = _WORD.findall(match.group(1) if match.group(1) is not None else match.group(2))
        if words:
            parts.append(words)
    return parts[:32]


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 expression that cannot fail to parse: each phrase or
    word in double quotes, where FTS5 treats it as text."""
    return " ".join('"' + " ".join(words) + '"' for words in query_parts(text)) or None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchFilters:
    community: str
    chat: str | None = None  # the slug's date part, "2026-03-04" (or "2026-03-04-2")
    question: int | None = None
    author: str | None = None  # words starting the author's name: any case, any accents
    since: date | None = None  # chat dates, inclusive, as in the transcripts' addresses
    until: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    slug: str  # "<community>/<yyyy-mm-dd>": the transcript page
    anchor: str  # "m<id>" for a message, "q<n>" for a question
    chat_title: str
    chat_starts_at: datetime
    question: int | None  # the question the message is filed under, or the question hit
    question_text: str | None
    author_name: str | None  # None for a question's own text
    platform: str | None
    sent_at: datetime | None
    snippet: Snippet


@dataclass(frozen=True, slots=True)
class ChatChoice:
    key: str  # the slug's date part
    title: str
    starts_at: datetime


def split_snippet(text: str) -> Snippet:
    """``snippet()``'s output, with our private-use markers, as plain pieces."""
    pieces: list[tuple[str, bool]] = []
    for chunk in text.split(HIT_START):
        hit, _, rest = chunk.partition(HIT_END) if HIT_END in chunk else ("", "", chunk)
        if hit:
            pieces.append((hit, True))
        if rest:
            pieces.append((rest, False))
    return tuple(pieces)


def _filter_sql(f: SearchFilters, *, sessions_only: bool = False) -> tuple[str, list[object]]:
    where = ["s.community = ?", "s.transcript_url IS NOT NULL"]
    args: list[object] = [f.community]
    day = "substr(s.slug, length(s.community) + 2)"
    if f.chat:
        where.append(f"{day} = ?")
        args.append(f.chat)
    if f.since:
        where.append(f"substr({day}, 1, 10) >= ?")
        args.append(f.since.isoformat())
    if f.until:
        where.append(f"substr({day}, 1, 10) <= ?")
        args.append(f.until.isoformat())
    if f.question is not None and not sessions_only:
        # Filed under it when stored, or a reply (or thread message) to its post.
        where.append(
            "(CASE WHEN m.id IS NULL THEN -x.rowid % 1000 = ?"
            " ELSE instr(' ' || m.questions || ' ', ' ' || ? || ' ') > 0"
            " OR EXISTS (SELECT 1 FROM steps st JOIN posts p ON p.session_id = st.session_id"
            " AND p.step_key = st.key WHERE st.session_id = m.session_id AND st.question = ?"
            " AND p.state = 'sent' AND p.channel LIKE m.platform || ':' || m.channel || '%'"
            " AND p.message_id IN (m.reply_to, m.thread)) END)"
        )
        args += [f.question, f.question, f.question]
    return " AND ".join(where), args


async def search(
    db: Database, text: str, filters: SearchFilters, *, offset: int, limit: int
) -> tuple[list[SearchHit], bool]:
    """One page of results, best first (bm25; ts_rank on PostgreSQL), and whether
    another page follows."""
    parts = query_parts(text)
    if not parts:
        return [], False
    await catch_up(db)
    # In the index, so the name is matched the way text is: any case, any accents, the
    # last word by its start ("ann eli" finds "Ann Élise"). A question has no author.
    names = _WORD.findall((filters.author or "")[:200])[:8]
    where, args = _filter_sql(filters)
    offset = max(0, offset)
    wanted = offset + limit + 1
    if db.dialect == "postgresql":
        rows = await search_pg.ranked(db, parts, names, (where, args), wanted)
        page = rows[offset : offset + limit]
        ids = [int(str(r[0])) for r in page]
        found = await search_pg.snippets(db, ids, parts)
        return await _hits(db, page, found), len(rows) > offset + limit
    query = " ".join('"' + " ".join(words) + '"' for words in parts)
    # The snippet shows the message's text alone: its highlights come from the words, and
    # the author's prefix query, which FTS5 builds again for every row asked for (30 ms a
    # page of 20 in the bench), would add nothing to it.
    words_only = query
    if names:
        query += ' author : "' + " ".join(names) + '" *'
    bounds = await _bounds(db, filters)
    if bounds is None:
        return [], False
    if await _alone(db, filters.community):
        # A word in tens of thousands of messages says little about any of them: rank
        # the newest matches only, so a common word costs what a rarer one does. (With
        # other communities in the file, their newest could crowd this one's out.)
        newest = [query, *bounds[:4], RANKED_AT_MOST - 1]
        async with db.execute(_NEWEST, newest) as c:
            row = await c.fetchone()
        if row is not None:
            bounds[2] = max(bounds[2], int(row[0]))
    # Ranking every match and joining it to its message costs most on common words;
    # the best few are ranked in the index alone, then filtered, and the pool grows
    # only while the filters leave too few and the index has more.
    pool = max(wanted * 4, 200)
    while True:
        ranked = [query, *bounds[:4], query, *bounds[4:], pool, *args, wanted]
        async with db.execute(_RANKED.format(where=where), ranked) as c:
            rows = list(await c.fetchall())
        if len(rows) >= wanted:
            break
        capped = [query, *bounds[:4], pool, query, *bounds[4:], pool]
        async with db.execute(_AT_MOST, capped) as c:
            row = await c.fetchone()
        if row is None or int(row[0]) < pool:
            break  # every match was ranked
        pool *= 8
    page = rows[offset : offset + limit]
    ids = [int(r[0]) for r in page]
    marks = ", ".join("?" * len(ids))
    async with db.execute(_SNIPPETS.format(ids=marks), [words_only, *ids]) as c:
        snippets = {int(i): split_snippet(str(text)) for i, text in await c.fetchall()}
    return await _hits(db, page, snippets), len(rows) > offset + limit


async def _hits(
    db: Database, page: list[tuple[Any, ...]], snippets: dict[int, Snippet]
) -> list[SearchHit]:
    """The page's rows (id, is a message, session, slug, plan) as hits, best first."""
    ids = [int(r[0]) for r in page]
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    async with db.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({marks})", ids
    ) as c:
        stored = {int(r[0]): r for r in await c.fetchall()}
    plans: dict[int, SessionPlan] = {}
    posts: dict[int, QuestionPosts] = {}
    hits: list[SearchHit] = []
    for rowid, _, session_id, slug, plan_json in page:
        if session_id not in plans:
            plans[session_id] = SessionPlan.from_json(plan_json)
        message = stored.get(int(rowid))
        if message is not None and session_id not in posts:
            posts[session_id] = await question_posts(db, session_id)
        record = None if message is None else message_record(message, posts[session_id])
        where_ = (slug, plans[session_id])
        hits.append(_hit(int(rowid), record, where_, snippets.get(int(rowid), ())))
    return hits


_ALL = 1 << 62
# bm25 costs about 5 µs a match: 2,000 keep a common word near 10 ms at 400,000 messages
# (10,000 cost 20-30 ms, and 80 ms under load); a word in more messages than this is
# ranked among its newest 2,000 (a few months of a busy community's chats).
RANKED_AT_MOST = 2_000
# Messages in a row-id range, and questions in another: a chat or a date range narrows
# both to its sessions before anything is ranked (FTS5 reads row-id bounds directly).
_IN_BOUNDS = (
    " FROM search_text WHERE search_text MATCH ? AND rowid BETWEEN ? AND ?"
    " AND rowid BETWEEN ? AND ?"
)
_SCORED = "SELECT rowid, bm25(search_text, 1.0, 0.5) AS score" + _IN_BOUNDS
_AT_MOST = (
    f"SELECT (SELECT count(*) FROM (SELECT 1{_IN_BOUNDS} LIMIT ?))"
    f" + (SELECT count(*) FROM (SELECT 1{_IN_BOUNDS} LIMIT ?))"
)
_NEWEST = f"SELECT rowid{_IN_BOUNDS} ORDER BY rowid DESC LIMIT 1 OFFSET ?"
_RANKED = (
    f"WITH x (rowid, score) AS (SELECT * FROM ({_SCORED}) UNION ALL SELECT * FROM ({_SCORED})"
    " ORDER BY 2, 1 DESC LIMIT ?)"
    " SELECT x.rowid, m.id IS NOT NULL, s.id, s.slug, s.plan_json"
    " FROM x LEFT JOIN messages m ON x.rowid > 0 AND m.id = x.rowid"
    " JOIN sessions s ON s.id = CASE WHEN x.rowid > 0 THEN m.session_id"
    f" ELSE -x.rowid / {_QUESTION_ROWS} END"
    " WHERE {where} ORDER BY x.score, x.rowid DESC LIMIT ?"
)
_SNIPPETS = (
    f"SELECT rowid, snippet(search_text, 0, '{HIT_START}', '{HIT_END}', '…', 24)"
    " FROM search_text WHERE search_text MATCH ? AND rowid IN ({ids})"
)


async def _alone(db: Database, community: str) -> bool:
    async with db.execute("SELECT 1 FROM sessions WHERE community != ? LIMIT 1", [community]) as c:
        return await c.fetchone() is None


async def _bounds(db: Database, f: SearchFilters) -> list[int] | None:
    """Row-id bounds (messages, then questions) of the sessions the filters allow; None
    when no session is left."""
    messages, questions = [1, _ALL], [-_ALL, -1]
    if not (f.chat or f.since or f.until):
        return [*messages, -_ALL, _ALL, *questions, -_ALL, _ALL]
    where, args = _filter_sql(f, sessions_only=True)
    async with db.execute(
        "SELECT min(s.id), max(s.id), min(m.id), max(m.id) FROM sessions s"
        f" LEFT JOIN messages m ON m.session_id = s.id WHERE {where}",
        args,
    ) as c:
        row = await c.fetchone()
    if row is None or row[0] is None:
        return None
    low, high = int(row[0]), int(row[1])
    first, last = (int(row[2]), int(row[3])) if row[2] is not None else (1, 0)
    n = _QUESTION_ROWS
    return [*messages, first, last, *questions, -(high * n + n - 1), -(low * n)]


def _hit(
    rowid: int, record: MessageRecord | None, where: tuple[str, SessionPlan], snippet: Snippet
) -> SearchHit:
    """A message's hit (``record``), or a question's own text (None)."""
    slug, plan = where
    texts = {q.number: q.text for q in plan.questions}
    if record is None:
        number: int | None = -rowid % _QUESTION_ROWS
        anchor = f"q{number}"
    else:
        filed = sorted(n for n in record.questions if n in texts)
        number = filed[0] if filed else None
        anchor = f"m{record.id}"
    return SearchHit(
        slug=slug,
        anchor=anchor,
        chat_title=plan.title,
        chat_starts_at=plan.starts_at,
        question=number,
        question_text=None if number is None else texts.get(number),
        author_name=None if record is None else record.author_name,
        platform=None if record is None else record.platform,
        sent_at=None if record is None else record.sent_at,
        snippet=snippet,
    )


async def chats(db: Database, community: str) -> list[ChatChoice]:
    """The community's published chats, newest first, for the page's chat filter."""
    async with db.execute(
        "SELECT slug, json_extract(plan_json, '$.title'), starts_at FROM sessions"
        " WHERE community = ? AND transcript_url IS NOT NULL ORDER BY starts_at DESC",
        (community,),
    ) as cur:
        rows = await cur.fetchall()
    return [ChatChoice(str(s).split("/", 1)[1], str(t), parse_ts(a)) for s, t, a in rows]
