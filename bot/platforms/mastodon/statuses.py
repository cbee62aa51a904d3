"""Statuses as the core sees them: which chat each belongs to, who wrote it, and what it
says, remembering enough of each to reply to it, follow its edits and notice its removal."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import ChannelRef, IncomingMessage, MessageRef, UserRef
from bot.platforms.mastodon.config import is_direct
from bot.platforms.mastodon.text import as_command_or_answer, status_text, without_chat_tags

_REMEMBERED = 20_000
_VISIBILITY = ("public", "unlisted", "private", "direct")
_ANSWER_TAG = re.compile(r"\bA\d+\b", re.IGNORECASE)
# A hashtag is polled from a chat's first post (a reminder, the welcome) until this long
# after its last (the transcript link), so late answers are still read.
ACTIVE_AFTER = timedelta(hours=2)


def stricter(a: str, b: str) -> str:
    """The more private of two visibilities: a reply never shows more than its parent."""
    rank = {v: i for i, v in enumerate(_VISIBILITY)}
    return max(a, b, key=lambda v: rank.get(v, len(_VISIBILITY)))


def aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ValueError(f"not a time: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Seen:
    """A participant's status the bot handed to the core."""

    channel: ChannelRef
    mention: str  # as written after "@" to reach its author
    visibility: str
    edited_at: str | None
    text: str
    answer: bool  # public, no command: may be in a transcript, and be boosted
    seen_at: datetime


class Statuses:
    def __init__(
        self,
        channels: Sequence[ChannelRef],
        *,
        commands: Callable[[], Collection[str]],
        fetch: Callable[[str], Awaitable[Mapping[str, Any] | None]],
        now: Callable[[], datetime],
    ) -> None:
        self.tag_channels = [c for c in channels if not is_direct(c)]
        self.direct_channels = {c.id[1:].casefold(): c for c in channels if is_direct(c)}
        self._commands = commands
        self._fetch = fetch
        self._now = now
        self.me = ""
        self.username = ""
        self.domain = ""
        self.own: OrderedDict[str, ChannelRef] = OrderedDict()
        self.seen: OrderedDict[str, Seen] = OrderedDict()
        self.first_part: dict[str, str] = {}  # a continuation of a split post -> its first
        self.last_part: dict[str, str] = {}  # a split post's first part -> its last
        self.chat_posts: dict[str, datetime] = {}  # hashtag -> when a chat last posted there

    def identify(self, account: Mapping[str, Any], domain: str) -> None:
        self.me = str(account["id"])
        self.username = str(account["username"])
        self.domain = domain

    def posted(self, status_id: str, channel: ChannelRef, first: str | None = None) -> None:
        _remember(self.own, status_id, channel)
        if first is not None and first != status_id:
            self.first_part[status_id] = first
            self.last_part[first] = status_id

    def chat_posted(self, tag: str, at: datetime | None = None) -> None:
        """A chat's step went out under ``tag`` (now, or ``at`` for one found at start)."""
        when = self._now() if at is None else at
        key = tag.casefold()
        if key not in self.chat_posts or when > self.chat_posts[key]:
            self.chat_posts[key] = when

    def active(self, tag: str) -> bool:
        """A chat runs under ``tag``, or did a short while ago."""
        last = self.chat_posts.get(tag.casefold())
        return last is not None and self._now() - last < ACTIVE_AFTER

    def full_acct(self, account: Mapping[str, Any]) -> str:
        acct = str(account["acct"])
        return acct if "@" in acct else f"{acct}@{self.domain}"

    def mention_for(self, acct: str) -> str:
        """How to write an account after "@": a local one needs no server."""
        user, _, server = acct.partition("@")
        return user if server.casefold() in ("", self.domain.casefold()) else acct

    def skipped(self, status: Mapping[str, Any]) -> bool:
        """The bot's own statuses, and boosts: nobody's answer."""
        return str(status["account"]["id"]) == self.me or status.get("reblog") is not None

    async def message(self, status: Mapping[str, Any]) -> IncomingMessage | None:
        """The core's message for a participant's status; None when it belongs to no chat,
        or is a private word to the bot that is no command (never to be published)."""
        channel = await self._channel_for(status)
        if channel is None:
            return None
        text = self.text(status)
        visibility = str(status.get("visibility") or "public")
        command = text.startswith(f"@{self.username} ")
        if visibility in ("private", "direct") and not command:
            return None
        account = status["account"]
        sid = str(status["id"])
        reply_to = status.get("in_reply_to_id")
        parent = None if reply_to is None else str(reply_to)
        parent = self.first_part.get(parent, parent) if parent else None
        edited = status.get("edited_at")
        _remember(
            self.seen,
            sid,
            Seen(
                channel,
                str(account["acct"]),
                visibility,
                None if edited is None else str(edited),
                text,
                answer=visibility in ("public", "unlisted") and not command,
                seen_at=self._now(),
            ),
        )
        return IncomingMessage(
            ref=MessageRef(channel, sid, url=status.get("url") or status.get("uri")),
            author=UserRef(
                "mastodon",
                self.full_acct(account),
                str(account.get("display_name") or account["username"]),
            ),
            text=text,
            sent_at=aware(status["created_at"]),
            reply_to=parent,
            raw=status,
        )

    def text(self, status: Mapping[str, Any]) -> str:
        raw = status_text(str(status.get("content") or ""), str(status.get("spoiler_text") or ""))
        mentions = status.get("mentions") or []
        addressed = any(str(m.get("id")) == self.me for m in mentions)
        text = as_command_or_answer(
            raw, bot_username=self.username, bot_addressed=addressed, commands=self._commands()
        )
        text = without_chat_tags(text, [c.id for c in self.tag_channels])
        return self._full_mentions(text, mentions)

    def _full_mentions(self, text: str, mentions: Sequence[Mapping[str, Any]]) -> str:
        """``@dave`` as servers show a mention, made ``@dave@remote.example``, so that a
        moderator's ``mute @dave`` names the account that is meant."""
        users = [(str(m["username"]), self.full_acct(m)) for m in mentions]
        for username, acct in users:
            unique = sum(u.casefold() == username.casefold() for u, _ in users) == 1
            if unique and acct != f"{self.username}@{self.domain}":
                pattern = rf"(?<![\w@/])@{re.escape(username)}(?![\w@.-])"
                text = re.sub(pattern, "@" + acct, text, flags=re.IGNORECASE)
        return text

    def edited(self, status: Mapping[str, Any]) -> tuple[Seen, str] | None:
        """The remembered status and its new text, when an edit changed what it says."""
        sid = str(status["id"])
        seen = self.seen.get(sid)
        if seen is None:
            return None
        text = self.text(status)
        edited = status.get("edited_at")
        self.seen[sid] = replace(seen, edited_at=None if edited is None else str(edited), text=text)
        return (seen, text) if text != seen.text else None

    def is_answer(self, message: IncomingMessage) -> bool:
        """Worth boosting: public, not a command, tagged A1... or replying to the bot."""
        seen = self.seen.get(message.ref.id)
        if seen is None or not seen.answer:
            return False
        return bool(_ANSWER_TAG.search(message.text)) or (message.reply_to in self.own)

    async def _channel_for(self, status: Mapping[str, Any]) -> ChannelRef | None:
        """By its hashtag, else by the chat post it replies to, else (a direct message from
        a moderator) by that moderator's channel, else the only hashtag configured (else,
        for a moderator's public mention, that moderator's channel)."""
        tags = {str(t["name"]).casefold() for t in status.get("tags") or []}
        for channel in self.tag_channels:
            if channel.id.casefold() in tags:
                return channel
        parent = status.get("in_reply_to_id")
        if parent is not None:
            pid = str(parent)
            known = self.own.get(pid) or (self.seen[pid].channel if pid in self.seen else None)
            if known is not None:
                return known
            if str(status.get("in_reply_to_account_id")) == self.me:
                found = await self._fetch(pid)  # a chat post from before a restart
                names = {str(t["name"]).casefold() for t in (found or {}).get("tags") or []}
                for channel in self.tag_channels:
                    if channel.id.casefold() in names:
                        return channel
        # A moderator's channel takes what was said privately; a public mention belongs
        # to the chat, so that its answer is public too.
        direct = self.direct_channels.get(self.full_acct(status["account"]).casefold())
        public = status.get("visibility") in ("public", "unlisted")
        if direct is not None and not public:
            return direct
        return self.tag_channels[0] if len(self.tag_channels) == 1 else direct


def _remember(store: OrderedDict[str, Any], key: str, value: object) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > _REMEMBERED:
        store.popitem(last=False)
