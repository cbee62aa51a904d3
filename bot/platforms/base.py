"""The narrow port every platform adapter, and the local platform, satisfies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.domain import ChannelRef, IncomingMessage, MessageRef, PlatformEvent, UserRef

# Static limits so agendas can be validated before any adapter is started.
TEXT_LIMITS: dict[str, int] = {"telegram": 4096, "discord": 2000, "mastodon": 500, "local": 4000}


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
    # A retried send with the same key cannot post twice (Discord nonce, Mastodon
    # Idempotency-Key); without it an interrupted send is "uncertain", not resent.
    idempotent_send: bool = False
    # The channel can limit how often each participant posts (Discord's slow mode).
    slow_mode: bool = False


class PlatformError(Exception):
    """A platform refused or failed a request; ``retryable`` says whether trying again helps."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class DeliveryUncertain(PlatformError):
    """The request may or may not have reached the platform (a timeout after sending)."""


@runtime_checkable
class Platform(Protocol):
    """One chat service as the core sees it."""

    name: str
    capabilities: Capabilities
    # What the bot is called there, for "/end@name" and "@name end" commands.
    bot_names: frozenset[str]

    async def start(self) -> None: ...

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
    ) -> MessageRef: ...

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
