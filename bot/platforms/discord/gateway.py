"""discord.py's client, with the gateway events the adapter needs passed on in order."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.platforms.discord.lib import discord


class Listener(Protocol):
    def received(
        self,
        item: discord.Message | discord.RawMessageUpdateEvent | discord.RawMessageDeleteEvent,
    ) -> None: ...

    def thread_seen(self, thread: discord.Thread) -> None: ...

    def connected(self) -> None:
        """A new gateway session (READY): the guilds follow, then what was missed is read."""
        ...

    def guild_available(self) -> None: ...

    def resumed(self) -> None: ...


def intents(*, read_content: bool) -> discord.Intents:
    """Only what the adapter reads: servers and their channels, and messages. Members
    are looked up when needed, so the privileged members intent is not asked for."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = read_content
    return wanted


def content_granted(flags: discord.ApplicationFlags) -> bool:
    """Whether the application may read what people write (the Message Content intent)."""
    return flags.gateway_message_content or flags.gateway_message_content_limited


class Gateway(discord.Client):
    def __init__(
        self, listener: Listener, *, read_content: bool, identify_delay: float = 5.0
    ) -> None:
        # No message cache: edits and deletions come as raw events whether or not the
        # message was seen, so all are handled the same way.
        super().__init__(
            intents=intents(read_content=read_content),
            max_messages=None,
            chunk_guilds_at_startup=False,
            # A rate limit longer than this is an error (retried by the core later), not
            # a wait that would outlast the adapter's request timeout and look uncertain.
            max_ratelimit_timeout=30.0,
        )
        self.listener = listener
        self.read_content = read_content
        self.identify_delay = identify_delay

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 seconds before identifying again, to keep within Discord's
        limit on new sessions; the wait is a parameter so tests need not sit through it."""
        if not initial:
            await asyncio.sleep(self.identify_delay)

    # discord.py runs each handler as its own task, in the order the events came.
    async def on_message(self, message: discord.Message) -> None:
        self.listener.received(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.listener.received(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.listener.received(payload)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.listener.thread_seen(thread)

    async def on_connect(self) -> None:
        self.listener.connected()

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.listener.guild_available()

    async def on_resumed(self) -> None:
        self.listener.resumed()
