"""The seam between the store modules and a database engine: SQLite (default) or PostgreSQL.

Store modules write SQLite-flavoured SQL (``?`` placeholders, ``INSERT OR IGNORE``) and run
it through a :class:`~bot.store.backend.base.Database`; the PostgreSQL backend translates it
in one place (:mod:`bot.store.backend.dialect`). Pick one with :func:`open_database`.
"""

from __future__ import annotations

from bot.store.backend.base import Database, Result
from bot.store.backend.location import DatabaseUrl, Location, open_database

__all__ = ["Database", "DatabaseUrl", "Location", "Result", "open_database"]
