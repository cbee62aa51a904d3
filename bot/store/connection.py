"""Opening the SQLite file the same way everywhere: WAL, foreign keys, a busy timeout."""

from __future__ import annotations

from pathlib import Path

import aiosqlite


async def connect(path: Path, *, autocommit: bool = False) -> aiosqlite.Connection:
    """``autocommit`` leaves transactions to the caller (``BEGIN`` ... ``COMMIT``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, isolation_level=None if autocommit else "")
    await db.execute("PRAGMA journal_mode = WAL")
    # NORMAL is durable against process crashes in WAL mode, and far faster than FULL.
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA busy_timeout = 5000")
    return db
