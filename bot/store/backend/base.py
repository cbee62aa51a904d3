"""What every backend offers the store modules: statements, results and transactions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

Params = Sequence[Any]
Dialect = Literal["sqlite", "postgresql"]


@dataclass(slots=True)
class Result:
    """A finished statement: its rows (read at once), how many rows it changed, and for
    SQLite the id it inserted. Shaped like a DB-API cursor, so ``cur.fetchone()`` and
    ``cur.rowcount`` read the same on both backends."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int = -1
    lastrowid: int | None = None
    _next: int = 0

    async def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self.rows):
            return None
        self._next += 1
        return self.rows[self._next - 1]

    async def fetchall(self) -> list[tuple[Any, ...]]:
        rest, self._next = self.rows[self._next :], len(self.rows)
        return rest


class Statement(Awaitable[Result], AbstractAsyncContextManager[Result]):
    """``await db.execute(...)`` or ``async with db.execute(...) as cur``: both forms that
    aiosqlite accepts, so store code written against it runs unchanged on PostgreSQL."""

    def __init__(self, run: Awaitable[Result]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, Result]:
        return self._run.__await__()

    async def __aenter__(self) -> Result:
        return await self._run

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class Database(ABC):
    """One database, shared by the coroutines of a process.

    Statements outside :meth:`transaction` commit on their own (PostgreSQL) or join the
    connection's open unit (SQLite, as before): write only inside a transaction. Inside
    one, every statement of the same task runs in that transaction.
    """

    dialect: Dialect
    # Errors worth retrying: the database was busy or the connection dropped.
    transient_errors: tuple[type[BaseException], ...]

    def in_a_burst(self) -> AbstractContextManager[None]:
        """Around the statements of a burst (the message writer's big batches): whatever
        keeps this database's work flowing while the event loop is busy. Nothing, unless
        a backend says otherwise."""
        return nullcontext()

    @abstractmethod
    async def _run(self, sql: str, params: Params) -> Result: ...

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Params]) -> Result: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[None]:
        """One unit of writes; rolled back if the block raises. Units must not nest."""

    async def write(self, sql: str, params: Params = ()) -> Result:
        """One statement as a unit of writes of its own (it must not be inside one)."""
        async with self.transaction():
            return await self._run(sql, params)

    @abstractmethod
    async def insert_id(self, sql: str, params: Params = ()) -> int:
        """Run an ``INSERT`` into a table with an ``id`` column; return the new row's id."""

    @abstractmethod
    async def script(self, sql: str) -> None:
        """Run several statements without parameters (DDL); on PostgreSQL inside the
        task's open transaction, if any (migrations run each in one)."""

    @abstractmethod
    async def change_stamp(self) -> object:
        """A value that changes whenever anything was committed since it was read, by any
        connection: equal stamps mean a cached reading still holds."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def commit(self) -> None:
        """Commit statements run outside :meth:`transaction` (SQLite); PostgreSQL has
        committed each already. Prefer :meth:`transaction` in new code."""

    def execute(self, sql: str, params: Params = ()) -> Statement:
        return Statement(self._run(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        return await (await self._run(sql, params)).fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return (await self._run(sql, params)).rows
