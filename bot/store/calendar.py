"""What the site's calendar published for each chat, so an event's SEQUENCE goes up when
the chat moves or is cancelled, also across restarts, and so a chat that vanished from
the plan is still sent to subscribers, as cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.store.backend import Database
from bot.store.codec import parse_ts, ts
from bot.store.connection import transaction
from bot.timeline import SessionPlan


@dataclass(frozen=True, slots=True, kw_only=True)
class EventState:
    """One calendar event as published: what calendar clients compare."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    cancelled: bool = False
    sequence: int = 0

    @property
    def fingerprint(self) -> str:
        """A change here is a change RFC 5545 wants a higher SEQUENCE for."""
        status = "cancelled" if self.cancelled else "confirmed"
        return f"{ts(self.starts_at)}|{ts(self.ends_at)}|{status}"


@dataclass(frozen=True, slots=True)
class Sequenced:
    """The feed's events with their sequences, and those published before that no
    longer come (their start still ahead), now cancelled."""

    sequences: dict[str, int]
    vanished: list[EventState]


class CalendarLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def publish(
        self, community: str, events: Sequence[EventState], now: datetime
    ) -> Sequenced:
        """Record ``events`` as published now and number them."""
        async with self._db.execute(
            "SELECT uid, sequence, fingerprint, starts_at, ends_at, summary, cancelled"
            " FROM calendar_events WHERE community = ?",
            (community,),
        ) as cur:
            known = {
                str(r[0]): EventState(
                    uid=str(r[0]),
                    sequence=int(r[1]),
                    starts_at=parse_ts(str(r[3])),
                    ends_at=parse_ts(str(r[4])),
                    summary=str(r[5]),
                    cancelled=bool(r[6]),
                )
                for r in await cur.fetchall()
            }
        fingerprints = {e.uid: e.fingerprint for e in known.values()}
        changed: list[EventState] = []
        sequences: dict[str, int] = {}
        for event in events:
            before = known.get(event.uid)
            if before is None:
                sequence = 0
            elif fingerprints[event.uid] != event.fingerprint:
                sequence = before.sequence + 1
            else:
                sequences[event.uid] = before.sequence
                continue
            sequences[event.uid] = sequence
            changed.append(replace(event, sequence=sequence))
        vanished: list[EventState] = []
        for uid, before in known.items():
            if uid in sequences or before.starts_at <= now:
                continue
            if not before.cancelled:
                before = replace(before, cancelled=True, sequence=before.sequence + 1)
                changed.append(before)
            vanished.append(before)
        if changed:
            await self._save(community, changed, now)
        return Sequenced(sequences, sorted(vanished, key=lambda e: e.starts_at))

    async def _save(self, community: str, events: list[EventState], now: datetime) -> None:
        async with transaction(self._db):
            await self._db.executemany(
                "INSERT INTO calendar_events (uid, community, sequence, fingerprint, starts_at,"
                " ends_at, summary, cancelled, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (uid) DO UPDATE SET sequence = excluded.sequence,"
                " fingerprint = excluded.fingerprint, starts_at = excluded.starts_at,"
                " ends_at = excluded.ends_at, summary = excluded.summary,"
                " cancelled = excluded.cancelled, published_at = excluded.published_at",
                [
                    (
                        e.uid,
                        community,
                        e.sequence,
                        e.fingerprint,
                        ts(e.starts_at),
                        ts(e.ends_at),
                        e.summary,
                        int(e.cancelled),
                        ts(now),
                    )
                    for e in events
                ],
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSession:
    """A stored chat the feeds list: coming, running, or over since ``since``."""

    session_id: int
    plan: SessionPlan
    state: str
    transcript_url: str | None


async def feed_sessions(db: Database, community: str, since: datetime) -> list[FeedSession]:
    """The community's chats ending at ``since`` or later, soonest first."""
    async with db.execute(
        "SELECT id, plan_json, state, transcript_url FROM sessions"
        " WHERE community = ? AND ends_at >= ? ORDER BY starts_at, id",
        (community, ts(since)),
    ) as cur:
        rows = await cur.fetchall()
    return [
        FeedSession(
            session_id=int(r[0]),
            plan=SessionPlan.from_json(str(r[1])),
            state=str(r[2]),
            transcript_url=None if r[3] is None else str(r[3]),
        )
        for r in rows
    ]


async def published_sessions(db: Database, community: str, limit: int) -> list[FeedSession]:
    """The community's latest ``limit`` published chats, newest first."""
    async with db.execute(
        "SELECT id, plan_json, state, transcript_url FROM sessions WHERE community = ?"
        " AND state = 'closed' AND transcript_url IS NOT NULL"
        " ORDER BY starts_at DESC, id DESC LIMIT ?",
        (community, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [
        FeedSession(
            session_id=int(r[0]),
            plan=SessionPlan.from_json(str(r[1])),
            state=str(r[2]),
            transcript_url=None if r[3] is None else str(r[3]),
        )
        for r in rows
    ]
