"""What the console's moderation pages read and undo: hidden messages, mutes, the audit
log searched by who, what, when and which chat. All their SQL, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.audit import Action
from bot.store.backend import Database
from bot.store.codec import parse_ts, parse_ts_or_none, ts
from bot.store.connection import transaction


@dataclass(frozen=True, slots=True)
class HiddenMessage:
    id: int
    session_id: int
    author: str
    author_name: str
    text: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Mute:
    user: str
    until: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    """Empty fields filter nothing; ``since``/``until`` bound ``created_at`` (until excluded)."""

    community: str
    actor: str = ""
    action: str = ""
    session_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


async def hidden_messages(db: Database, community: str) -> list[HiddenMessage]:
    """A rule's or a moderator's hidden messages of the community's chats, newest first."""
    async with db.execute(
        "SELECT m.id, m.session_id, m.author_key, m.author_name, m.text, m.sent_at"
        " FROM messages m JOIN sessions s ON s.id = m.session_id"
        " WHERE s.community = ? AND m.hidden_at IS NOT NULL AND m.deleted_at IS NULL"
        " ORDER BY m.sent_at DESC, m.id DESC",
        (community,),
    ) as cur:
        rows = await cur.fetchall()
    return [HiddenMessage(i, s, a, n, t, parse_ts(at)) for i, s, a, n, t, at in rows]


async def unhide(db: Database, community: str, message_id: int) -> int | None:
    """Back into the transcript: its chat's id, or None when it is not a hidden message
    of ``community``."""
    async with db.execute(
        "SELECT m.session_id FROM messages m JOIN sessions s ON s.id = m.session_id"
        " WHERE m.id = ? AND m.hidden_at IS NOT NULL AND s.community = ?",
        (message_id, community),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    async with transaction(db):
        await db.execute("UPDATE messages SET hidden_at = NULL WHERE id = ?", (message_id,))
    return int(row[0])


async def mutes(db: Database, community: str) -> list[Mute]:
    async with db.execute(
        "SELECT user, until FROM mutes WHERE community = ? ORDER BY created_at DESC", (community,)
    ) as cur:
        return [Mute(str(u), parse_ts_or_none(until)) for u, until in await cur.fetchall()]


async def search_audit(
    db: Database, query: AuditQuery, *, limit: int, offset: int = 0
) -> list[Action]:
    """Newest first, one page of ``limit`` from ``offset``."""
    where, args = ["community = ?"], list[object]([query.community])
    if query.actor:
        where.append("(actor = ? OR actor_name = ?)")
        args += [query.actor, query.actor]
    if query.action:
        where.append("action = ?")
        args.append(query.action)
    if query.session_id is not None:
        where.append("session_id = ?")
        args.append(query.session_id)
    if query.since is not None:
        where.append("created_at >= ?")
        args.append(ts(query.since))
    if query.until is not None:
        where.append("created_at < ?")
        args.append(ts(query.until))
    async with db.execute(
        "SELECT community, session_id, action, actor, actor_name, target, reason, created_at"
        f" FROM moderation_actions WHERE {' AND '.join(where)}"
        " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        (*args, limit, offset),
    ) as cur:
        rows = await cur.fetchall()
    return [
        Action(community=c, session_id=s, action=a, actor=actor, actor_name=name,
               target=target, reason=reason, at=parse_ts(at))
        for c, s, a, actor, name, target, reason, at in rows
    ]  # fmt: skip


async def clear_host(db: Database, session_id: int) -> None:
    """No host named by hand: the rota's choice, if the series has one, comes back at the
    next planning."""
    async with transaction(db):
        await db.execute("UPDATE sessions SET host = NULL WHERE id = ?", (session_id,))
