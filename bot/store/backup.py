"""A consistent copy of the SQLite database while the bot runs.

SQLite's online backup API copies page by page and restarts when a writer changes a page
it has copied, so the copy is one moment's state even with the bot writing; a plain file
copy of a WAL database can miss what is still in the ``-wal`` file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path


def _backup(source: Path, target: Path) -> int:
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=1024)
            (check,) = dst.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(f"the copy fails its integrity check: {check}")
            (tables,) = dst.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()
            return int(tables)
        finally:
            dst.close()
    finally:
        src.close()


async def backup(source: Path, target: Path) -> int:
    """Copy ``source`` into the new file ``target``; the number of tables copied.

    Written to a temporary name first and renamed, so ``target`` is either a whole,
    checked copy or absent.
    """
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        tables = await asyncio.to_thread(_backup, source, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return tables
