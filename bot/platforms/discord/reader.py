"""Discord's incoming side: gateway events in order, the history missed while away, and
the read positions that say where to pick up after a restart or a gateway gap."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.clock import Clock
from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    MessageRef,
    PlatformEvent,
)
from bot.platforms.base import Alert, AlertKind, Host
from bot.platforms.discord.lib import discord
from bot.platforms.discord.payload import common_message
from bot.platforms.discord.text import (
    is_conversation,
    looks_unreadable,
    message_text,
    to_incoming,
)

log = logging.getLogger(__name__)

# Older history is not replayed: no chat could still want it, and old commands must not
# run hours late.
CATCH_UP_WINDOW = timedelta(hours=12)
_REMEMBERED = 10_000  # acknowledgements kept for those waiting on one


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Read what was missed: queued at each (re)connection, before any later event."""


Item = discord.Message | discord.RawMessageUpdateEvent | discord.RawMessageDeleteEvent
Queued = Item | IncomingMessage | CatchUp | None


def cursor_key(channel: ChannelRef) -> str:
    return f"last:{channel.id}/{channel.thread}" if channel.thread else f"last:{channel.id}"


class Reader:
    """Turns the gateway's raw items into the core's events, one consumer at a time."""

    def __init__(
        self,
        *,
        channels: frozenset[int],
        clock: Clock,
        client: Callable[[], discord.Client],
        ready: asyncio.Event,
        ready_timeout: float,
    ) -> None:
        self.channels = channels
        self.clock = clock
        self._client = client
        self._ready = ready
        self._ready_timeout = ready_timeout
        self._host: Host | None = None
        self._queue: asyncio.Queue[Queued] = asyncio.Queue()
        self._parents: dict[int, int | None] = {}  # channel id -> parent (None: not a thread)
        # Where a payload's channel_id is, for the channels and threads known to be ours.
        self._places: dict[str, ChannelRef] = {
            str(c): ChannelRef("discord", str(c)) for c in channels
        }
        self._cursors: dict[str, int] = {}
        self._cursor_lock = asyncio.Lock()
        self._caught: set[str] = set()  # ids the last catch-up gave, not to give twice
        self._synthetic: set[str] = set()  # slash commands: events without a message
        self._told_unreadable = False
        self._acked: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._waiting: dict[tuple[str, str], asyncio.Event] = {}
        # Set once the first catch-up of a run is handed over: what was missed while away.
        self._caught_up = asyncio.Event()

    def open(self, host: Host) -> None:
        self._host = host
        self._queue = asyncio.Queue()
        self._told_unreadable = False
        self._caught_up = asyncio.Event()

    def close(self) -> None:
        self._queue.put_nowait(None)
        self._caught_up.set()  # nothing more will be read

    # fed by the gateway ----------------------------------------------------------------

    def put(self, item: Item) -> None:
        self._queue.put_nowait(item)

    def take_raw(self, data: dict[str, Any]) -> bool:
        """Queue the common message of a MESSAGE_CREATE payload as the core's message,
        without discord.py's objects; False for discord.py to build them (``put``)."""
        where = self._places.get(data.get("channel_id"))  # type: ignore[arg-type]
        if where is None:
            return False  # elsewhere, or a thread not seen yet
        client = self._client()
        user = client.user
        message = common_message(data, where, bot_id=None if user is None else str(user.id))
        if message is None:
            return False
        self._queue.put_nowait(message)
        return True

    def put_command(self, message: IncomingMessage) -> None:
        """A slash command, as the text the core's parser reads."""
        self._synthetic.add(message.ref.id)
        self._queue.put_nowait(message)

    def catch_up(self) -> None:
        self._queue.put_nowait(CatchUp())

    def learn_thread(self, thread: discord.Thread) -> None:
        self._learn(thread.id, thread.parent_id)

    def _learn(self, channel_id: int, parent: int | None) -> None:
        self._parents[channel_id] = parent
        if parent in self.channels:
            where = ChannelRef("discord", str(parent), thread=str(channel_id))
            self._places[str(channel_id)] = where

    # the port's side -------------------------------------------------------------------

    async def events(self) -> AsyncIterator[PlatformEvent]:
        queue = self._queue
        # Taken at once while there are some (no coroutine per event in a burst).
        while (item := queue.get_nowait() if queue.qsize() else await queue.get()) is not None:
            if isinstance(item, CatchUp):
                async for event in self._catch_up():
                    yield event
                # Resumed after the last one: the core has handled every event it gave.
                self._caught_up.set()
                continue
            # The common message, read from its payload already: no conversion to await.
            converted = item if type(item) is IncomingMessage else await self._convert(item)
            if converted is None:
                continue
            if isinstance(converted, IncomingMessage) and converted.ref.id in self._caught:
                continue  # the catch-up already gave it
            yield converted

    async def caught_up(self) -> None:
        """Return once the history read at the first READY is handled by the core."""
        await self._caught_up.wait()

    async def acknowledge(self, event: PlatformEvent) -> None:
        await self.acknowledge_all((event,))

    async def acknowledge_all(self, events: Sequence[PlatformEvent]) -> None:
        """A committed batch: each channel's read position moves once, to the newest
        message of the batch there (positions only move forward, so that is where
        acknowledging them one by one would leave it); then those waiting are told."""
        newest: dict[str, int] = {}
        channel, key = None, ""
        synthetic = self._synthetic
        for event in events:
            if isinstance(event, IncomingMessage):
                ident = event.ref.id
                if synthetic and ident in synthetic:
                    synthetic.discard(ident)
                    continue
                if event.ref.channel is not channel:  # most of a batch: one channel
                    channel = event.ref.channel
                    key = cursor_key(channel)
                number = int(ident)
                if newest.get(key, 0) < number:
                    newest[key] = number
        for key, number in newest.items():
            await self._advance(key, number)
        acked, waiting = self._acked, self._waiting
        for event in events:
            done = (type(event).__name__, event.ref.id)
            acked[done] = None
            if waiting:
                waiter = waiting.pop(done, None)  # an event only for those who wait
                if waiter is not None:
                    waiter.set()
        while len(acked) > _REMEMBERED:
            acked.popitem(last=False)

    async def acknowledged(self, message_id: str, kind: type[PlatformEvent]) -> None:
        """Wait until that event is stored and acknowledged (tests and tools use it)."""
        key = (kind.__name__, message_id)
        if key not in self._acked:
            await self._waiting.setdefault(key, asyncio.Event()).wait()

    # conversion ------------------------------------------------------------------------

    async def where(self, channel_id: int) -> ChannelRef | None:
        """The configured channel a Discord channel is, or the thread of one; None else."""
        if channel_id in self.channels:
            return ChannelRef("discord", str(channel_id))
        parent = await self._parent(channel_id)
        if parent in self.channels:
            return ChannelRef("discord", str(parent), thread=str(channel_id))
        return None

    async def _parent(self, channel_id: int) -> int | None:
        if channel_id in self._parents:
            return self._parents[channel_id]
        client = self._client()
        channel = client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await client.fetch_channel(channel_id)
            except discord.HTTPException as exc:
                log.warning("could not look up Discord channel %s: %s", channel_id, exc)
                return None
        parent = channel.parent_id if isinstance(channel, discord.Thread) else None
        self._learn(channel_id, parent)
        return parent

    async def _convert(self, item: Item | IncomingMessage) -> PlatformEvent | None:
        if isinstance(item, IncomingMessage):
            return item
        client = self._client()
        bot_id = client.user.id if client.user else None
        if isinstance(item, discord.Message):
            return await self._incoming(item)
        where = await self.where(item.channel_id)
        if where is None:
            return None
        if isinstance(item, discord.RawMessageUpdateEvent):
            message = item.message
            if message.edited_at is None or message.author.id == bot_id:
                return None  # an embed unfurled, not an edit by a person
            return MessageEdited(
                ref=to_incoming(message, where, bot_id=bot_id).ref,
                text=message_text(message, bot_id=bot_id),
                edited_at=message.edited_at,
            )
        return MessageDeleted(
            ref=MessageRef(where, str(item.message_id)), deleted_at=self.clock.now()
        )

    async def _incoming(self, message: discord.Message) -> IncomingMessage | None:
        client = self._client()
        bot_id = client.user.id if client.user else None
        if message.author.id == bot_id or not is_conversation(message):
            return None
        where = await self.where(message.channel.id)
        if where is None:
            return None
        if looks_unreadable(message):
            await self._unreadable(where)
        return to_incoming(message, where, bot_id=bot_id)

    async def _unreadable(self, where: ChannelRef) -> None:
        if self._told_unreadable or self._host is None:
            return
        self._told_unreadable = True
        log.error("Discord messages arrive without their text: the message content intent is off")
        await self._host.alert(Alert(AlertKind.CANNOT_READ, ChannelRef("discord", where.id)))

    # catch-up --------------------------------------------------------------------------

    async def _catch_up(self) -> AsyncIterator[IncomingMessage]:
        try:
            async with asyncio.timeout(self._ready_timeout):
                await self._ready.wait()
        except TimeoutError:
            log.warning("Discord is not ready; catching up with what is known")
        self._caught = set()
        floor = discord.utils.time_snowflake(self.clock.now() - CATCH_UP_WINDOW)
        client = self._client()
        for channel_id in sorted(self.channels):
            channel = client.get_channel(channel_id)
            if not isinstance(channel, discord.TextChannel):
                continue
            ref = ChannelRef("discord", str(channel_id))
            last = await self._cursor(cursor_key(ref))
            if last is None:
                # First run here: what was said before is not ours to replay.
                now = discord.utils.time_snowflake(self.clock.now())
                await self._advance(cursor_key(ref), max(now, channel.last_message_id or 0))
                continue
            async for event in self._read(channel, ref, max(last, floor)):
                yield event
            for thread in channel.threads:
                thread_ref = ref_of(thread)
                self.learn_thread(thread)
                # A thread with no position of its own began after the channel's one.
                after = await self._cursor(cursor_key(thread_ref)) or last
                async for event in self._read(thread, thread_ref, max(after, floor)):
                    yield event

    async def _read(
        self, channel: discord.abc.Messageable, ref: ChannelRef, after: int
    ) -> AsyncIterator[IncomingMessage]:
        bot_id = self._client().user
        try:
            async for message in channel.history(
                after=discord.Object(after), oldest_first=True, limit=None
            ):
                if bot_id is not None and message.author.id == bot_id.id:
                    continue
                if not is_conversation(message):
                    continue
                event = to_incoming(message, ref, bot_id=bot_id.id if bot_id else None)
                self._caught.add(event.ref.id)
                yield event
        except discord.HTTPException as exc:
            log.error("could not read the history of %s: %s", ref, exc)

    async def _cursor(self, key: str) -> int | None:
        if key not in self._cursors and self._host is not None:
            value = await self._host.cursor(key)
            if value is not None:
                self._cursors[key] = int(value)
        return self._cursors.get(key)

    async def _advance(self, key: str, message_id: int) -> None:
        current = self._cursors.get(key)
        if current is not None:  # known: no read to wait for, so no lock (one per message)
            if current < message_id:
                self._cursors[key] = message_id
                if self._host is not None:
                    await self._host.move_cursor(key, str(message_id))
            return
        async with self._cursor_lock:
            current = await self._cursor(key)
            if current is not None and current >= message_id:
                return
            self._cursors[key] = message_id
            if self._host is not None:
                await self._host.move_cursor(key, str(message_id))


def ref_of(thread: discord.Thread) -> ChannelRef:
    return ChannelRef("discord", str(thread.parent_id), thread=str(thread.id))
