"""The built-in local platform: channels, people and messages in memory, shown in a terminal.

It is a real implementation of the port, not a mock: the demo runs on it, and the core's
end-to-end tests drive participants through it and read what the bot posted.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.clock import Clock
from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    MessageRef,
    PlatformEvent,
    UserRef,
)
from bot.platforms.base import TEXT_LIMITS, Capabilities, Host, PlatformError, ScheduledChat

BOT = UserRef("local", "hashchat", "hashchat")


@dataclass(slots=True)
class LocalMessage:
    """What the local platform keeps of a message. Changed only by ``replace`` (an edit or
    a deletion is a new record), yet not frozen: a frozen class sets each field through a
    call, and a participant's message makes one of these on the core's busiest path."""

    ref: MessageRef
    author: UserRef
    text: str
    sent_at: datetime
    reply_to: str | None = None
    edited: bool = False
    deleted: bool = False

    @property
    def by_bot(self) -> bool:
        return self.author == BOT


View = Callable[[str, LocalMessage], None]
"""Called with ("post" | "edit" | "delete", message) for every change, e.g. to print it."""


class LocalPlatform:
    name = "local"
    bot_names = frozenset({BOT.id})
    capabilities = Capabilities(
        max_text_length=TEXT_LIMITS["local"],
        threads=True,
        delete=True,
        edit_events=True,
        delete_events=True,
        history=True,
        idempotent_send=True,
        slow_mode=True,
        restrict=True,
    )

    def __init__(
        self,
        clock: Clock,
        *,
        admins: Iterable[UserRef] = (),
        view: View | None = None,
    ) -> None:
        self.clock = clock
        self.view = view
        self.admins = {u.id for u in admins}
        self.messages: dict[str, LocalMessage] = {}
        self.acknowledged: list[str] = []
        # Tests: refuse the sends this says yes to, as a platform outage would.
        self.refuse: Callable[[ChannelRef, str], bool] | None = None
        self.slow_mode: dict[str, int] = {}  # channel id -> seconds between posts
        self.restricted: dict[tuple[str, str], datetime | None] = {}  # (channel, user) -> until
        self._ids = itertools.count(1)
        self._sent_keys: dict[str, MessageRef] = {}
        # A deque and one waiter rather than an asyncio.Queue, whose bookkeeping cost
        # 0.4 µs of every participant's message; None closes the stream.
        self._events: deque[PlatformEvent | None] = deque()
        self._arrived: asyncio.Future[None] | None = None  # events() waits on it
        self._unhandled = 0  # queued, and not yet handled by the core
        self._all_handled = asyncio.Event()
        self._all_handled.set()
        # Events queued while the bot was stopped, still to be handed to the core.
        self._backlog = 0
        self._backlog_read = asyncio.Event()

    # the port -------------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        # What participants said while the bot was stopped is this platform's backlog.
        self._backlog = len(self._events)
        self._backlog_read.clear()
        if not self._backlog:
            self._backlog_read.set()

    async def close(self) -> None:
        self._put(None)

    async def events(self) -> AsyncIterator[PlatformEvent]:
        queue = self._events
        while True:
            if not queue:  # taken at once while there are some: no coroutine per event
                self._arrived = asyncio.get_running_loop().create_future()
                try:
                    await self._arrived
                finally:
                    self._arrived = None
                continue
            event = queue.popleft()
            try:
                if event is None:
                    return
                yield event
            finally:
                # Resumed only when the consumer asks for more, i.e. has handled this one.
                self._unhandled -= 1
                if not self._unhandled:
                    self._all_handled.set()
                self._backlog -= 1
                if self._backlog <= 0:
                    self._backlog_read.set()

    async def caught_up(self) -> None:
        """Return once what was queued before ``start`` has been handled by the core."""
        await self._backlog_read.wait()

    async def drained(self) -> None:
        """Wait until the core has taken every event so far (tests and the demo use it)."""
        await self._all_handled.wait()

    async def acknowledge(self, event: PlatformEvent) -> None:
        self.acknowledged.append(event.ref.id)

    async def acknowledge_all(self, events: Sequence[PlatformEvent]) -> None:
        self.acknowledged.extend([event.ref.id for event in events])

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        if idempotency_key is not None and idempotency_key in self._sent_keys:
            return self._sent_keys[idempotency_key]
        if self.refuse is not None and self.refuse(channel, text):
            raise PlatformError("local platform refused the message (simulated outage)")
        if len(text) > self.capabilities.max_text_length:
            raise PlatformError(f"message of {len(text)} characters is over the limit")
        ref = self._add(BOT, channel, text, reply_to).ref
        if idempotency_key is not None:
            self._sent_keys[idempotency_key] = ref
        return ref

    async def send_direct(self, user: UserRef, text: str) -> MessageRef:
        """Privately: the local platform gives each person a channel of their own, ``@id``."""
        return await self.send(ChannelRef(self.name, f"@{user.id}"), text)

    async def delete(self, message: MessageRef) -> None:
        self._change(message.id, deleted=True)

    async def is_moderator(self, user: UserRef, channel: ChannelRef) -> bool:
        return user.platform == self.name and user.id in self.admins

    async def restrict(self, user: UserRef, channel: ChannelRef, until: datetime | None) -> None:
        if until is not None and until <= self.clock.now():
            self.restricted.pop((channel.id, user.id), None)
        else:
            self.restricted[(channel.id, user.id)] = until

    async def set_slow_mode(self, channel: ChannelRef, seconds: int) -> None:
        self.slow_mode[channel.id] = seconds

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        return None  # no event listing; capabilities.scheduled_events is False

    async def history(self, channel: ChannelRef, since: datetime) -> list[IncomingMessage]:
        return [
            self._incoming(m)
            for m in self.messages.values()
            if m.ref.channel == channel and m.sent_at >= since and not m.by_bot and not m.deleted
        ]

    # what participants do (the demo's people and the tests) ---------------------------

    def say(
        self,
        user: UserRef,
        channel: ChannelRef | str,
        text: str,
        *,
        reply_to: MessageRef | None = None,
        sent_at: datetime | None = None,
    ) -> MessageRef:
        """Post as a participant; ``sent_at`` earlier than now is a message the platform
        delivers late (it sat in a phone's outbox, or a server's queue)."""
        target = ChannelRef.parse(channel) if isinstance(channel, str) else channel
        if self.restricted:
            self._check_restricted(user, target)
        if self.slow_mode:
            self._check_slow_mode(user, target)
        message = self._add(user, target, text, reply_to.id if reply_to else None, sent_at)
        self._put(self._incoming(message))
        return message.ref

    def _check_restricted(self, user: UserRef, channel: ChannelRef) -> None:
        key = (channel.id, user.id)
        if key in self.restricted:
            until = self.restricted[key]
            if until is None or until > self.clock.now():
                raise PlatformError(f"{user.id} may not post in {channel} now")

    def _check_slow_mode(self, user: UserRef, channel: ChannelRef) -> None:
        """Refuse a participant's post that comes too soon, as a platform with slow mode does."""
        seconds = self.slow_mode.get(channel.id, 0)
        if not seconds or user.id in self.admins:
            return
        last = max(
            (m.sent_at for m in self.messages.values()
             if m.author == user and m.ref.channel.id == channel.id),
            default=None,
        )  # fmt: skip
        if last is not None and (self.clock.now() - last).total_seconds() < seconds:
            raise PlatformError(f"slow mode: one message every {seconds} seconds in {channel}")

    def edit(self, ref: MessageRef, text: str) -> None:
        self._change(ref.id, text=text, edited=True)
        self._put(MessageEdited(ref=ref, text=text, edited_at=self.clock.now()))

    def remove(self, ref: MessageRef) -> None:
        self._change(ref.id, deleted=True)
        self._put(MessageDeleted(ref=ref, deleted_at=self.clock.now()))

    def bot_posts(self, channel: ChannelRef | str) -> list[LocalMessage]:
        target = ChannelRef.parse(channel) if isinstance(channel, str) else channel
        return [m for m in self.messages.values() if m.by_bot and m.ref.channel == target]

    # internals --------------------------------------------------------------------------

    def _put(self, event: PlatformEvent | None) -> None:
        self._events.append(event)
        if not self._unhandled:
            self._all_handled.clear()
        self._unhandled += 1
        arrived = self._arrived
        if arrived is not None and not arrived.done():
            arrived.set_result(None)

    def _add(
        self,
        author: UserRef,
        channel: ChannelRef,
        text: str,
        reply_to: str | None,
        sent_at: datetime | None = None,
    ) -> LocalMessage:
        ident = str(next(self._ids))
        ref = MessageRef(channel, ident, f"local://{channel.id}/{ident}")
        message = LocalMessage(ref, author, text, sent_at or self.clock.now(), reply_to)
        self.messages[ident] = message
        if self.view:
            self.view("post", message)
        return message

    def _change(self, ident: str, **changes: object) -> None:
        if ident not in self.messages:
            raise PlatformError(f"no message {ident} on the local platform")
        message = replace(self.messages[ident], **changes)  # type: ignore[arg-type]
        self.messages[ident] = message
        if self.view:
            self.view("delete" if message.deleted else "edit", message)

    def _incoming(self, m: LocalMessage) -> IncomingMessage:
        if m.reply_to is None:
            return IncomingMessage(ref=m.ref, author=m.author, text=m.text, sent_at=m.sent_at)
        replied = self.messages.get(m.reply_to)
        return IncomingMessage(
            ref=m.ref,
            author=m.author,
            text=m.text,
            sent_at=m.sent_at,
            reply_to=m.reply_to,
            reply_to_bot_text=replied.text if replied is not None and replied.by_bot else None,
        )
