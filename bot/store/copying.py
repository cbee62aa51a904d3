"""Copying an SQLite database into an empty PostgreSQL one, and proving the copy whole.

Tables go over in foreign-key order, in batches; a column that points into its own table
(a suggestion merged into another) is filled in a second pass. Each table is then checked
on both sides: its row count, and a SHA-256 over its rows encoded and sorted in Python, so
neither engine's collation or types decide the order.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from bot.store.backend import Database

BATCH = 500
_INTERNAL = ("hashchat_schema",)
# Kept by the target's own triggers as the messages and sessions arrive (migrations 6
# and 7): the search index (on SQLite an FTS5 table and its shadow tables, and how far it
# has caught up, migration 13) and the numbers' tallies. Copied, they would clash with
# what the triggers wrote.
_DERIVED = ("search_text", "search_mark", "chat_people", "chat_answers")


def _derived(name: str) -> bool:
    return name in _DERIVED or name.startswith("search_text_")


@dataclass(frozen=True, slots=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


class TargetNotEmpty(Exception):
    """The target already holds data: copying into it would mix two communities' records."""


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    parents: frozenset[str]  # other tables its foreign keys point to
    self_refs: tuple[str, ...]  # its columns that point into itself


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _tables(source: Database) -> list[_Table]:
    names = [
        r[0]
        for r in await source.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    tables = []
    for name in names:
        if _derived(name):
            continue
        columns = tuple(r[1] for r in await source.fetchall(f"PRAGMA table_info({_q(name)})"))
        keys = await source.fetchall(f"PRAGMA foreign_key_list({_q(name)})")
        parents = frozenset(k[2] for k in keys if k[2] != name)
        self_refs = tuple(k[3] for k in keys if k[2] == name)
        tables.append(_Table(name, columns, parents, self_refs))
    return _in_key_order(tables)


def _in_key_order(tables: list[_Table]) -> list[_Table]:
    """Parents before children, so every foreign key finds its row."""
    done: list[_Table] = []
    left = list(tables)
    while left:
        ready = [t for t in left if t.parents <= {d.name for d in done}]
        if not ready:
            raise RuntimeError(f"foreign keys in a cycle: {[t.name for t in left]}")
        done += ready
        left = [t for t in left if t not in ready]
    return done


async def non_empty(target: Database) -> list[tuple[str, int]]:
    """The target's tables that hold rows (its migrations' bookkeeping aside)."""
    names = [
        r[0]
        for r in await target.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    ]
    found = []
    for name in names:
        if name in _INTERNAL or _derived(name):
            continue
        row = await target.fetchone(f"SELECT COUNT(*) FROM {_q(name)}")
        if row and row[0]:
            found.append((name, int(row[0])))
    return found


async def _batches(db: Database, sql: str) -> AsyncIterator[list[tuple[Any, ...]]]:
    rows = await db.fetchall(sql)
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


async def copy_tables(
    source: Database, target: Database, *, progress: Callable[[str, int], None] | None = None
) -> list[str]:
    """Copy every table; raise :class:`TargetNotEmpty` rather than write into data."""
    filled = await non_empty(target)
    if filled:
        listed = ", ".join(f"{name} ({n} rows)" for name, n in filled)
        raise TargetNotEmpty(f"the target database is not empty: {listed}")
    tables = await _tables(source)
    async with target.transaction():
        for table in tables:
            cols = ", ".join(_q(c) for c in table.columns)
            marks = ", ".join("?" * len(table.columns))
            insert = f"INSERT INTO {_q(table.name)} ({cols}) VALUES ({marks})"
            later = [table.columns.index(c) for c in table.self_refs]
            count = 0
            async for batch in _batches(source, f"SELECT {cols} FROM {_q(table.name)}"):
                rows = [tuple(None if i in later else v for i, v in enumerate(r)) for r in batch]
                await target.executemany(insert, rows)
                count += len(rows)
            for column in table.self_refs:
                rows = await source.fetchall(
                    f"SELECT {_q(column)}, id FROM {_q(table.name)} WHERE {_q(column)} IS NOT NULL"
                )
                await target.executemany(
                    f"UPDATE {_q(table.name)} SET {_q(column)} = ? WHERE id = ?", rows
                )
            if "id" in table.columns:  # the next id the target hands out follows the last
                await target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {_q(table.name)}), 0) + 1, false)"
                )
            if progress:
                progress(table.name, count)
    return [t.name for t in tables]


def _encode(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return str(int(value))
    return f"{type(value).__name__[0]}:{value}"


async def checksum(db: Database, table: str, columns: tuple[str, ...]) -> tuple[int, str]:
    """(rows, SHA-256) of a table, the same on either engine for the same data."""
    cols = ", ".join(_q(c) for c in columns)
    lines = sorted(
        "\t".join(_encode(v) for v in row)
        for row in await db.fetchall(f"SELECT {cols} FROM {_q(table)}")
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return len(lines), digest.hexdigest()


async def verify(source: Database, target: Database) -> list[TableCheck]:
    checks = []
    for table in await _tables(source):
        source_rows, source_sum = await checksum(source, table.name, table.columns)
        target_rows, target_sum = await checksum(target, table.name, table.columns)
        checks.append(TableCheck(table.name, source_rows, target_rows, source_sum, target_sum))
    return checks
