"""discord.py's client, with the gateway events the adapter needs passed on in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from bot.platforms.discord.lib import discord


class Listener(Protocol):
    def take_raw(self, data: dict[str, Any]) -> bool:
        """A MESSAGE_CREATE payload; True when taken as it is (the common message),
        False to have discord.py build its ``discord.Message`` for ``received``."""
        ...

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


_ITEMS = frozenset({"message", "raw_message_edit", "raw_message_delete"})


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
        self._take_plain_messages()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 seconds before identifying again, to keep within Discord's
        limit on new sessions; the wait is a parameter so tests need not sit through it."""
        if not initial:
            await asyncio.sleep(self.identify_delay)

    # Gateway events in order ---------------------------------------------------------
    # discord.py runs a task per event for each on_... handler; messages, edits,
    # deletions and the start of a session (after which what was missed is read) are
    # passed on inline instead, in the order the gateway parsed them, with no task each.

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        listener = self.listener
        if event in _ITEMS:
            listener.received(args[0])
        elif event == "connect":
            listener.connected()
        elif event == "resumed":
            listener.resumed()
        super().dispatch(event, *args, **kwargs)  # wait_for() and any other listener

    def _take_plain_messages(self) -> None:
        """Hand the common MESSAGE_CREATE payload to the listener before discord.py
        builds its objects for it. discord.py has no public hook at this level: its
        connection state's table of parsers (``ConnectionState.parsers``, stable
        since 1.0) is the one internal relied on, pinned with the version range in
        pyproject.toml, and the adapter's tests run through it."""
        parsers: dict[str, Callable[[Any], None]] = self._connection.parsers
        build = parsers["MESSAGE_CREATE"]
        take = self.listener.take_raw

        def parse_message_create(data: Any) -> None:
            if not take(data):
                build(data)

        parsers["MESSAGE_CREATE"] = parse_message_create

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.listener.thread_seen(thread)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.listener.guild_available()
