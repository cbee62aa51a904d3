"""The SQL of re-planning: a chat that has not started takes the current files' plan,
keeping what was already posted and what moderators changed by command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from bot.store.backend import Database, Location, open_database
from bot.store.backend.sqlite import SqliteDatabase
from bot.store.codec import ts
from bot.store.connection import transaction
from bot.timeline import PlannedStep, SessionPlan, StepKind


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """A stored session that has not started: the only kind a re-plan may change."""

    id: int
    plan: SessionPlan


async def planned_sessions(db: Database, community: str | None = None) -> list[PlannedRow]:
    """Sessions still planned and not paused, soonest first; of ``community`` alone if
    one is named (a chat's close plans its own community's next one)."""
    ours = "" if community is None else " AND community = ?"
    async with db.execute(
        "SELECT id, plan_json FROM sessions WHERE state = 'planned' AND paused_at IS NULL"
        f"{ours} ORDER BY starts_at",
        () if community is None else (community,),
    ) as cur:
        return [PlannedRow(int(i), SessionPlan.from_json(str(p))) for i, p in await cur.fetchall()]


async def planned_session(db: Database, session_id: int) -> PlannedRow | None:
    """That session if it is still planned and not paused: read again under its lock,
    since a moderator's command may have changed it since the pass listed it."""
    async with db.execute(
        "SELECT id, plan_json FROM sessions WHERE id = ? AND state = 'planned'"
        " AND paused_at IS NULL",
        (session_id,),
    ) as cur:
        found = await cur.fetchone()
    return None if found is None else PlannedRow(int(found[0]), SessionPlan.from_json(found[1]))


async def approved_suggestions(db: Database, session_id: int) -> list[str]:
    """The texts moderators approved into the session, in the order they decided them."""
    async with db.execute(
        "SELECT text FROM suggestions WHERE session_id = ? AND state = 'approved'"
        " ORDER BY decided_at, id",
        (session_id,),
    ) as cur:
        return [str(t) for (t,) in await cur.fetchall()]


async def replace_plan(
    db: Database,
    session_id: int,
    plan: SessionPlan,
    steps: list[PlannedStep],
    now: datetime,
) -> bool:
    """Put ``plan`` and its steps in place of a planned session's; False if the session
    started (or was paused) meanwhile.

    Steps already posted or skipped in any channel stay as they are; a reminder new to
    the plan whose time is past is skipped, as it would have been at planning.
    """
    async with transaction(db):
        cur = await db.execute(
            "UPDATE sessions SET plan_json = ?, ends_at = ? WHERE id = ? AND state = 'planned'"
            " AND paused_at IS NULL",
            (plan.to_json(), ts(plan.ends_at), session_id),
        )
        if cur.rowcount != 1:
            return False
        async with db.execute(
            "SELECT DISTINCT key FROM steps WHERE session_id = ? AND key IN"
            " (SELECT step_key FROM posts WHERE session_id = ?)",
            (session_id, session_id),
        ) as found:
            touched = {str(k) for (k,) in await found.fetchall()}
        async with db.execute("SELECT key FROM steps WHERE session_id = ?", (session_id,)) as c:
            before = {str(k) for (k,) in await c.fetchall()}
        await db.execute(
            "DELETE FROM steps WHERE session_id = ? AND key NOT IN"
            " (SELECT step_key FROM posts WHERE session_id = ?)",
            (session_id, session_id),
        )
        await db.executemany(
            "INSERT INTO steps (session_id, key, kind, question, seq, due_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (session_id, s.key, s.kind.value, s.question, s.seq, ts(s.due_at))
                for s in steps
                if s.key not in touched
            ],
        )
        await db.executemany(
            "INSERT OR IGNORE INTO posts (session_id, step_key, channel, state, updated_at)"
            " VALUES (?, ?, ?, 'skipped', ?)",
            [
                (session_id, s.key, channel, ts(now))
                for s in steps
                if s.kind is StepKind.REMINDER and s.key not in before and s.due_at < now
                for channel in plan.channels
            ],
        )
    return True


async def drop_planned(db: Database, session_id: int) -> bool:
    """Forget a planned session the files no longer have (a date skipped, a time moved);
    suggestions approved into it are open again, for the chat that replaces it."""
    async with transaction(db):
        await db.execute(
            "UPDATE suggestions SET state = 'open', session_id = NULL, decided_at = NULL"
            " WHERE session_id = ? AND state = 'approved'"
            " AND EXISTS (SELECT 1 FROM sessions WHERE id = ? AND state = 'planned')",
            (session_id, session_id),
        )
        cur = await db.execute(
            "DELETE FROM sessions WHERE id = ? AND state = 'planned'", (session_id,)
        )
    return cur.rowcount == 1


async def read_only(where: Location, password: str | None = None) -> Database:
    """A running bot's database, opened without writing (no migration, no lock held)."""
    if isinstance(where, Path):
        raw = await aiosqlite.connect(f"file:{quote(str(where))}?mode=ro", uri=True)
        return SqliteDatabase(raw, where, autocommit=False)
    return await open_database(where, password=password)


async def read_planned(
    where: Location, password: str | None = None
) -> list[tuple[PlannedRow, list[str]]]:
    """The planned chats of a database another process may be running on, with their
    approved suggestions, read without writing (no migration, no lock held).

    Raises ``sqlite3.Error`` for a file that is not a hashchat database."""
    db = await read_only(where, password)
    try:
        return [(row, await approved_suggestions(db, row.id)) for row in await planned_sessions(db)]
    finally:
        await db.close()
