"""SQLite on aiosqlite: one file in WAL mode, opened the same way everywhere."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractContextManager, asynccontextmanager
from functools import lru_cache
from pathlib import Path

import aiosqlite

from bot.store.backend.base import Database, Params, Result
from bot.store.backend.gil import while_a_statement_runs


async def connect(path: Path, *, autocommit: bool = False) -> aiosqlite.Connection:
    """``autocommit`` leaves transactions to the caller (``BEGIN`` ... ``COMMIT``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, isolation_level=None if autocommit else "")
    try:
        await db.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable against process crashes in WAL mode, and far faster than FULL.
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 5000")
    except BaseException:  # a file that is no database: its worker thread would keep
        await db.close()  # the process alive after the error is reported
        raise
    return db


# Statements that return rows, read with ``execute_fetchall`` in the same trip.
_RETURNS_ROWS = re.compile(r"^\s*(?:SELECT|WITH|PRAGMA|VALUES)\b|\bRETURNING\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


@lru_cache(maxsize=512)
def _reads(sql: str) -> tuple[bool, bool]:
    """Whether ``sql`` returns rows, and whether by RETURNING: decided once per statement
    text. The message writer's insert of 500 rows is 20,000 characters long, and
    searching it for RETURNING took close to a millisecond a batch."""
    return _RETURNS_ROWS.search(sql) is not None, _RETURNING.search(sql) is not None


class SqliteDatabase(Database):
    """One aiosqlite connection; a lock keeps each unit of writes whole.

    Without the lock another coroutine's ``commit`` could land between two statements
    of a unit and commit half of it, or its ``rollback`` could undo someone else's write.
    """

    dialect = "sqlite"
    transient_errors = (aiosqlite.OperationalError,)

    def __init__(self, raw: aiosqlite.Connection, path: Path, *, autocommit: bool) -> None:
        self.raw = raw
        self.path = path
        self._autocommit = autocommit
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, *, autocommit: bool = False) -> SqliteDatabase:
        return cls(await connect(path, autocommit=autocommit), path, autocommit=autocommit)

    async def _run(self, sql: str, params: Params) -> Result:
        """One trip to the database thread per statement, whatever it is.

        A read executed in one trip and fetched in another leaves its statement active
        in between, holding a read snapshot on the shared connection; a write from
        another coroutine then has to upgrade that stale snapshot and fails at once with
        "database is locked" (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not
        cover) whenever the message writer's connection committed meanwhile.
        """
        returns_rows, returning = _reads(sql)
        if returns_rows:
            rows = [tuple(r) for r in await self.raw.execute_fetchall(sql, params)]
            return Result(rows, len(rows) if returning else -1, None)
        cur = await self.raw.execute(sql, params)  # a write: sqlite3 resets it at once
        if cur.description is None:
            return Result([], cur.rowcount, cur.lastrowid)
        async with cur:  # rows from a statement not named above: read them all now
            rows = [tuple(r) for r in await cur.fetchall()]
            return Result(rows, cur.rowcount, cur.lastrowid)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> Result:
        cur = await self.raw.executemany(sql, rows)
        return Result([], cur.rowcount, None)

    def in_a_burst(self) -> AbstractContextManager[None]:
        """The GIL handed promptly to this connection's thread (bot/store/backend/gil.py)."""
        return while_a_statement_runs

    async def insert_id(self, sql: str, params: Params = ()) -> int:
        return int((await self._run(sql, params)).lastrowid or 0)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self._lock:
            if self._autocommit:  # no implicit BEGIN on this connection: take the lock now
                await self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self.raw.rollback()
                raise
            await self.raw.commit()

    async def change_stamp(self) -> object:
        # data_version moves with other connections' commits (the message writer, another
        # process), total_changes with this connection's own.
        row = await self.fetchone("PRAGMA data_version")
        return (int(row[0]) if row else 0, self.raw.total_changes)

    async def script(self, sql: str) -> None:
        await self.raw.executescript(sql)

    async def commit(self) -> None:
        await self.raw.commit()

    async def close(self) -> None:
        await self.raw.close()
