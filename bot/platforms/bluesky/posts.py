"""Posts as the core sees them: which chat each belongs to (its hashtag, else the chat
thread it replies into, else a mention of the bot), who wrote it and what it says,
remembering enough of each (its CID and thread root) to reply to it and to notice its
deletion. A post is the same whether Jetstream, search or a lookup brought it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain import ChannelRef, IncomingMessage, MessageRef, UserRef
from bot.platforms.bluesky.text import mentioned, record_tags, without_chat_tags

_REMEMBERED = 20_000
Ref = tuple[str, str]  # (uri, cid): what a reply names


@dataclass(frozen=True, slots=True)
class Item:
    """One post from anywhere: its address, author and record (plain JSON)."""

    uri: str
    cid: str
    did: str
    record: Mapping[str, Any]
    at: datetime  # when the network took it (Jetstream's time, the AppView's indexedAt)

    @property
    def root(self) -> Ref | None:
        root = (self.record.get("reply") or {}).get("root")
        return None if not root else (str(root["uri"]), str(root["cid"]))

    @property
    def parent(self) -> str | None:
        parent = (self.record.get("reply") or {}).get("parent")
        return None if not parent else str(parent["uri"])


@dataclass(frozen=True, slots=True)
class Known:
    """A post the bot made or handed over: where it is, and the thread it is in."""

    channel: ChannelRef
    cid: str
    root: Ref  # the thread's first post (the post itself when it starts one)


def did_of(uri: str) -> str:
    """``at://did:plc:x/app.bsky.feed.post/rkey`` -> ``did:plc:x``."""
    return uri.removeprefix("at://").split("/", 1)[0]


def web_url(handle: str, uri: str) -> str:
    return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"


def when(value: str) -> datetime:
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


Lookup = Callable[[str], Awaitable[Item | None]]
Profile = Callable[[str], Awaitable[tuple[str, str]]]


class Posts:
    def __init__(
        self,
        channels: Sequence[ChannelRef],
        *,
        lookup: Lookup,
        profile: Profile,
    ) -> None:
        self.channels = list(channels)
        self._lookup = lookup
        self._profile = profile
        self.me = ""
        self.handle = ""
        self.own: OrderedDict[str, Known] = OrderedDict()
        self.seen: OrderedDict[str, Known] = OrderedDict()
        self.first_part: dict[str, str] = {}  # a continuation of a split post -> its first
        self.last_part: dict[str, str] = {}  # a split post's first part -> its last
        self.handles: dict[str, str] = {}  # handle -> DID, of the authors seen

    def known(self, uri: str) -> Known | None:
        return self.own.get(uri) or self.seen.get(uri)

    def posted(self, uri: str, known: Known, first: str | None = None) -> None:
        _remember(self.own, uri, known)
        if first is not None and first != uri:
            self.first_part[uri] = first
            self.last_part[first] = uri

    def channel_of_tags(self, record: Mapping[str, Any]) -> ChannelRef | None:
        tags = record_tags(record)
        return next((c for c in self.channels if c.id.casefold() in tags), None)

    async def channel_for(self, item: Item) -> ChannelRef | None:
        """By hashtag; else by the chat thread it replies into (looked up when the bot's
        own post is from before a restart); else, for a mention of the bot, the only
        chat configured."""
        channel = self.channel_of_tags(item.record)
        if channel is not None:
            return channel
        for uri in (item.parent, item.root[0] if item.root else None):
            if uri is None:
                continue
            known = self.known(uri)
            if known is not None:
                return known.channel
            if did_of(uri) == self.me:
                found = await self._lookup(uri)
                if found is not None and (channel := self.channel_of_tags(found.record)):
                    root = found.root or (found.uri, found.cid)
                    _remember(self.own, uri, Known(channel, found.cid, root))
                    return channel
        if self.me in mentioned(item.record) and len(self.channels) == 1:
            return self.channels[0]
        return None

    async def message(self, item: Item) -> IncomingMessage | None:
        """The core's message for a participant's post; None when it is the bot's own
        or belongs to no chat."""
        if item.did == self.me:
            return None
        channel = await self.channel_for(item)
        if channel is None:
            return None
        handle, name = await self._profile(item.did)
        self.handles[handle.casefold()] = item.did
        root = item.root or (item.uri, item.cid)
        _remember(self.seen, item.uri, Known(channel, item.cid, root))
        parent = item.parent
        parent = self.first_part.get(parent, parent) if parent else None
        text = without_chat_tags(str(item.record.get("text") or ""), [c.id for c in self.channels])
        return IncomingMessage(
            ref=MessageRef(channel, item.uri, url=web_url(handle, item.uri)),
            author=UserRef("bluesky", handle, name or handle),
            text=text,
            sent_at=item.at,
            reply_to=parent,
            raw=dict(item.record),
        )


def _remember(store: OrderedDict[str, Any], key: str, value: object) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > _REMEMBERED:
        store.popitem(last=False)
