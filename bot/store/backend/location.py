"""Where the database is: a file path (SQLite) or a ``postgresql://`` URL."""

from __future__ import annotations

from pathlib import Path

from bot.database_url import DatabaseUrl
from bot.store.backend.base import Database

__all__ = ["DatabaseUrl", "Location", "open_database"]


Location = Path | DatabaseUrl


async def open_database(
    where: Location, *, autocommit: bool = False, password: str | None = None
) -> Database:
    """Open the database; ``autocommit`` (SQLite) leaves every unit to ``transaction()``."""
    if isinstance(where, DatabaseUrl):
        from bot.store.backend.postgres import PostgresDatabase  # psycopg only when used

        return await PostgresDatabase.open(where.url, password=password, where=where.url)
    from bot.store.backend.sqlite import SqliteDatabase

    return await SqliteDatabase.open(where, autocommit=autocommit)
