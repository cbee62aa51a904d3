"""Searching a community's published transcripts through the FTS5 index of migration 6.

The index itself is kept by triggers (see the migration), so this module only reads. What
a transcript does not show is not in the index (deleted, hidden, opted-out, forgotten,
purged messages), and only published chats are searched, so a result always links to a
page that exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot.store.codec import parse_ts
from bot.store.transcript_rows import MESSAGE_COLUMNS, message_record, question_posts
from bot.timeline import SessionPlan

HIT_START, HIT_END = "\ue000", "\ue001"  # never in indexed text: the triggers strip them
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"\w+")
_QUESTION_ROWS = 1000  # a question's row id is -(session id * 1000 + its number)

Snippet = tuple[tuple[str, bool], ...]  # (text, is a hit) pieces; the page escapes each


def fts_query(text: str) -> str | None:
    """The user's words as an FTS5 expression that cannot fail to parse.

    Balanced double quotes keep a phrase; everything else (``*``, ``-``, ``NEAR``, ``:``,
    parentheses, a lone quote) is read as plain words: each word goes in quotes, where
    FTS5 treats it as text. None when no word is left: the page shows just the form.
    """
    parts: list[str] = []
    for match in _PHRASE_OR_WORD.finditer(text[:500]):
        words = _WORD.findall(match.group(1) if match.group(1) is not None else match.group(2))
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " ".join(parts[:32]) or None


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


def _filter_sql(f: SearchFilters) -> tuple[str, list[object]]:
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
    if f.question is not None:
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
    db: aiosqlite.Connection, text: str, filters: SearchFilters, *, offset: int, limit: int
) -> tuple[list[SearchHit], bool]:
    """One page of results, best first (bm25), and whether another page follows."""
    query = fts_query(text)
    if query is None:
        return [], False
    # In the index, so the name is matched the way text is: any case, any accents, and
    # each word by its start ("eli" finds "Élise"). A question's own row has no author.
    names = _WORD.findall((filters.author or "")[:200])[:8]
    query += "".join(f' author : "{name}" *' for name in names)
    where, args = _filter_sql(filters)
    sql = (
        "SELECT x.rowid, m.id IS NOT NULL, s.id, s.slug, s.plan_json,"
        f" snippet(search_text, 0, '{HIT_START}', '{HIT_END}', '…', 24)"
        " FROM search_text x LEFT JOIN messages m ON x.rowid > 0 AND m.id = x.rowid"
        " JOIN sessions s ON s.id = CASE WHEN x.rowid > 0 THEN m.session_id"
        f" ELSE -x.rowid / {_QUESTION_ROWS} END"
        f" WHERE search_text MATCH ? AND {where}"
        " ORDER BY bm25(search_text, 1.0, 0.5), x.rowid DESC LIMIT ? OFFSET ?"
    )
    async with db.execute(sql, [query, *args, limit + 1, max(0, offset)]) as cur:
        rows = list(await cur.fetchall())
    return [await _hit(db, row) for row in rows[:limit]], len(rows) > limit


async def _hit(db: aiosqlite.Connection, row: aiosqlite.Row) -> SearchHit:
    rowid, is_message, session_id, slug, plan_json, snippet = row
    plan = SessionPlan.from_json(plan_json)
    texts = {q.number: q.text for q in plan.questions}
    common = {"slug": slug, "chat_title": plan.title, "chat_starts_at": plan.starts_at}
    if not is_message:
        number = -int(rowid) % _QUESTION_ROWS
        return SearchHit(
            anchor=f"q{number}",
            question=number,
            question_text=texts.get(number),
            author_name=None,
            platform=None,
            sent_at=None,
            snippet=split_snippet(snippet),
            **common,
        )
    async with db.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (rowid,)) as c:
        found = await c.fetchone()
    assert found is not None
    record = message_record(found, await question_posts(db, int(session_id)))
    filed = sorted(n for n in record.questions if n in texts)
    number_or_none = filed[0] if filed else None
    return SearchHit(
        anchor=f"m{record.id}",
        question=number_or_none,
        question_text=None if number_or_none is None else texts[number_or_none],
        author_name=record.author_name,
        platform=record.platform,
        sent_at=record.sent_at,
        snippet=split_snippet(snippet),
        **common,
    )


async def chats(db: aiosqlite.Connection, community: str) -> list[ChatChoice]:
    """The community's published chats, newest first, for the page's chat filter."""
    async with db.execute(
        "SELECT slug, json_extract(plan_json, '$.title'), starts_at FROM sessions"
        " WHERE community = ? AND transcript_url IS NOT NULL ORDER BY starts_at DESC",
        (community,),
    ) as cur:
        rows = await cur.fetchall()
    return [ChatChoice(str(s).split("/", 1)[1], str(t), parse_ts(a)) for s, t, a in rows]
