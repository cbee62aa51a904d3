"""What a stand-in Discord knows: one server with its roles, channels, threads, members,
messages and scheduled events, shaped as the API's JSON payloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.platforms.discord.lib import discord

Payload = dict[str, Any]

VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_CHANNELS = 1 << 4
MANAGE_EVENTS = 1 << 33
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MODERATE_MEMBERS = 1 << 40
EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | SEND_MESSAGES_IN_THREADS
)
BOT_PERMISSIONS = (
    EVERYONE_PERMISSIONS
    | MANAGE_MESSAGES
    | MANAGE_CHANNELS
    | MANAGE_EVENTS
    | CREATE_PUBLIC_THREADS
    | MODERATE_MEMBERS
)
MESSAGE_CONTENT_INTENT = 1 << 15
CONTENT_GRANTED = (1 << 18) | (1 << 19)  # GATEWAY_MESSAGE_CONTENT(_LIMITED)
_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass
class Person:
    id: int
    name: str
    roles: list[int] = field(default_factory=list)
    bot: bool = False

    def user(self) -> Payload:
        return {
            "id": str(self.id),
            "username": self.name.lower(),
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
        }

    def member(self, *, with_user: bool = True) -> Payload:
        member: Payload = {
            "roles": [str(r) for r in self.roles],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
        }
        if with_user:
            member["user"] = self.user()
        return member


class World:
    """Ids are snowflakes of the injected clock, so messages fall inside a test's chat."""

    def __init__(self, now: Callable[[], datetime], token: str) -> None:
        self.now = now
        self.token = token
        self._last_id = 0
        self.guild_id = self.new_id()
        self.app_id = self.new_id()
        self.app_flags = CONTENT_GRANTED
        self.bot = Person(self.new_id(), "hashchat", bot=True)
        self.roles: dict[int, Payload] = {}
        self.people: dict[int, Person] = {self.bot.id: self.bot}
        self.channels: dict[int, Payload] = {}
        self.messages: dict[int, Payload] = {}
        self.deleted: set[int] = set()
        self.nonces: dict[tuple[int, str], int] = {}
        self.events: dict[int, Payload] = {}
        self.commands: dict[int, list[Payload]] = {}
        self.interactions: dict[int, Payload] = {}
        self.dms_closed: set[int] = set()  # people who allow no direct messages
        self.bot_role = self.add_role("hashchat", BOT_PERMISSIONS)
        self.bot.roles.append(self.bot_role)
        self.add_role("@everyone", EVERYONE_PERMISSIONS, ident=self.guild_id)

    def new_id(self) -> int:
        self._last_id = max(self._last_id + 1, discord.utils.time_snowflake(self.now()))
        return self._last_id

    def stamp(self) -> str:
        return self.now().isoformat()

    # the server ------------------------------------------------------------------------

    def add_role(self, name: str, permissions: int = 0, *, ident: int | None = None) -> int:
        role_id = ident or self.new_id()
        self.roles[role_id] = {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": len(self.roles),
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return role_id

    def add_person(self, name: str, roles: tuple[int, ...] = ()) -> Person:
        person = Person(self.new_id(), name, list(roles))
        self.people[person.id] = person
        return person

    def add_channel(self, name: str) -> int:
        channel_id = self.new_id()
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": len(self.channels),
            "permission_overwrites": [],
            "rate_limit_per_user": 0,
            "nsfw": False,
            "topic": None,
            "parent_id": None,
            "last_message_id": None,
        }
        return channel_id

    def open_dm(self, person_id: int) -> Payload:
        """The bot's direct-message channel with a person (one per person, as on Discord)."""
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == str(person_id):
                return channel
        channel_id = self.new_id()
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": 1,
            "recipients": [self.people[person_id].user()],
            "last_message_id": None,
        }
        return self.channels[channel_id]

    def add_thread(self, parent: int, message_id: int, name: str, owner: int) -> Payload:
        thread: Payload = {
            "id": str(message_id),
            "type": 11,
            "guild_id": str(self.guild_id),
            "parent_id": str(parent),
            "owner_id": str(owner),
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": self.stamp(),
                "locked": False,
            },
        }
        self.channels[message_id] = thread
        return thread

    def guild(self) -> Payload:
        return {
            "id": str(self.guild_id),
            "name": "Health chats",
            "owner_id": str(self.bot.id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.people),
            "roles": list(self.roles.values()),
            "channels": [c for c in self.channels.values() if c["type"] == 0],
            "threads": [c for c in self.channels.values() if c["type"] == 11],
            "members": [self.bot.member()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "soundboard_sounds": [],
            "guild_scheduled_events": list(self.events.values()),
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "joined_at": "2025-01-01T00:00:00+00:00",
        }

    # messages ----------------------------------------------------------------------------

    def message(
        self,
        channel_id: int,
        author: Person,
        content: str,
        *,
        reply_to: int | None = None,
        nonce: str | None = None,
    ) -> Payload:
        message_id = self.new_id()
        mentions = [self.people[int(i)].user() for i in _MENTION.findall(content)
                    if int(i) in self.people]  # fmt: skip
        message: Payload = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(self.guild_id),
            "author": author.user(),
            "member": author.member(with_user=False),
            "content": content,
            "timestamp": self.stamp(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if reply_to is not None:
            message["type"] = 19
            message["message_reference"] = {
                "type": 0,
                "message_id": str(reply_to),
                "channel_id": str(channel_id),
                "guild_id": str(self.guild_id),
            }
        if nonce is not None:
            message["nonce"] = nonce
        self.messages[message_id] = message
        self.channels[channel_id]["last_message_id"] = str(message_id)
        return message

    def visible(self, message: Payload) -> Payload:
        """The message as the bot may see it: without the message content intent,
        Discord blanks what does not mention the bot."""
        if self.app_flags & CONTENT_GRANTED or message["author"]["id"] == str(self.bot.id):
            return message
        if any(m["id"] == str(self.bot.id) for m in message["mentions"]):
            return message
        return {**message, "content": "", "embeds": [], "attachments": []}

    def in_channel(self, channel_id: int) -> list[Payload]:
        return sorted(
            (m for m in self.messages.values()
             if int(m["channel_id"]) == channel_id and int(m["id"]) not in self.deleted),
            key=lambda m: int(m["id"]),
        )  # fmt: skip

    def texts(self, channel_id: int) -> list[str]:
        return [m["content"] for m in self.in_channel(channel_id)]

    def threads_of(self, channel_id: int) -> list[Payload]:
        return [c for c in self.channels.values() if c.get("parent_id") == str(channel_id)]

    def scheduled_event(self, data: Payload, creator: int) -> Payload:
        event_id = self.new_id()
        event: Payload = {
            "id": str(event_id),
            "guild_id": str(self.guild_id),
            "channel_id": None,
            "creator_id": str(creator),
            "name": data["name"],
            "description": data.get("description"),
            "scheduled_start_time": data["scheduled_start_time"],
            "scheduled_end_time": data.get("scheduled_end_time"),
            "privacy_level": data["privacy_level"],
            "status": 1,
            "entity_type": data["entity_type"],
            "entity_id": None,
            "entity_metadata": data.get("entity_metadata"),
            "user_count": 0,
        }
        self.events[event_id] = event
        return event
