"""Turns platform events into stored messages with their answers, and acknowledges them
to the platform only once they are committed."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import cast

from bot.attribution import NONE, attribute, may_tag
from bot.clock import Clock
from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    MessageRef,
    PlatformEvent,
)
from bot.live import LiveIndex, LiveSession
from bot.platforms.base import AcknowledgesBatches, Platform
from bot.store import Store
from bot.store.codec import encode_questions, ts
from bot.store.confirmation import confirm_post
from bot.store.writer import MessageEdit, MessageRemoval, MessageWriter, Row, Write, new_row

log = logging.getLogger(__name__)


class Admission(Enum):
    """What moderation decided about an incoming message before it is stored."""

    STORE = "store"
    HIDE = "hide"  # stored, but out of the transcript (a rule caught it)
    ANSWERED = "answered"  # a command: answered, never part of the chat
    IGNORE = "ignore"  # a muted participant: not recorded


Gate = Callable[[Platform, IncomingMessage], Awaitable[Admission]]
# The gate's answer when it needs nothing awaited (most messages), else None.
GateAtOnce = Callable[[Platform, IncomingMessage], Admission | None]

_RECENT = 50_000
_ZERO, _MILLISECOND = timedelta(0), timedelta(milliseconds=1)
# Writes waiting in the writer's queue past which reading pauses (a few batches).
_BACKLOG = 2_000


@lru_cache(maxsize=1024)
def _encoded(questions: frozenset[int]) -> str:
    """A message's questions as stored; a chat has few distinct sets ({1}, {2}, ...),
    so each is written out once rather than sorted and joined for every message."""
    return encode_questions(questions)


class Tracker:
    def __init__(
        self,
        *,
        store: Store,
        writer: MessageWriter,
        live: LiveIndex,
        clock: Clock,
        gate: Gate | None = None,
        gate_at_once: GateAtOnce | None = None,
        on_late: Callable[[int], None] | None = None,
    ) -> None:
        self.gate = gate
        self.gate_at_once = gate_at_once
        # Told the session of each message stored once its transcript is written (a
        # chat closing, or closed), to rebuild it.
        self.on_late = on_late
        self.store = store
        self.writer = writer
        self.live = live
        self.clock = clock
        # Context of messages seen lately, so an edit that overtakes its own commit
        # can still be attributed without a database read.
        self._recent: OrderedDict[tuple[str, str, str], tuple[int, str | None]] = OrderedDict()
        # The receiving time as stored, written out again once the clock has moved on by
        # a millisecond (see ``_received``).
        self._now: datetime | None = None
        self._now_text = ""

    async def consume(self, platform: Platform) -> None:
        """Read one platform's events until it closes, acknowledging each after its commit.

        Every event, even one with nothing to store, goes through the writer's queue, so
        acknowledgements keep the platform's order; the writer hands back each committed
        batch at once, and one task acknowledges them: no future nor task per message."""
        committed: asyncio.Queue[list[object] | None] = asyncio.Queue()
        sink = committed.put_nowait
        acker = asyncio.create_task(self._acknowledge(platform, committed), name="acknowledge")
        writer, high, gate, at_once = self.writer, _BACKLOG, self.gate, self.gate_at_once
        ignore = (Admission.ANSWERED, Admission.IGNORE)
        try:
            async for event in platform.events():
                try:
                    if not isinstance(event, IncomingMessage):  # an edit or a deletion
                        writer.enqueue(await self.write_for(event), sink, event)
                    elif (
                        admission := Admission.STORE
                        if gate is None  # (the gate's answer at once, else awaited)
                        else (at_once and at_once(platform, event)) or await gate(platform, event)
                    ) in ignore or (live := self._live_for(event)) is None:
                        writer.enqueue(None, sink, event)  # nothing to store
                    else:
                        if event.reply_to_bot_text is not None:  # a reply to the bot's post
                            await self._confirm_by_reply(live, event)
                        row = self._row(live, event, admission is Admission.HIDE)
                        writer.enqueue_row(row, sink, event)
                except Exception:
                    # One bad event must not stop the recording of the whole chat; left
                    # unacknowledged, it comes back when the platform redelivers.
                    log.exception("could not handle %s from %s", event.ref.id, platform.name)
                if writer.pending >= high:
                    await writer.room(high // 2)
        finally:
            await writer.flush()  # what was read is committed, then acknowledged
            committed.put_nowait(None)
            await acker

    async def _acknowledge(
        self, platform: Platform, committed: asyncio.Queue[list[object] | None]
    ) -> None:
        together = platform.acknowledge_all if isinstance(platform, AcknowledgesBatches) else None
        while (events := await committed.get()) is not None:
            # The events consume() enqueued, whose batch is committed, in their order.
            if together is not None:
                await together(cast(Sequence[PlatformEvent], events))
                continue
            for event in events:
                await platform.acknowledge(cast(PlatformEvent, event))

    async def write_for(self, event: MessageEdited | MessageDeleted) -> Write | None:
        """What to store for an edit or a deletion; None when there is nothing to store."""
        if isinstance(event, MessageEdited):
            return await self._store_edit(event)
        return await self._store_removal(event)

    async def _confirm_by_reply(self, live: LiveSession, msg: IncomingMessage) -> None:
        """A reply to a question post whose id the bot never learnt (its send was cut
        off) proves the post: it is filed under that question, and the post confirmed,
        so that later replies match it directly and the transcript shows it as posted."""
        channel = msg.ref.channel
        if msg.reply_to is None or msg.reply_to_bot_text is None:
            return
        if live.question_for(channel, msg.reply_to) is not None:
            return
        number = live.unconfirmed_question(channel, msg.reply_to_bot_text)
        posted_in = live.post_channel(channel)
        if number is None or posted_in is None:
            return
        ref = MessageRef(ChannelRef.parse(posted_in), msg.reply_to)
        if not await confirm_post(
            self.store.db, live.id, f"q{number}", posted_in, msg.reply_to, self.clock.now()
        ):
            return
        live.settled(number, posted_in, shown=True, ref=ref)
        log.info("Q%d in %s confirmed by a reply to it: message %s", number, posted_in, ref.id)

    def _live_for(self, msg: IncomingMessage) -> LiveSession | None:
        """The chat ``msg`` belongs to, told to rebuild its transcript when it is written."""
        live = self.live.for_channel(msg.ref.channel)
        if live is None:
            # Sent during a chat that closed before it arrived (the bot was down).
            live = self.live.late_for(msg.ref.channel, msg.sent_at, self.clock.now())
            if live is None:
                return None
            self._late(live.id)
        elif live.built:  # the chat is closing: its transcript is written already
            self._late(live.id)
        return live

    def _row(self, live: LiveSession, msg: IncomingMessage, hidden: bool) -> Row:
        """The row that stores ``msg`` in ``live``'s chat, made directly: every message
        passes here, and a ``StoredMessage`` in between (a frozen dataclass of fourteen
        fields, built and then read back) cost over a microsecond."""
        channel, ref = msg.ref.channel, msg.ref
        questions = self._questions(live, msg)
        now, received = self._received()
        author = msg.author
        return new_row(
            live.id,
            channel.platform,
            channel.id,
            channel.thread,
            ref.id,
            author.key,
            author.name or author.id,
            msg.text,
            received if msg.sent_at is now else ts(msg.sent_at),
            msg.reply_to,
            ref.url,
            "" if questions is NONE else _encoded(questions),
            received,
            ts(now) if hidden else None,
        )

    def _received(self) -> tuple[datetime, str]:
        """Now, and as the store writes it. ``received_at`` is kept for the record (no
        page reads it) and writing a time out costs a microsecond, twice a message: so
        it is written out again only once the clock has moved on by a millisecond."""
        now = self.clock.now()
        last = self._now
        if now is not last and (last is None or not _ZERO <= now - last < _MILLISECOND):
            self._now, self._now_text = now, ts(now)
        return now, self._now_text

    def _questions(self, live: LiveSession, msg: IncomingMessage) -> frozenset[int]:
        channel = msg.ref.channel
        key = (channel.platform, channel.id, msg.ref.id)
        recent = self._recent
        recent[key] = (live.id, msg.reply_to)
        if len(recent) > _RECENT:
            # (Not a plain dict: finding its first key takes time linear in its deletions.)
            recent.popitem(last=False)
        reply_question = (
            None
            if msg.reply_to is None and channel.thread is None
            else live.question_for(channel, msg.reply_to)
        )
        if reply_question is None and not may_tag(msg.text):
            return NONE  # the common message: general discussion, nothing to work out
        return attribute(
            msg.text, posted=live.posted, locale=live.locales, reply_question=reply_question
        )

    def _late(self, session_id: int) -> None:
        if self.on_late is not None:
            self.on_late(session_id)

    async def _store_edit(self, event: MessageEdited) -> Write | None:
        channel = event.ref.channel
        key = (channel.platform, channel.id, event.ref.id)
        context = self._recent.get(key)
        if context is None:
            stored = await self.store.message_context(*key)
            context = None if stored is None else (stored[0], stored[1])
        if context is None:
            return None  # not a message of any session
        session_id, reply_to = context
        live = self.live.get(session_id)
        if live is None:
            live = self.live.get_closed(session_id, self.clock.now())
            if live is None:
                return None  # the session is closed and its transcript final
        if live.built:
            self._late(session_id)
        questions = attribute(
            event.text,
            posted=live.posted,
            locale=live.locales,
            reply_question=live.question_for(channel, reply_to),
        )
        return MessageEdit(
            platform=channel.platform,
            channel=channel.id,
            platform_id=event.ref.id,
            text=event.text,
            questions=questions,
            edited_at=event.edited_at,
        )

    async def _store_removal(self, event: MessageDeleted) -> Write:
        # A chat closed lately: its transcript may show the message.
        if self.live.has_closed(self.clock.now()):
            ref = event.ref
            stored = await self.store.message_context(ref.channel.platform, ref.channel.id, ref.id)
            if stored is not None and self.live.get_closed(stored[0], self.clock.now()):
                self._late(stored[0])
        return _removal(event.ref, event.deleted_at)

    def remove(self, ref: MessageRef, when: datetime) -> asyncio.Future[None]:
        """Take a message out of the transcript (a platform deletion or a moderator's hide)."""
        return self.writer.submit(_removal(ref, when))


def _removal(ref: MessageRef, when: datetime) -> MessageRemoval:
    return MessageRemoval(
        platform=ref.channel.platform, channel=ref.channel.id, platform_id=ref.id, deleted_at=when
    )
