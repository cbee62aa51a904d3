"""Platform-neutral values that cross the port between adapters and the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is not UTC and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """One place on one platform; ``thread`` names a forum topic or sub-thread.

    Written in config as ``platform:id`` or ``platform:id/thread``.
    """

    platform: str
    id: str
    thread: str | None = None

    @classmethod
    def parse(cls, text: str) -> ChannelRef:
        platform, sep, rest = text.partition(":")
        if not sep or not platform or not rest:
            raise ValueError(f"expected 'platform:id' such as 'telegram:-100123', got {text!r}")
        ident, slash, thread = rest.partition("/")
        if not ident or (slash and not thread):
            raise ValueError(f"expected 'platform:id' or 'platform:id/thread', got {text!r}")
        return cls(platform=platform.strip().lower(), id=ident.strip(), thread=thread or None)

    def __str__(self) -> str:
        base = f"{self.platform}:{self.id}"
        return f"{base}/{self.thread}" if self.thread else base


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on one platform; ``name`` is for display only and never trusted."""

    platform: str
    id: str
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> UserRef:
        platform, sep, ident = text.partition(":")
        if not sep or not platform or not ident:
            raise ValueError(f"expected 'platform:user-id' such as 'telegram:123456', got {text!r}")
        return cls(platform=platform.strip().lower(), id=ident.strip())

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a posted or received message lives, so it can be replied to or linked."""

    channel: ChannelRef
    id: str
    url: str | None = None


@dataclass(slots=True, kw_only=True)
class IncomingMessage:
    """A participant's message as the core needs it, whatever platform it came from.

    Treated as immutable (``dataclasses.replace`` makes a changed copy), but not frozen:
    a frozen class sets each field through a call, which made building one cost 1.0 µs
    instead of 0.4, and every message a platform delivers is built once."""

    ref: MessageRef
    author: UserRef
    text: str
    sent_at: datetime
    reply_to: str | None = None
    # The text of the bot's own post that ``reply_to`` names, where the platform shows
    # it (Telegram's reply_to_message): evidence of which question a reply answers even
    # when the bot never learnt that post's id (its send was cut off by a crash).
    reply_to_bot_text: str | None = None
    raw: object = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.sent_at.tzinfo is not UTC:  # (every message passes here: UTC costs no call)
            _require_aware(self.sent_at, "sent_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited:
    """A stored message's new text; attribution is recomputed from it."""

    ref: MessageRef
    text: str
    edited_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.edited_at, "edited_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDeleted:
    """The platform reported a deletion; the message leaves the transcript."""

    ref: MessageRef
    deleted_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.deleted_at, "deleted_at")


PlatformEvent = IncomingMessage | MessageEdited | MessageDeleted
