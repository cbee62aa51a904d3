"""The schedule's exceptions a moderator made in the console: all their SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.store.backend import Database, Location
from bot.store.codec import parse_ts, parse_ts_or_none, ts, ts_or_none
from bot.store.connection import transaction

Kind = Literal["skip", "move", "add"]


@dataclass(frozen=True, slots=True)
class ScheduleException:
    """``skip``: the chat at ``starts_at`` does not run; ``move``: it starts at
    ``new_start`` instead; ``add``: an extra chat of the series at ``new_start``."""

    id: int
    community: str
    series: str
    kind: Kind
    starts_at: datetime | None
    new_start: datetime | None
    created_by: str
    created_at: datetime


_COLUMNS = "id, community, series, kind, starts_at, new_start, created_by, created_at"


def _row(row: tuple[object, ...]) -> ScheduleException:
    i, community, series, kind, starts, new, by, at = row
    assert kind in ("skip", "move", "add")
    return ScheduleException(
        int(str(i)), str(community), str(series), kind,
        parse_ts_or_none(None if starts is None else str(starts)),
        parse_ts_or_none(None if new is None else str(new)),
        str(by), parse_ts(str(at)),
    )  # fmt: skip


class ScheduleExceptions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        community: str,
        series: str,
        kind: Kind,
        *,
        starts_at: datetime | None,
        new_start: datetime | None,
        by: str,
        at: datetime,
    ) -> None:
        async with transaction(self._db):
            await self._db.execute(
                f"INSERT INTO schedule_exceptions ({_COLUMNS.removeprefix('id, ')})"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (community, series, kind, ts_or_none(starts_at), ts_or_none(new_start), by,
                 ts(at)),
            )  # fmt: skip

    async def of(self, community: str | None = None) -> list[ScheduleException]:
        """Oldest first (a later exception about the same chat wins); all with None."""
        where, args = ("WHERE community = ?", (community,)) if community else ("", ())
        async with self._db.execute(
            f"SELECT {_COLUMNS} FROM schedule_exceptions {where} ORDER BY id", args
        ) as cur:
            return [_row(r) for r in await cur.fetchall()]

    async def remove(self, community: str, exception_id: int) -> bool:
        async with transaction(self._db):
            cur = await self._db.execute(
                "DELETE FROM schedule_exceptions WHERE id = ? AND community = ?",
                (exception_id, community),
            )
        return cur.rowcount == 1


async def read_exceptions(where: Location) -> list[ScheduleException]:
    """Every exception in the database of a bot that may be running, read without writing;
    none in a database older than the table."""
    from bot.store.replanning import read_only  # one way to open a running bot's database

    db = await read_only(where)
    try:
        return await ScheduleExceptions(db).of()
    except db.transient_errors:  # no such table: made before the console's exceptions
        return []
    finally:
        await db.close()
