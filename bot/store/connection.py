"""Opening the database and running units of writes, whichever the backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.store.backend import Database
from bot.store.backend.sqlite import connect

__all__ = ["connect", "transaction"]


@asynccontextmanager
async def transaction(db: Database) -> AsyncIterator[None]:
    """One unit of writes on a database that many coroutines share.

    Units must not nest: a unit calls only statements, never another unit.
    """
    async with db.transaction():
        yield
