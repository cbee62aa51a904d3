"""The console's rows: one-time login links, sessions and per-chat agenda overrides.

Links and sessions are stored by the sha256 of their secret only, so reading the
database (a backup, a copy sent for a bug report) never lets anyone in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.store.backend import Database
from bot.store.codec import parse_ts, ts
from bot.store.connection import transaction


class Redeemed(Enum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who a link or a session belongs to, and the community it was asked for in."""

    user: str  # platform:id
    name: str
    community: str


@dataclass(frozen=True, slots=True)
class SessionRow:
    visitor: Visitor
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Override:
    agenda: str  # TOML text, checked by the agenda validator before it was stored
    updated_by: str
    updated_at: datetime


class ConsoleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_link(self, digest: str, who: Visitor, now: datetime, expires: datetime) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "INSERT INTO console_links (hash, community, user, user_name, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (digest, who.community, who.user, who.name, ts(now), ts(expires)),
            )

    async def links_since(self, since: datetime, user: str | None = None) -> int:
        """How many links were issued since ``since``, to ``user`` or to anyone."""
        sql = "SELECT COUNT(*) FROM console_links WHERE created_at >= ?"
        args: tuple[str, ...] = (ts(since),)
        if user is not None:
            sql, args = sql + " AND user = ?", (*args, user)
        async with self._db.execute(sql, args) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def redeem(self, digest: str, now: datetime) -> tuple[Redeemed, Visitor | None]:
        """Use a link once: the check and the mark are one unit, so two tabs opening the
        same link at once cannot both log in."""
        async with transaction(self._db):
            async with self._db.execute(
                "SELECT community, user, user_name, expires_at, used_at FROM console_links"
                " WHERE hash = ?",
                (digest,),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return Redeemed.UNKNOWN, None
            community, user, name, expires, used = row
            if used is not None:
                return Redeemed.USED, None
            if parse_ts(expires) <= now:
                return Redeemed.EXPIRED, None
            await self._db.execute(
                "UPDATE console_links SET used_at = ? WHERE hash = ?", (ts(now), digest)
            )
        return Redeemed.OK, Visitor(user, name, community)

    async def open_session(
        self, digest: str, who: Visitor, csrf: str, now: datetime, expires: datetime
    ) -> None:
        async with transaction(self._db):
            await self._db.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (ts(now),))
            await self._db.execute(
                "INSERT INTO console_sessions (hash, user, user_name, community, csrf,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (digest, who.user, who.name, who.community, csrf, ts(now), ts(expires)),
            )

    async def session(self, digest: str, now: datetime) -> SessionRow | None:
        async with self._db.execute(
            "SELECT user, user_name, community, csrf, expires_at FROM console_sessions"
            " WHERE hash = ? AND expires_at > ?",
            (digest, ts(now)),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        user, name, community, csrf, expires = row
        return SessionRow(Visitor(user, name, community), csrf, parse_ts(expires))

    async def end_session(self, digest: str) -> None:
        async with transaction(self._db):
            await self._db.execute("DELETE FROM console_sessions WHERE hash = ?", (digest,))

    async def end_sessions_of(self, user: str) -> int:
        """``logout`` sent in a chat: every console session of that person ends."""
        async with transaction(self._db):
            cur = await self._db.execute("DELETE FROM console_sessions WHERE user = ?", (user,))
            return cur.rowcount

    async def override(self, community: str, series: str, starts_at: datetime) -> Override | None:
        async with self._db.execute(
            "SELECT agenda, updated_by, updated_at FROM agenda_overrides"
            " WHERE community = ? AND series = ? AND starts_at = ?",
            (community, series, ts(starts_at)),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else Override(row[0], row[1], parse_ts(row[2]))

    async def set_override(
        self, community: str, series: str, starts_at: datetime, agenda: str, by: str, now: datetime
    ) -> None:
        async with transaction(self._db):
            await self._db.execute(
                "INSERT INTO agenda_overrides (community, series, starts_at, agenda, updated_by,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (community, series, starts_at)"
                " DO UPDATE SET agenda = excluded.agenda, updated_by = excluded.updated_by,"
                " updated_at = excluded.updated_at",
                (community, series, ts(starts_at), agenda, by, ts(now)),
            )
