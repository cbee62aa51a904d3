"""The narrow port every platform adapter, and the local platform, satisfies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol, runtime_checkable

from bot.domain import ChannelRef, IncomingMessage, MessageRef, PlatformEvent, UserRef

# Static limits so agendas can be validated before any adapter is started.
# Bluesky counts graphemes; a text's length in code points is never below its graphemes,
# so checking code points against 300 never lets through a post Bluesky would refuse.
TEXT_LIMITS: dict[str, int] = {
    "telegram": 4096,
    "discord": 2000,
    "mastodon": 500,
    "bluesky": 300,
    "local": 4000,
}


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do, so the core degrades gracefully instead of special-casing."""

    max_text_length: int
    threads: bool = False
    delete: bool = False
    restrict: bool = False
    edit_events: bool = False
    delete_events: bool = False
    history: bool = False
    # A retried send with the same key cannot post twice (Discord nonce; Mastodon looks
    # among its own posts first); without it an interrupted send is "uncertain", not resent.
    idempotent_send: bool = False
    # The channel can limit how often each participant posts (Discord's slow mode).
    slow_mode: bool = False
    # A chat reads as one thread: each step after the welcome replies to the step
    # before it (Mastodon), so the runner passes ``reply_to`` for them.
    reply_chain: bool = False
    # Upcoming chats can be listed on the platform itself (Discord's scheduled events).
    scheduled_events: bool = False


class PlatformError(Exception):
    """A platform refused or failed a request; ``retryable`` says whether trying again helps."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class DeliveryUncertain(PlatformError):
    """The request may or may not have reached the platform (a timeout after sending).

    Only for no answer after the request left: an answered error, a 5xx included, posted
    nothing and is a plain (retryable) ``PlatformError``."""


class AlertKind(Enum):
    """Problems only the moderators can fix, each with its own translated explanation."""

    # Participants' messages do not reach the bot (Telegram privacy mode, Discord's
    # message content intent): a chat would run and record nothing.
    CANNOT_READ = "cannot-read"
    # The bot lacks a permission it needs; ``detail`` names it in the platform's words.
    MISSING_PERMISSION = "missing-permission"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    channel: ChannelRef | None = None  # None: every channel of the platform
    detail: str = ""


class Host(Protocol):
    """What the core lends an adapter: durable cursors and the moderators' ear.

    Adapters never touch the database; they keep read positions (Telegram's update
    offset, Mastodon's since_id, the last Discord message seen) under keys of their own.
    """

    async def cursor(self, key: str) -> str | None: ...

    async def set_cursor(self, key: str, value: str) -> None:
        """Save a value now: durable once this returns."""
        ...

    async def move_cursor(self, key: str, value: str) -> None:
        """Move a read position past acknowledged events. Saved with the next batch of
        messages the core commits (at once when there is none): a burst costs one save,
        not one per message. Lost in a crash, it only makes the platform deliver again
        what is already stored, and a replay is stored once."""
        ...

    async def alert(self, alert: Alert) -> None:
        """Tell the moderators of every community that uses the channel, in their language."""
        ...


@dataclass(frozen=True, slots=True)
class ScheduledChat:
    """An upcoming chat as a platform's own event listing shows it."""

    key: str  # stable per session (its id in the store), to update rather than duplicate
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    # The plan's slug, which two chats on one day share: only to find listings made by
    # versions that keyed them by it.
    slug: str = ""


@runtime_checkable
class Platform(Protocol):
    """One chat service as the core sees it."""

    name: str
    capabilities: Capabilities
    # What the bot is called there, for "/end@name" and "@name end" commands.
    bot_names: frozenset[str]

    async def start(self, host: Host) -> None:
        """Connect and check access; problems moderators must fix go to ``host.alert``."""
        ...

    async def close(self) -> None: ...

    def events(self) -> AsyncIterator[PlatformEvent]:
        """Incoming messages, edits and deletions, in the order the platform gave them."""
        ...

    async def acknowledge(self, event: PlatformEvent) -> None:
        """Called once ``event`` is durably stored; only then may a read cursor pass it."""
        ...

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        """Post ``text`` (plain, never markup: adapters escape it), split if longer than
        the platform allows; the returned ref is the first part's. ``thread_title``
        marks a question: where the channel runs a thread per question, the post
        opens one with that title."""
        ...

    async def delete(self, message: MessageRef) -> None: ...

    async def is_moderator(self, user: UserRef, channel: ChannelRef) -> bool:
        """Platform-side powers only; the core unites this with the configured list."""
        ...

    async def history(self, channel: ChannelRef, since: datetime) -> list[IncomingMessage]: ...

    async def restrict(self, user: UserRef, channel: ChannelRef, until: datetime | None) -> None:
        """Stop ``user`` posting in ``channel`` until ``until`` (for good if None); called
        again with ``until`` in the past to lift it. Only where ``capabilities.restrict``."""
        ...

    async def set_slow_mode(self, channel: ChannelRef, seconds: int) -> None:
        """At most one post per ``seconds`` per participant; 0 turns it off. Only called
        where ``capabilities.slow_mode`` says the platform has it."""
        ...

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        """Make the platform's event listing for ``channel`` show exactly ``chats``:
        create, update, and cancel those no longer planned. Only where
        ``capabilities.scheduled_events``."""
        ...


@runtime_checkable
class AcknowledgesBatches(Protocol):
    """A platform that takes a committed batch's acknowledgements in one call.

    Optional: the core otherwise calls ``acknowledge`` once per event. A burst of
    messages is committed a few hundred at a time, and a read position only needs to
    move once per batch, so one call per batch spares a call, an await and the cursor
    bookkeeping per message on the event loop.
    """

    async def acknowledge_all(self, events: Sequence[PlatformEvent]) -> None:
        """The same as ``acknowledge`` for each of ``events`` in turn: every one of them
        is durably stored, and they come in the order ``events()`` gave them."""
        ...


@runtime_checkable
class CatchesUp(Protocol):
    """A platform that can say when the backlog waiting for the bot at start is read.

    Optional: the core waits for it (within a bound) before it closes a chat and builds
    its transcript, so that answers sent while the bot was down in a chat's last
    moments are in the record. A platform without it is not waited for; what it
    delivers after the close still reaches the transcript as a late message.
    """

    async def caught_up(self) -> None:
        """Return once every event that was waiting on the platform when ``start``
        returned (Telegram's pending updates, a first poll or history backfill) has been
        yielded by ``events`` and the consumer has asked for the next one, i.e. has
        handled it; the core then commits what it queued. Return at once when there was
        nothing to read. The core bounds the wait, so a stalled read cannot block it."""
        ...


@runtime_checkable
class WebhookReceiver(Protocol):
    """A platform that can take its updates as HTTP POSTs to hashchat's own web server."""

    # The path to serve, such as "/telegram/<secret>"; None when not in webhook mode.
    webhook_path: str | None

    async def receive_webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        """Handle one delivery; the HTTP status to answer (403 for a bad secret)."""
        ...


@runtime_checkable
class DirectMessages(Protocol):
    """A platform that can write to one person privately (a Telegram private chat, a
    Discord DM, a Mastodon direct mention; on the local platform the person's own
    ``@id`` channel). Optional: where a platform lacks it, nothing secret is sent."""

    async def send_direct(self, user: UserRef, text: str) -> MessageRef:
        """Send ``text`` to ``user`` alone; ``PlatformError`` when the platform refuses
        (a Telegram user who never opened a chat with the bot, closed Discord DMs)."""
        ...
