"""Upcoming chats listed in the server's Events tab, kept equal to the core's plan."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.platforms.base import Host, ScheduledChat
from bot.platforms.discord_lib import discord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Listing:
    name: str
    description: str
    start_time: datetime
    end_time: datetime | None
    location: str

    @classmethod
    def of_chat(cls, chat: ScheduledChat, location: str) -> Listing:
        title = chat.title[:100] or chat.key
        return cls(title, chat.description[:1000], chat.starts_at, chat.ends_at, location[:100])

    @classmethod
    def of_event(cls, event: discord.ScheduledEvent) -> Listing:
        return cls(
            event.name,
            event.description or "",
            event.start_time,
            event.end_time,
            event.location or "",
        )


class EventListing:
    """One JSON cursor per channel remembers which event lists which chat (by its key),
    so a replan updates the event instead of adding a second one."""

    def __init__(self, host: Host, clock: Clock) -> None:
        self.host = host
        self.clock = clock

    async def sync(self, channel: discord.TextChannel, chats: Sequence[ScheduledChat]) -> None:
        key = f"events:{channel.id}"
        known: dict[str, int] = json.loads(await self.host.cursor(key) or "{}")
        location = channel.jump_url
        try:
            for chat in chats:
                event_id = known.get(chat.key)
                event = await self._fetch(channel.guild, event_id)
                if event is None:
                    if chat.starts_at > self.clock.now():  # Discord lists only future ones
                        wanted = Listing.of_chat(chat, location)
                        created = await channel.guild.create_scheduled_event(
                            name=wanted.name,
                            description=wanted.description or discord.utils.MISSING,
                            start_time=wanted.start_time,
                            end_time=chat.ends_at,
                            location=wanted.location,
                            entity_type=discord.EntityType.external,
                            privacy_level=discord.PrivacyLevel.guild_only,
                        )
                        known[chat.key] = created.id
                    continue
                if chat.starts_at > self.clock.now():  # a started one keeps its times
                    await self._update(event, Listing.of_chat(chat, location))
            for stale in set(known) - {c.key for c in chats}:
                await self._drop(await self._fetch(channel.guild, known.pop(stale)))
        finally:
            await self.host.set_cursor(key, json.dumps(known, sort_keys=True))

    @staticmethod
    async def _fetch(guild: discord.Guild, event_id: int | None) -> discord.ScheduledEvent | None:
        if event_id is None:
            return None
        try:
            event = await guild.fetch_scheduled_event(event_id)
        except discord.NotFound:
            return None  # deleted by hand: listed anew
        if event.status in (discord.EventStatus.cancelled, discord.EventStatus.completed):
            return None
        return event

    @staticmethod
    async def _update(event: discord.ScheduledEvent, wanted: Listing) -> None:
        if event.status is not discord.EventStatus.scheduled or Listing.of_event(event) == wanted:
            return  # an unchanged one needs no call
        await event.edit(
            name=wanted.name,
            description=wanted.description,
            start_time=wanted.start_time,
            end_time=wanted.end_time or event.start_time,
            location=wanted.location,
            entity_type=discord.EntityType.external,
        )

    async def _drop(self, event: discord.ScheduledEvent | None) -> None:
        """A chat no longer planned: cancelled if still to come; one that is over or
        running is left to end as it is."""
        if event is None or event.status is not discord.EventStatus.scheduled:
            return
        if event.end_time is not None and event.end_time <= self.clock.now():
            return
        await event.cancel()
