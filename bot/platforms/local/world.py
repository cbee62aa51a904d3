"""The local chat server's state: channels, messages and the bot's update feed, in memory.

Pure state with no I/O, so the HTTP layer (``local_server``) stays thin. Every change a
participant makes becomes a numbered update the bot reads with an offset, as Telegram's
``getUpdates`` works; every message keeps the time the server accepted it, which the
end-to-end suite reads to measure how late each step was posted.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

BOT = "hashchat"


class Refused(Exception):
    """The server says no; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    channel: str
    thread: str | None
    user: str
    name: str
    text: str
    at: datetime  # when the server accepted it
    reply_to: str | None = None
    edited_at: datetime | None = None
    # The bot's own post replied to, as a platform shows it with the reply.
    reply_to_bot_text: str | None = None
    deleted_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("at", "edited_at", "deleted_at"):
            value = data[key]
            data[key] = None if value is None else value.isoformat()
        data["by_bot"] = self.user == BOT
        return data


@dataclass(frozen=True, slots=True)
class Update:
    update_id: int
    kind: str  # "message", "edit" or "delete"
    message: Message
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "kind": self.kind,
            "message": self.message.to_json(),
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Send:
    """One request of the bot to post, kept so tests can count resends and refusals."""

    key: str | None
    status: int
    at: datetime
    message_id: str | None = None
    duplicate: bool = False


class World:
    """Everything the local server knows; ``now`` is passed in so tests need no clock."""

    def __init__(self, *, max_text_length: int = 4000, seed: int | None = None) -> None:
        self.max_text_length = max_text_length
        self.messages: dict[str, Message] = {}
        self.updates: list[Update] = []  # update_id n is updates[n - 1]
        self.sends: list[Send] = []
        self.slow_mode: dict[str, int] = {}  # channel -> seconds between posts
        self.restricted: dict[tuple[str, str], datetime | None] = {}  # (channel, user)
        self.fail_ratio = 0.0
        self.fail_statuses: tuple[int, ...] = (429, 500)
        self._random = random.Random(seed)
        self._ids = itertools.count(1)
        self._keys: dict[str, str] = {}  # idempotency key -> message id

    # participants ---------------------------------------------------------------------

    def say(
        self,
        now: datetime,
        *,
        channel: str,
        user: str,
        text: str,
        name: str = "",
        thread: str | None = None,
        reply_to: str | None = None,
    ) -> Message:
        if not channel or not user or user == BOT:
            raise Refused(400, "a message needs a channel and a user other than the bot")
        self._check_allowed(now, channel, user)
        message = self._add(now, channel, thread, user, name or user, text, reply_to)
        self._update(now, "message", message)
        return message

    def edit(self, now: datetime, ident: str, user: str, text: str) -> Message:
        message = self._own(ident, user)
        changed = replace(message, text=text, edited_at=now)
        self.messages[ident] = changed
        self._update(now, "edit", changed)
        return changed

    def remove(self, now: datetime, ident: str, user: str) -> Message:
        message = self._own(ident, user)
        changed = replace(message, deleted_at=now)
        self.messages[ident] = changed
        self._update(now, "delete", changed)
        return changed

    # the bot ----------------------------------------------------------------------------

    def send(
        self,
        now: datetime,
        *,
        channel: str,
        text: str,
        thread: str | None = None,
        reply_to: str | None = None,
        key: str | None = None,
    ) -> tuple[Message, bool]:
        """Post for the bot; (message, True) when ``key`` was already posted, so a resend
        after a crash is shown once. A simulated fault refuses before anything is posted."""
        if self.fail_ratio and self._random.random() < self.fail_ratio:
            status = self._random.choice(self.fail_statuses)
            self.sends.append(Send(key, status, now))
            raise Refused(status, "simulated failure: nothing was posted")
        if key is not None and key in self._keys:
            message = self.messages[self._keys[key]]
            self.sends.append(Send(key, 200, now, message.id, duplicate=True))
            return message, True
        if len(text) > self.max_text_length:
            self.sends.append(Send(key, 400, now))
            raise Refused(400, f"message of {len(text)} characters is over the limit")
        message = self._add(now, channel, thread, BOT, BOT, text, reply_to)
        if key is not None:
            self._keys[key] = message.id
        self.sends.append(Send(key, 200, now, message.id))
        return message, False

    def delete(self, now: datetime, ident: str) -> None:
        """The bot deletes a message (a moderator's /delete); like Telegram, the bot is
        not told about its own deletions."""
        if ident not in self.messages:
            raise Refused(404, f"no message {ident}")
        self.messages[ident] = replace(self.messages[ident], deleted_at=now)

    def restrict(self, channel: str, user: str, until: datetime | None, now: datetime) -> None:
        if until is not None and until <= now:
            self.restricted.pop((channel, user), None)
        else:
            self.restricted[(channel, user)] = until

    def set_slow_mode(self, channel: str, seconds: int) -> None:
        self.slow_mode[channel] = max(0, seconds)

    def updates_from(self, offset: int) -> list[Update]:
        return self.updates[max(offset, 1) - 1 :]

    def history(self, channel: str, since: datetime) -> list[Message]:
        return [
            m
            for m in self.messages.values()
            if m.channel == channel and m.at >= since and m.user != BOT and m.deleted_at is None
        ]

    def set_faults(self, ratio: float, statuses: tuple[int, ...]) -> None:
        if not 0 <= ratio <= 1 or not statuses:
            raise Refused(400, "ratio must be between 0 and 1, with at least one status")
        self.fail_ratio, self.fail_statuses = ratio, statuses

    # internals --------------------------------------------------------------------------

    def _check_allowed(self, now: datetime, channel: str, user: str) -> None:
        if (channel, user) in self.restricted:
            until = self.restricted[(channel, user)]
            if until is None or until > now:
                raise Refused(403, f"{user} may not post in {channel} now")
        seconds = self.slow_mode.get(channel, 0)
        if seconds:
            last = max(
                (m.at for m in self.messages.values() if m.user == user and m.channel == channel),
                default=None,
            )
            if last is not None and now - last < timedelta(seconds=seconds):
                raise Refused(403, f"slow mode: one message every {seconds} seconds in {channel}")

    def _own(self, ident: str, user: str) -> Message:
        message = self.messages.get(ident)
        if message is None or message.deleted_at is not None:
            raise Refused(404, f"no message {ident}")
        if message.user != user:
            raise Refused(403, f"message {ident} is not {user}'s")
        return message

    def _add(
        self,
        now: datetime,
        channel: str,
        thread: str | None,
        user: str,
        name: str,
        text: str,
        reply_to: str | None,
    ) -> Message:
        message = Message(str(next(self._ids)), channel, thread, user, name, text, now, reply_to)
        replied = self.messages.get(reply_to) if reply_to is not None else None
        if replied is not None and replied.user == BOT and user != BOT:
            message = replace(message, reply_to_bot_text=replied.text)
        self.messages[message.id] = message
        return message

    def _update(self, now: datetime, kind: str, message: Message) -> None:
        self.updates.append(Update(len(self.updates) + 1, kind, message, now))
