"""Bluesky: the bot's account posts each chat as one reply thread under the hashtag
(the welcome its root, each step replying to the one before), and reads answers from
Jetstream: posts with the hashtag, replies anywhere in the thread, mentions of the bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from atproto_client import models
from atproto_client.models.utils import get_model_as_dict

from bot.clock import Clock
from bot.config import Config, PlatformSettings
from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageRef,
    PlatformEvent,
    UserRef,
)
from bot.platforms import registry
from bot.platforms.base import Alert, AlertKind, Capabilities, Host, PlatformError, ScheduledChat
from bot.platforms.bluesky import api
from bot.platforms.bluesky.config import (
    DID,
    BlueskyOptions,
    bluesky_channels,
    bluesky_moderators,
    chat_hashtags,
)
from bot.platforms.bluesky.posts import Item, Known, Posts, did_of, web_url, when
from bot.platforms.bluesky.reading import Reading
from bot.platforms.bluesky.resend import OwnPosts
from bot.platforms.bluesky.session import sign_in
from bot.platforms.bluesky.text import MAX_GRAPHEMES, fits, record_tags, rich_text, split_to_fit
from bot.platforms.event_queue import EventQueue

log = logging.getLogger(__name__)


class BlueskyPlatform:
    name = "bluesky"

    def __init__(
        self,
        *,
        options: BlueskyOptions,
        password: str,
        channels: Sequence[ChannelRef],
        clock: Clock,
        keep_tags: Collection[str] = (),
        moderators: Collection[str] = (),
        backoff: api.Sleep = asyncio.sleep,
    ) -> None:
        """``backoff`` waits before retries and rate-limit resets: tests drive it."""
        self.options = options
        self.clock = clock
        self.capabilities = Capabilities(
            max_text_length=MAX_GRAPHEMES,
            delete_events=True,
            idempotent_send=True,
            reply_chain=True,
        )
        self.bot_names: frozenset[str] = frozenset({options.handle})
        self.keep_tags = {t.casefold() for t in keep_tags} | {c.id.casefold() for c in channels}
        self._password = password
        self._moderators = list(moderators)
        self.moderator_dids: set[str] = set()
        self._backoff = backoff
        self.client = api.client(options.service, options.request_timeout)
        self.posts = Posts(channels, lookup=self.lookup, profile=self.profile)
        self.own_posts = OwnPosts(self.feed, clock.now, backoff)
        self.reading = Reading(self)
        self._profiles: dict[str, tuple[str, str]] = {}
        self._events = EventQueue()
        self._closed = False
        self.host: Host | None = None

    # the port -------------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        self.host = host
        try:
            me = await sign_in(self.client, self.options, self._password)
        except PlatformError:
            await self.client.request.close()  # the core does not close what did not start
            raise
        self.posts.me, self.posts.handle = me
        self._profiles[me[0]] = (me[1], me[1])
        self.moderator_dids = await self._resolve_moderators()
        for item in await self.own_posts.load():
            channel = self.posts.channel_of_tags(item.record)
            if channel is not None:
                self.posts.posted(
                    item.uri, Known(channel, item.cid, item.root or (item.uri, item.cid))
                )
        log.info("bluesky: signed in as @%s", me[1])
        await self.reading.start(host)

    async def _resolve_moderators(self) -> set[str]:
        """The configured moderators' DIDs: a handle can change hands, a DID cannot."""
        dids: set[str] = set()
        for ident in self._moderators:
            if DID.match(ident):
                dids.add(ident)
                continue
            try:
                answer = await api.read(
                    partial(self.client.resolve_handle, ident), f"resolving @{ident}"
                )
            except PlatformError as exc:
                log.warning(
                    "bluesky: the moderator @%s is not found (%s); they cannot steer chats",
                    ident,
                    exc,
                )
                continue
            dids.add(answer.did)
        return dids

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.reading.close()
        await self.client.request.close()
        self._events.close()

    def events(self) -> AsyncIterator[PlatformEvent]:
        return self._events.events()

    def emit(self, event: PlatformEvent) -> None:
        self._events.put(event)

    def backlog_read(self) -> None:
        self._events.backlog_read()

    async def caught_up(self) -> None:
        """Return once what Jetstream replayed from the stored cursor (and any search
        backfill) is handled by the core."""
        await self._events.caught_up()

    async def acknowledge(self, event: PlatformEvent) -> None:
        if isinstance(event, IncomingMessage):
            await self.reading.acknowledged(event.ref.id)
        elif isinstance(event, MessageDeleted):
            await self.reading.acknowledged(f"deleted:{event.ref.id}")

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        parent_uri = None if reply_to is None else self.posts.last_part.get(reply_to, reply_to)
        parent = None if parent_uri is None else await self._thread_of(parent_uri)
        parts = self._fit(text, channel.id if idempotency_key is not None else None)
        first: MessageRef | None = None
        for number, part in enumerate(parts, start=1):
            key = idempotency_key if number == 1 or idempotency_key is None else (
                f"{idempotency_key}/{number}"
            )  # fmt: skip
            builder = rich_text(part, tags=self.keep_tags, mentions=self.posts.handles)
            reply = None
            if parent is not None:
                reply = models.AppBskyFeedPost.ReplyRef(
                    root=models.ComAtprotoRepoStrongRef.Main(
                        uri=parent[1].root[0], cid=parent[1].root[1]
                    ),
                    parent=models.ComAtprotoRepoStrongRef.Main(uri=parent[0], cid=parent[1].cid),
                )

            async def made(builder: Any = builder, reply: Any = reply) -> Item:
                answer = await api.write(lambda: self.client.send_post(builder, reply_to=reply),
                                         "posting", self._backoff)  # fmt: skip
                record = {"text": builder.build_text(), "reply": None if reply is None else
                          get_model_as_dict(reply)}  # fmt: skip
                return Item(answer.uri, answer.cid, self.posts.me, record, self.clock.now())

            try:
                item = await self.own_posts.post(
                    key, part, None if parent is None else parent[0], made
                )
            except PlatformError as exc:
                await self._alert_on(exc, channel)
                raise
            root = parent[1].root if parent is not None else (item.uri, item.cid)
            known = Known(channel, item.cid, root)
            self.posts.posted(item.uri, known, None if first is None else first.id)
            if first is None:
                first = MessageRef(channel, item.uri, url=web_url(self.posts.handle, item.uri))
            parent = (item.uri, known)
        assert first is not None
        return first

    async def _alert_on(self, exc: PlatformError, channel: ChannelRef) -> None:
        """Tell the moderators when Bluesky refuses the session (a revoked app password)."""
        if api.status_code(exc.__cause__) in (401, 403) and self.host is not None:
            detail = f"a valid app password in {self.options.token_env}"
            await self.host.alert(Alert(AlertKind.MISSING_PERMISSION, channel, detail))

    def _fit(self, body: str, tag: str | None) -> list[str]:
        """The post's parts within 300 graphemes, each with the chat's hashtag."""
        suffix = f" #{tag}" if tag else ""
        has_tag = tag is not None and tag.casefold() in record_tags({"text": body})
        if (not tag or has_tag) and fits(body):
            return [body]
        if tag and not has_tag and fits(body + suffix):
            return [body + suffix]
        parts = split_to_fit(body, MAX_GRAPHEMES - len(suffix))
        return [
            p if not tag or tag.casefold() in record_tags({"text": p}) else p + suffix
            for p in parts
        ]

    async def _thread_of(self, uri: str) -> tuple[str, Known] | None:
        """A post to reply to, with its CID and thread root; looked up when not known."""
        known = self.posts.known(uri)
        if known is not None:
            return uri, known
        found = await self.lookup(uri)
        if found is None:
            log.warning("bluesky: the post %s to reply to is gone; posting on its own", uri)
            return None
        channel = self.posts.channel_of_tags(found.record) or ChannelRef("bluesky", "")
        return uri, Known(channel, found.cid, found.root or (found.uri, found.cid))

    async def delete(self, message: MessageRef) -> None:
        """The bot's own posts only: a Bluesky account can delete nothing but its own."""
        if did_of(message.id) != self.posts.me:
            raise PlatformError("a Bluesky bot cannot delete other people's posts")
        await api.read(lambda: self.client.delete_post(message.id), "deleting a post")

    async def is_moderator(self, user: UserRef, channel: ChannelRef) -> bool:
        """The configured moderators' DIDs (the core matches configured handles itself):
        the handle in ``user`` maps to the DID its post came from, so a configured DID,
        or a handle resolved at start, counts after its owner changes handle."""
        did = self.posts.handles.get(user.id.casefold())
        return did is not None and did in self.moderator_dids

    async def history(self, channel: ChannelRef, since: datetime) -> list[IncomingMessage]:
        return []  # capabilities.history is False: reading catches up from its cursor

    async def restrict(self, user: UserRef, channel: ChannelRef, until: datetime | None) -> None:
        raise PlatformError("a Bluesky bot cannot stop anyone posting")

    async def set_slow_mode(self, channel: ChannelRef, seconds: int) -> None:
        raise PlatformError("Bluesky has no slow mode")

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        return None

    # lookups --------------------------------------------------------------------------

    async def lookup(self, uri: str) -> Item | None:
        try:
            answer = await api.read(lambda: self.client.get_posts([uri]), "reading a post")
        except PlatformError as exc:
            log.warning("bluesky: could not look up %s: %s", uri, exc)
            return None
        return next((_item(p) for p in answer.posts), None)

    async def profile(self, did: str) -> tuple[str, str]:
        """(handle, display name) of an author, looked up once."""
        if did not in self._profiles:
            try:
                found = await api.read(lambda: self.client.get_profile(did), "reading a profile")
                self._profiles[did] = (found.handle.casefold(), found.display_name or found.handle)
            except PlatformError as exc:
                log.warning("bluesky: could not read the profile of %s: %s", did, exc)
                return did, did
        return self._profiles[did]

    async def feed(self, limit: int) -> list[Item]:
        answer = await api.read(lambda: self.client.get_author_feed(self.posts.me, limit=limit),
                                "reading the bot's own posts")  # fmt: skip
        return [_item(f.post) for f in answer.feed if f.reason is None]

    async def search(self, tag: str, since: datetime, pages: int) -> list[Item]:
        found: list[Item] = []
        cursor: str | None = None
        for _ in range(pages):
            params = models.AppBskyFeedSearchPosts.Params(
                q=f"#{tag}",
                tag=[tag],
                since=since.isoformat(),
                sort="latest",
                limit=100,
                cursor=cursor,
            )
            search = partial(self.client.app.bsky.feed.search_posts, params)
            answer = await api.read(search, f"searching #{tag}")
            found += [_item(p) for p in answer.posts]
            cursor = answer.cursor
            if not cursor:
                break
        return [i for i in found if i.at >= since]


def _item(view: Any) -> Item:
    record: Mapping[str, Any] = get_model_as_dict(view.record)
    return Item(view.uri, view.cid, view.author.did, record, when(view.indexed_at))


def from_config(
    config: Config, settings: PlatformSettings, clock: Clock, env: Mapping[str, str]
) -> BlueskyPlatform:
    options = registry.options(config, "bluesky", BlueskyOptions)
    password = registry.secret(config, "bluesky", env)
    return BlueskyPlatform(
        options=options,
        password=password,
        channels=bluesky_channels(config),
        clock=clock,
        keep_tags=chat_hashtags(config),
        moderators=[ident for _, ident in bluesky_moderators(config)],
    )
