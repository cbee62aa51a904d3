"""Sign-ups for a series' reminders and the host of each session: all their SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import ts
from bot.store.connection import transaction


@dataclass(frozen=True, slots=True)
class Signup:
    """One person to remind; ``channel`` is where they signed up, on their own platform."""

    user: str  # platform:id
    user_name: str
    channel: str


class SignupStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        community: str,
        series: str,
        *,
        user: str,
        user_name: str,
        channel: str,
        now: datetime,
    ) -> bool:
        """True for a new sign-up; signing up again keeps the original date but moves the
        reminders to the channel used this time, since that is where the person is now."""
        async with transaction(self._db):
            cur = await self._db.execute(
                "INSERT OR IGNORE INTO signups (community, series, user, user_name, channel,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (community, series, user, user_name, channel, ts(now)),
            )
            added = cur.rowcount == 1
            if not added:
                await self._db.execute(
                    "UPDATE signups SET user_name = ?, channel = ?"
                    " WHERE community = ? AND series = ? AND user = ?",
                    (user_name, channel, community, series, user),
                )
        return added

    async def remove(self, community: str, series: str, user: str) -> bool:
        """True if the person was signed up."""
        async with transaction(self._db):
            cur = await self._db.execute(
                "DELETE FROM signups WHERE community = ? AND series = ? AND user = ?",
                (community, series, user),
            )
        return cur.rowcount == 1

    async def of(self, community: str, series: str) -> list[Signup]:
        """In sign-up order, so a reminder names people in a stable order."""
        async with self._db.execute(
            "SELECT user, user_name, channel FROM signups WHERE community = ? AND series = ?"
            " ORDER BY created_at, user",
            (community, series),
        ) as cur:
            return [Signup(str(u), str(n), str(c)) for u, n, c in await cur.fetchall()]

    async def get(self, community: str, series: str, user: str) -> Signup | None:
        async with self._db.execute(
            "SELECT user, user_name, channel FROM signups"
            " WHERE community = ? AND series = ? AND user = ?",
            (community, series, user),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else Signup(str(row[0]), str(row[1]), str(row[2]))


class HostRota:
    """Who hosts each session, kept on the session so a handover survives re-planning."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def assign(self, session_id: int, host: str) -> None:
        """A handover: replaces whoever was host."""
        async with transaction(self._db):
            await self._db.execute("UPDATE sessions SET host = ? WHERE id = ?", (host, session_id))

    async def assign_if_unset(self, session_id: int, host: str) -> bool:
        """The rota's choice, which must not undo a handover when planning runs again."""
        async with transaction(self._db):
            cur = await self._db.execute(
                "UPDATE sessions SET host = ? WHERE id = ? AND host IS NULL", (host, session_id)
            )
        return cur.rowcount == 1

    async def host(self, session_id: int) -> str | None:
        async with self._db.execute("SELECT host FROM sessions WHERE id = ?", (session_id,)) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else str(row[0])

    async def occurrence_index(self, community: str, series: str, starts_at: datetime) -> int:
        """How many sessions of the series this database has seen start earlier: the
        place in the rota, counted from the first session this bot planned."""
        async with self._db.execute(
            "SELECT COUNT(*) FROM sessions WHERE community = ? AND series = ? AND starts_at < ?",
            (community, series, ts(starts_at)),
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])
