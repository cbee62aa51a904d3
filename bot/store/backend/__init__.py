"""The seam between the store modules and a database engine: SQLite (default) or PostgreSQL.

Store modules write SQLite-flavoured SQL (``?`` placeholders, ``INSERT OR IGNORE``) and run
it through a :class:`~bot.store.backend.base.Database`; the PostgreSQL backend translates it
in one place (:mod:`bot.store.backend.dialect`). Pick one with :func:`open_database`.

The rule for store modules: take a ``Database`` (never an aiosqlite connection); write
inside ``async with transaction(db)``; get a new row's id with ``db.insert_id(...)``
(no ``cur.lastrowid``); no SQLite-only functions, ``PRAGMA`` or ``rowid`` outside
``migrations.py``; new tables in a new migration, SQLite DDL (``INTEGER PRIMARY KEY``
for ids), or a ``Dialects`` pair when the translation does not fit.
"""

from __future__ import annotations

from bot.store.backend.base import Database, Result
from bot.store.backend.location import DatabaseUrl, Location, open_database

__all__ = ["Database", "DatabaseUrl", "Location", "Result", "open_database"]
