"""PostgreSQL on psycopg 3 and its async pool; SQL comes translated by ``dialect``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from bot.store.backend import dialect
from bot.store.backend.base import Database, Params, Result

Connection = psycopg.AsyncConnection[tuple[Any, ...]]


class PostgresDatabase(Database):
    """A pool of autocommit connections. A transaction holds one connection for the
    task that opened it: a context variable routes that task's statements to it, so the
    store modules' code reads the same as on SQLite."""

    dialect = "postgresql"
    transient_errors = (psycopg.OperationalError,)

    def __init__(self, pool: AsyncConnectionPool[Connection], where: str) -> None:
        self.pool = pool
        self.where = where  # the URL without a password, for messages
        # (task, connection) of the open transaction: a task started inside one inherits
        # the variable but not the transaction.
        self._current: ContextVar[tuple[object, Connection] | None] = ContextVar(
            f"pg-{id(self)}", default=None
        )

    def _in_transaction(self) -> Connection | None:
        current = self._current.get()
        if current is None or current[0] is not asyncio.current_task():
            return None
        return current[1]

    @classmethod
    async def open(
        cls, conninfo: str, *, password: str | None, where: str, max_size: int = 10
    ) -> PostgresDatabase:
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": 10}
        if password is not None:
            kwargs["password"] = password
        try:  # once by hand: the pool would only say that it timed out, not why
            probe = await psycopg.AsyncConnection.connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            raise ConnectionError(f"cannot connect to the database {where}: {exc}") from None
        await probe.close()
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            conninfo, kwargs=kwargs, min_size=1, max_size=max_size, open=False, timeout=15
        )
        await pool.open()  # its first connection is made in the background meanwhile
        return cls(pool, where)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        current = self._in_transaction()
        if current is not None:
            yield current
        else:
            async with self.pool.connection() as conn:
                yield conn

    async def _run(self, sql: str, params: Params) -> Result:
        async with self._connection() as conn, conn.cursor() as cur:
            await cur.execute(dialect.query(sql), tuple(params))
            rows = await cur.fetchall() if cur.description is not None else []
            return Result(rows, cur.rowcount, None)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> Result:
        async with self._connection() as conn, conn.cursor() as cur:
            await cur.executemany(dialect.query(sql), [tuple(r) for r in rows])
            return Result([], cur.rowcount, None)

    async def insert_id(self, sql: str, params: Params = ()) -> int:
        result = await self._run(f"{sql} RETURNING id", params)
        return int(result.rows[0][0])

    async def write(self, sql: str, params: Params = ()) -> Result:
        # On an autocommit connection one statement is a transaction by itself: one
        # round trip instead of BEGIN, the statement and COMMIT.
        if self._in_transaction() is not None:
            raise RuntimeError("store transactions must not nest")
        return await self._run(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self._in_transaction() is not None:
            raise RuntimeError("store transactions must not nest")
        async with self.pool.connection() as conn, conn.transaction():
            token = self._current.set((asyncio.current_task(), conn))
            try:
                yield
            finally:
                self._current.reset(token)

    async def change_stamp(self) -> object:
        # The snapshot (oldest running transaction, next transaction id, those running)
        # moves whenever any transaction that wrote has started or ended.
        row = await self.fetchone("SELECT pg_current_snapshot()::text")
        return None if row is None else str(row[0])

    async def script(self, sql: str) -> None:
        async with self._connection() as conn:
            await conn.execute(sql.encode())  # no parameters: several statements at once

    async def commit(self) -> None:
        return None  # autocommit: every statement outside a transaction is committed

    async def close(self) -> None:
        await self.pool.close()
