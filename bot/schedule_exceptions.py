"""The schedule as moderators changed it in the console: the config's occurrences, with a
date skipped, one chat moved or a one-off added on top. The planner asks here, so an
exception reaches a chat not yet started at the next pass (the console runs one at once).

Kept in the store, not written into the config: a skip or a move is about one date, made
by a moderator without a shell, and must not need a reload or touch the TOML's comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.planning import Upcoming, chat_duration, upcoming
from bot.store import Store
from bot.store.schedule_exceptions import (
    ScheduleException,
    ScheduleExceptions,
    read_exceptions,
)


def apply_exceptions(
    config: Config,
    found: Sequence[Upcoming],
    exceptions: Sequence[ScheduleException],
    now: datetime,
    per_series: int,
) -> list[Upcoming]:
    """``found`` changed by ``exceptions`` (oldest first, so a later one wins), then the
    first ``per_series`` of each series still running or to come, soonest first."""
    communities = {c.id: c for c in config.communities}
    chats = {(u.community.id, u.series_id, u.starts_at): u for u in found}
    for e in exceptions:
        community = communities.get(e.community)
        if community is None or e.series not in {
            *(s.id for s in community.series),
            *(o.id for o in community.sessions),
        }:
            continue  # a series since removed from the config: nothing to change
        if e.kind in ("skip", "move") and e.starts_at is not None:
            chats.pop((e.community, e.series, e.starts_at), None)
        if e.kind in ("move", "add") and e.new_start is not None:
            chats[(e.community, e.series, e.new_start)] = Upcoming(community, e.series, e.new_start)
    kept: list[Upcoming] = []
    counts: dict[tuple[str, str], int] = {}
    for u in sorted(chats.values(), key=lambda u: u.starts_at):
        key = (u.community.id, u.series_id)
        if u.starts_at + chat_duration(u.community, u.series_id) <= now:
            continue
        if counts.get(key, 0) < per_series:
            counts[key] = counts.get(key, 0) + 1
            kept.append(u)
    return kept


async def upcoming_chats(
    config: Config, store: Store, now: datetime, per_series: int = 1, only: str | None = None
) -> list[Upcoming]:
    """As ``planning.upcoming``, with the console's exceptions applied; ``only``: of that
    community alone."""
    exceptions = await ScheduleExceptions(store.db).of()
    if only is not None:
        exceptions = [e for e in exceptions if e.community == only]
    found = upcoming(config, now, per_series + len(exceptions), only)  # skips leave room
    return apply_exceptions(config, found, exceptions, now, per_series)


async def exception_lines(config: Config) -> list[str]:
    """The exceptions in force in ``config``'s database, one line each, for ``hashchat
    check`` and ``schedule`` (which read the files, and so would not show them)."""
    database = config.database
    zones = {c.id: ZoneInfo(c.timezone) for c in config.communities}
    lines = []
    for e in await read_exceptions(database):
        zone = zones.get(e.community)
        if zone is None:
            continue
        old, new = (
            "" if t is None else f"{t.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"
            for t in (e.starts_at, e.new_start)
        )
        what = {"skip": f"skips {old}", "move": f"moves {old} to {new}", "add": f"adds {new}"}
        lines.append(f"{e.community}/{e.series}: {what[e.kind]} (console, by {e.created_by})")
    return lines
