"""The moderators' audit log: every action, by a moderator or a rule, as a case record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import parse_ts, ts
from bot.store.connection import transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """Who did what to whom, why and when; ``actor`` is ``platform:id`` or ``rule:name``."""

    community: str
    action: str
    actor: str
    actor_name: str
    at: datetime
    session_id: int | None = None
    target: str = ""
    reason: str = ""


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, action: Action) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "INSERT INTO moderation_actions (community, session_id, action, actor, actor_name,"
                " target, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    action.community,
                    action.session_id,
                    action.action,
                    action.actor,
                    action.actor_name,
                    action.target,
                    action.reason,
                    ts(action.at),
                ),
            )

    async def recent(self, community: str | None = None, limit: int = 50) -> list[Action]:
        """Newest first."""
        where, args = ("WHERE community = ?", (community,)) if community else ("", ())
        async with self._db.execute(
            "SELECT community, session_id, action, actor, actor_name, target, reason, created_at"
            f" FROM moderation_actions {where} ORDER BY created_at DESC, id DESC LIMIT ?",
            (*args, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            Action(
                community=c,
                session_id=s,
                action=a,
                actor=actor,
                actor_name=name,
                target=target,
                reason=reason,
                at=parse_ts(at),
            )
            for c, s, a, actor, name, target, reason, at in rows
        ]
