"""Opening the SQLite file the same way everywhere: WAL, foreign keys, a busy timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from weakref import WeakKeyDictionary

import aiosqlite


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


_write_locks: WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def transaction(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """One unit of writes on a connection that many coroutines share.

    Without the lock another coroutine's ``commit`` could land between two statements
    of a unit and commit half of it, or its ``rollback`` could undo someone else's
    write. Units must not nest: a unit calls only statements, never another unit.
    """
    lock = _write_locks.setdefault(db, asyncio.Lock())
    async with lock:
        try:
            yield
        except BaseException:
            await db.rollback()
            raise
        await db.commit()
