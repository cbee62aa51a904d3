"""Upcoming chats listed in the server's Events tab, kept equal to the core's plan."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from bot.clock import Clock
from bot.platforms.base import Host, ScheduledChat
from bot.platforms.discord.lib import discord

log = logging.getLogger(__name__)


class Entry(TypedDict):
    event: int
    channels: list[str]  # the ids of the server's channels that list the chat


def _location(guild: discord.Guild, entry: Entry) -> str:
    """The link of the first channel that listed the chat (a channel's jump_url)."""
    return f"https://discord.com/channels/{guild.id}/{entry['channels'][0]}"


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
    """One event per chat per server, whichever of the server's channels list the chat.

    A JSON cursor per server remembers, by the chat's session key, its event and the
    channels that list it; the event points at the first of them. A replan updates the
    event instead of adding a second; a channel that stops listing a chat only leaves
    it, and the event is cancelled when no channel lists the chat any more.
    """

    def __init__(self, host: Host, clock: Clock) -> None:
        self.host = host
        self.clock = clock

    async def sync(self, channel: discord.TextChannel, chats: Sequence[ScheduledChat]) -> None:
        guild, here = channel.guild, str(channel.id)
        key = f"events:guild:{guild.id}"
        known: dict[str, Entry] = json.loads(await self.host.cursor(key) or "{}")
        # Listings made by versions that kept one cursor per channel, keyed by slug.
        old_key = f"events:{channel.id}"
        raw_old = await self.host.cursor(old_key)
        old: dict[str, int] = json.loads(raw_old or "{}")
        try:
            for chat in chats:
                entry = known.get(chat.key)
                if entry is None and chat.slug in old:
                    entry = {"event": old.pop(chat.slug), "channels": []}
                event = await self._fetch(guild, entry["event"] if entry else None)
                future = chat.starts_at > self.clock.now()  # Discord lists only future ones
                if event is None:
                    if future:
                        known[chat.key] = await self._create(channel, chat)
                    continue
                assert entry is not None
                known[chat.key] = entry
                if here not in entry["channels"]:
                    entry["channels"].append(here)
                if future:  # a started one keeps its times
                    await self._update(event, Listing.of_chat(chat, _location(guild, entry)))
            wanted = {chat.key for chat in chats}
            for stale, entry in list(known.items()):
                if stale in wanted or here not in entry["channels"]:
                    continue
                entry["channels"].remove(here)
                event = await self._fetch(guild, entry["event"])
                if entry["channels"]:  # still listed elsewhere: point the event there
                    await self._relocate(event, _location(guild, entry))
                else:
                    del known[stale]
                    await self._drop(event)
            while old:  # duplicates of what is now listed once, or chats no longer planned
                await self._drop(await self._fetch(guild, old.popitem()[1]))
        finally:
            await self.host.set_cursor(key, json.dumps(known, sort_keys=True))
            if raw_old is not None and json.loads(raw_old) != old:
                await self.host.set_cursor(old_key, json.dumps(old, sort_keys=True))

    async def _create(self, channel: discord.TextChannel, chat: ScheduledChat) -> Entry:
        wanted = Listing.of_chat(chat, channel.jump_url)
        created = await channel.guild.create_scheduled_event(
            name=wanted.name,
            description=wanted.description or discord.utils.MISSING,
            start_time=wanted.start_time,
            end_time=chat.ends_at,
            location=wanted.location,
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        return {"event": created.id, "channels": [str(channel.id)]}

    @staticmethod
    async def _relocate(event: discord.ScheduledEvent | None, location: str) -> None:
        if event is None or event.status is not discord.EventStatus.scheduled:
            return
        if event.location != location:
            await event.edit(
                location=location,
                entity_type=discord.EntityType.external,
                end_time=event.end_time or event.start_time,
            )

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
