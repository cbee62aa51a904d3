"""The leadership lease: one row saying which instance runs the chats, until when, and
under which fencing token.

Times are the DATABASE's (milliseconds since the epoch, read in the statement itself),
never the instances' own clocks: two machines whose clocks disagree still agree on
whether the lease has run out. The token goes up by one at every takeover, so a write
made under an old token can be told from one made under the current lease.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.backend import Database

# The database's clock in milliseconds; clock_timestamp(), not now(): now() is the
# start of the transaction, and a renewal must count from the moment it is made.
_NOW = {
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    "postgresql": "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
}


@dataclass(frozen=True, slots=True)
class Lease:
    """The row as it stands: who holds it, under which token, for how many more ms."""

    holder: str
    token: int
    remaining_ms: int


def now_sql(db: Database) -> str:
    return _NOW[db.dialect]


class LeaseStore:
    """The SQL of the lease; the decisions (when to renew, when to give up) are in
    bot/leadership.py."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def acquire(
        self, holder: str, lease_seconds: float, *, dead: str | None = None
    ) -> int | None:
        """Take the lease if it is free or has run out, or extend it if ``holder``
        holds it; return the token it is held under, or None if someone else holds it.

        One statement decides, so two instances asking at once cannot both win: the
        row's write lock makes the second one see the first one's fresh lease.
        """
        now = now_sql(self.db)
        async with self.db.transaction():
            # The first instance to ask writes the row (the migration leaves the table
            # empty, so a fresh database counts as empty for `hashchat migrate`).
            await self.db.execute(
                "INSERT OR IGNORE INTO leadership (id, holder, token, expires_at)"
                " VALUES (1, '', 0, 0)"
            )
            row = await self.db.fetchone(
                "UPDATE leadership SET"
                " token = CASE WHEN holder = ? THEN token ELSE token + 1 END,"
                f" holder = ?, expires_at = {now} + ?"
                f" WHERE id = 1 AND (holder = ? OR expires_at <= {now} OR holder = ?)"
                " RETURNING token",
                (holder, holder, round(lease_seconds * 1000), holder, dead or holder),
            )
        return None if row is None else int(row[0])

    async def release(self, holder: str) -> None:
        """End the lease now if ``holder`` holds it (a clean stop): a standby need not
        wait for it to run out. The token stays, so the next leader's is higher."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE leadership SET expires_at = 0 WHERE id = 1 AND holder = ?", (holder,)
            )

    async def carries(self, token: int) -> bool:
        """The lease is still under ``token``: no other instance has taken over since."""
        lease = await self.current()
        return lease is not None and lease.token == token

    async def current(self) -> Lease | None:
        row = await self.db.fetchone(
            f"SELECT holder, token, expires_at - {now_sql(self.db)} FROM leadership WHERE id = 1"
        )
        return None if row is None else Lease(str(row[0]), int(row[1]), int(row[2]))


def fenced_claim_sql(db: Database) -> str:
    """The posts claim, made only while the lease row still carries the claimer's token.

    On PostgreSQL the lease row is read ``FOR SHARE``: a takeover (an UPDATE of that
    row) waits for the claim's transaction, and a claim waits for a takeover under way,
    so a claim never commits under a token that has already been replaced. On SQLite
    the single statement runs under the database's one write lock, with the same effect.
    """
    lock = " FOR SHARE" if db.dialect == "postgresql" else ""
    return (
        "INSERT OR IGNORE INTO posts (session_id, step_key, channel, state, posted_at,"
        " updated_at) SELECT ?, ?, ?, 'sending', ?, ?"
        f" WHERE EXISTS (SELECT 1 FROM leadership WHERE id = 1 AND token = ?{lock})"
    )
