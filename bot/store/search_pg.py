"""Search on PostgreSQL: the same results as FTS5's, from migration 6's ``tsvector`` index.

The user's words are parsed exactly as for SQLite (:func:`bot.store.search.query_parts`:
phrases kept, syntax read as words), then written as a ``tsquery`` of quoted lexemes, so
no input can make it fail to parse. Ranking is ``ts_rank`` (the text weighs more than the
author's name), newest first among equals. The snippet is cut in Python around the first
matching word, with the same folding as the index, and returned as pieces the page escapes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.store.backend import Database
from bot.store.fold import fold

_WORD = re.compile(r"\w+")
_AROUND = 8  # words before the first hit
_WIDE = 24  # words in a snippet, as FTS5's snippet() is asked for

Snippet = tuple[tuple[str, bool], ...]


def tsquery(parts: Sequence[Sequence[str]]) -> str:
    """``[["shared", "decisions"], ["tools"]]`` -> ``('shared' <-> 'decisions') & ('tools')``."""
    return " & ".join("(" + " <-> ".join(f"'{w}'" for w in words) + ")" for words in parts)


def author_tsquery(names: Sequence[str]) -> str:
    """Words starting the author's name, the last by its start: ``'ann' <-> 'eli':*``."""
    quoted = [f"'{n}'" for n in names]
    quoted[-1] += ":*"
    return " <-> ".join(quoted)


def snippet(text: str, words: set[str]) -> Snippet:
    """About 24 words of ``text`` from a little before the first hit, hits marked."""
    tokens = list(_WORD.finditer(text))
    if not tokens:
        return ((text, False),) if text else ()
    hits = {i for i, t in enumerate(tokens) if fold(t.group()) in words}
    start = max(0, min(hits, default=0) - _AROUND)
    end = min(len(tokens), start + _WIDE)
    pieces: list[tuple[str, bool]] = [("…", False)] if start else []
    at = 0 if start == 0 else tokens[start].start()
    for i in range(start, end):
        if i in hits:
            token = tokens[i]
            if token.start() > at:
                pieces.append((text[at : token.start()], False))
            pieces.append((token.group(), True))
            at = token.end()
    stop = len(text) if end == len(tokens) else tokens[end - 1].end()
    if stop > at:
        pieces.append((text[at:stop], False))
    if end < len(tokens):
        pieces.append(("…", False))
    return tuple(pieces)


_RANKED = (
    "WITH x (rid, score) AS (SELECT t.id, ts_rank(t.doc, to_tsquery('simple', hashchat_fold(?)))"
    " FROM search_text t WHERE t.doc @@ to_tsquery('simple', hashchat_fold(?)) {who})"
    " SELECT x.rid, m.id IS NOT NULL, s.id, s.slug, s.plan_json"
    " FROM x LEFT JOIN messages m ON x.rid > 0 AND m.id = x.rid"
    " JOIN sessions s ON s.id = CASE WHEN x.rid > 0 THEN m.session_id ELSE -x.rid / 1000 END"
    " WHERE {where} ORDER BY x.score DESC, x.rid DESC LIMIT ?"
)
_WHO = "AND t.who @@ to_tsquery('simple', hashchat_fold(?))"


async def ranked(
    db: Database,
    parts: Sequence[Sequence[str]],
    names: Sequence[str],
    where: tuple[str, list[object]],
    wanted: int,
) -> list[tuple[Any, ...]]:
    """The first ``wanted`` matches (id, is a message, session, slug, plan) allowed by the
    filters' ``where`` (written over ``x.rowid``, ``m`` and ``s``)."""
    query = tsquery(parts)
    who, args = ("", []) if not names else (_WHO, [author_tsquery(names)])
    sql = _RANKED.format(who=who, where=where[0].replace("x.rowid", "x.rid"))
    return await db.fetchall(sql, [query, query, *args, *where[1], wanted])


async def snippets(
    db: Database, ids: Sequence[int], parts: Sequence[Sequence[str]]
) -> dict[int, Snippet]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    bodies = await db.fetchall(f"SELECT id, body FROM search_text WHERE id IN ({marks})", ids)
    words = {fold(w) for part in parts for w in part}
    return {int(i): snippet(str(body), words) for i, body in bodies}
