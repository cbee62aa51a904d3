"""A community's feeds from its config and store: the calendar of its chats, one chat's
``.ics``, the Atom feed of its transcripts and the same as JSON.

Each render also records what the calendar published (bot/store/calendar.py), so the
served site and the static build number a moved or cancelled chat the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import CommunityConfig, Config
from bot.site.atom import AtomInfo, render_atom
from bot.site.calendar import CalendarInfo, render_calendar
from bot.site.feed_chats import BEHIND, FeedChat, feed_chats, from_plan
from bot.site.json_feed import JsonInfo, render_json
from bot.store import Store
from bot.store.calendar import CalendarLedger, EventState, feed_sessions, published_sessions

ATOM_ENTRIES = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedScope:
    """One community's feeds; ``where`` says where to join, one line per channel."""

    config: Config
    community: CommunityConfig
    store: Store
    now: datetime
    where: tuple[str, ...] = ()

    def url(self, path: str) -> str | None:
        """An absolute address under ``public_url``; None without one (feeds need them)."""
        base = self.config.bot.public_url
        return f"{base.rstrip('/')}/{self.community.id}/{path}" if base else None

    def event_url(self, uid: str) -> str | None:
        return self.url(f"calendar/{uid}.ics")

    @property
    def name(self) -> str:
        return self.community.name or self.community.hashtag


async def calendar_chats(scope: FeedScope) -> tuple[list[FeedChat], dict[str, int]]:
    """The calendar's chats with their SEQUENCE, cancelled ones that left the plan too."""
    community = scope.community
    stored = await feed_sessions(scope.store.db, community.id, scope.now - BEHIND)
    chats = feed_chats(scope.config, community, stored, scope.now)
    states = [
        EventState(
            uid=c.uid,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            summary=c.title,
            cancelled=c.cancelled,
        )
        for c in chats
    ]
    ledger = CalendarLedger(scope.store.db)
    numbered = await ledger.publish(community.id, states, scope.now)
    sequences = dict(numbered.sequences)
    for gone in numbered.vanished:
        sequences[gone.uid] = gone.sequence
        chats.append(
            FeedChat(
                uid=gone.uid,
                series=gone.uid.split("@", 1)[0][: -len("-yyyy-mm-dd")],
                title=gone.summary,
                topic="",
                starts_at=gone.starts_at,
                ends_at=gone.ends_at,
                timezone=community.timezone,
                state="cancelled",
            )
        )
    return sorted(chats, key=lambda c: (c.starts_at, c.uid)), sequences


def _calendar_info(scope: FeedScope) -> CalendarInfo:
    return CalendarInfo(
        name=scope.name,
        hashtag=scope.community.hashtag,
        timezone=scope.community.timezone,
        locale=scope.community.locale,
        where=scope.where,
        site_url=scope.url(""),
    )


async def calendar_feed(scope: FeedScope) -> str:
    chats, sequences = await calendar_chats(scope)
    return render_calendar(_calendar_info(scope), chats, sequences, scope.now)


async def calendar_event(scope: FeedScope, uid: str) -> str | None:
    """One chat's ``.ics``; None when the calendar has no chat ``uid``."""
    chats, sequences = await calendar_chats(scope)
    chosen = [c for c in chats if c.uid == uid]
    if not chosen:
        return None
    return render_calendar(_calendar_info(scope), chosen, sequences, scope.now)


async def published(scope: FeedScope, limit: int = ATOM_ENTRIES) -> list[FeedChat]:
    """The latest published chats, newest first."""
    rows = await published_sessions(scope.store.db, scope.community.id, limit)
    return [from_plan(r.plan, r.state, r.transcript_url) for r in rows]


async def atom_feed(scope: FeedScope) -> str:
    info = AtomInfo(
        community=scope.community.id,
        name=scope.name,
        hashtag=scope.community.hashtag,
        locale=scope.community.locale,
        feed_url=scope.url("feed.atom"),
        site_url=scope.url(""),
    )
    return render_atom(info, await published(scope), scope.now)


async def chats_json(scope: FeedScope) -> str:
    chats, _ = await calendar_chats(scope)
    coming: Sequence[FeedChat] = [
        c for c in chats if c.ends_at > scope.now and c.state in ("planned", "live", "cancelled")
    ]
    info = JsonInfo(
        community=scope.community.id,
        name=scope.name,
        hashtag=scope.community.hashtag,
        timezone=scope.community.timezone,
        locale=scope.community.locale,
        site_url=scope.url(""),
        calendar_url=scope.url("calendar.ics"),
        atom_url=scope.url("feed.atom"),
    )
    return render_json(info, coming, await published(scope), scope.event_url)
