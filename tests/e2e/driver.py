"""What the end-to-end suite needs of a platform's stand-in: one driver per platform.

The stand-in is its own OS process on 127.0.0.1 that outlives the bot and records every
request; the bot (``hashchat run``) is another process that talks to it only through
the platform's client library. Participants act through the stand-in, as people would.
The suite (tests/e2e/test_*.py) is written once against this protocol and parametrised
over every driver in ``tests/e2e/platforms/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Post:
    """A message the bot posted, as the stand-in recorded it."""

    id: str  # the platform's message id, as a participant would reply to it
    channel: str  # hashchat's channel string, e.g. "telegram:-1001234" or "local:main"
    text: str  # the visible text (markup removed)
    at: datetime  # aware: when the stand-in accepted it
    reply_to: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Features:
    """What participants can do on this platform, so the suite skips nothing silently."""

    reply: bool = True  # answer by replying to a question's post
    thread: bool = False  # answer inside the question's thread/topic
    edit: bool = True  # an edit reaches the bot
    delete: bool = True  # a deletion reaches the bot
    idempotent_send: bool = True  # a resend after a crash cannot post twice


class Driver(Protocol):
    name: str  # "local", "telegram", "discord", "mastodon"
    features: Features
    channel: str  # the chat's channel, in hashchat's syntax
    moderator_channel: str | None  # where moderator notices go, if the platform has one

    async def start(self, workdir: Path) -> None:
        """Start the stand-in process and wait (with a deadline) until it answers."""
        ...

    async def stop(self) -> None:
        """Stop the stand-in process."""
        ...

    def config(self) -> str:
        """The ``[platforms.<name>]`` TOML section pointing the adapter at the stand-in."""
        ...

    def env(self) -> dict[str, str]:
        """Environment variables the bot process needs (tokens), added to os.environ."""
        ...

    async def posts(self) -> list[Post]:
        """Every message the bot has posted so far, in the order the stand-in took them
        (notices to moderators included, in their channel)."""
        ...

    async def say(
        self, who: str, text: str, *, reply_to: str | None = None, thread: str | None = None
    ) -> str:
        """A participant (``who``: a short name such as "ann") posts ``text`` in the chat's
        channel, optionally replying to a post id or inside the thread of a post id;
        returns the new message's id."""
        ...

    async def edit(self, who: str, message_id: str, text: str) -> None: ...

    async def delete(self, who: str, message_id: str) -> None: ...

    async def fail_posts(self, ratio: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        """From now on refuse ``ratio`` of the bot's posts with one of ``statuses``
        (for the chaos benchmark); 0 turns it off."""
        ...
