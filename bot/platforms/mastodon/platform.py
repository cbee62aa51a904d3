"""Mastodon: the bot's account posts each chat as one reply chain under the hashtag, and
reads answers from the hashtag, replies and mentions, streamed or else polled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from bot.clock import Clock
from bot.config import Config, PlatformSettings
from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageRef,
    PlatformEvent,
    UserRef,
)
from bot.platforms import registry
from bot.platforms.base import (
    TEXT_LIMITS,
    Alert,
    AlertKind,
    Capabilities,
    Host,
    PlatformError,
    ScheduledChat,
)
from bot.platforms.event_queue import EventQueue
from bot.platforms.mastodon.api import Api, client, status_code, streaming_client
from bot.platforms.mastodon.config import (
    MastodonOptions,
    chat_hashtags,
    is_direct,
    mastodon_channels,
)
from bot.platforms.mastodon.intake import order
from bot.platforms.mastodon.pace import Budget, Sleep
from bot.platforms.mastodon.reading import Reading
from bot.platforms.mastodon.resend import OwnPosts
from bot.platforms.mastodon.statuses import Statuses, aware, stricter
from bot.platforms.mastodon.text import has_tag, inert, split_to_fit, weighted_length

log = logging.getLogger(__name__)


def _commands() -> Collection[str]:
    from bot.commands import COMMANDS  # registered by the feature modules at start-up

    return COMMANDS.keys()


class MastodonPlatform:
    name = "mastodon"

    def __init__(
        self,
        *,
        options: MastodonOptions,
        token: str,
        channels: Sequence[ChannelRef],
        clock: Clock,
        keep_tags: Collection[str] = (),
        sleep: Sleep = asyncio.sleep,
        backoff: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``sleep`` waits between polls and ``backoff`` before retries: tests drive both."""
        self.options = options
        self.clock = clock
        self.channels = list(channels)
        self.keep_tags = set(keep_tags) | {c.id for c in channels if not is_direct(c)}
        self.capabilities = Capabilities(
            max_text_length=TEXT_LIMITS["mastodon"],
            edit_events=True,
            delete_events=True,
            history=True,
            idempotent_send=True,
            reply_chain=True,
        )
        self.bot_names: frozenset[str] = frozenset()
        self.url_length = 23
        self.domain = ""
        self.host: Host | None = None
        connect = partial(client, options.api_base_url, token, options.request_timeout)
        self.api = Api(connect(), Budget(monotonic=monotonic, sleep=backoff))
        self.own_posts = OwnPosts(self.api, clock.now, backoff)
        self.statuses = Statuses(channels, commands=_commands, fetch=self._fetch, now=clock.now)
        self._events = EventQueue()
        streamer = partial(streaming_client, options.api_base_url, token, options.request_timeout)
        self.reading = Reading(self, sleep=sleep, streamer=streamer)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # the port -------------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        self.host = host
        try:
            me = await self.api.read(self.api.mastodon.account_verify_credentials)
        except PlatformError as exc:
            hint = "" if "scope" in str(exc) else (
                f"; is the access token in {self.options.token_env} valid?"
            )  # fmt: skip
            raise PlatformError(f"could not sign in to Mastodon: {exc}{hint}") from exc
        try:
            streaming = await self._instance()
        except PlatformError as exc:
            raise PlatformError(f"could not read the Mastodon server's settings: {exc}") from exc
        self.statuses.identify(me, self.domain)
        for status in await self.own_posts.load(self.statuses.me):
            for tag in status.get("tags") or []:
                self.statuses.chat_posted(str(tag["name"]), aware(status["created_at"]))
        self.bot_names = frozenset(
            {self.statuses.username, f"{self.statuses.username}@{self.domain}"}
        )
        log.info("mastodon: signed in as @%s@%s", self.statuses.username, self.domain)
        await self.reading.start(host, streaming=streaming and self.options.streaming)

    async def _instance(self) -> bool:
        """The server's own limits and name; True when it offers streaming."""
        try:
            info = await self.api.read(self.api.mastodon.instance_v2)
            config = info["configuration"]
            self.domain = str(info["domain"])
            streaming = (config.get("urls") or {}).get("streaming")
        except PlatformError:
            info = await self.api.read(self.api.mastodon.instance_v1)
            config = info.get("configuration") or {}
            self.domain = str(info["uri"])
            streaming = (info.get("urls") or {}).get("streaming_api")
        statuses = config.get("statuses") or {}
        limit = int(statuses.get("max_characters") or TEXT_LIMITS["mastodon"])
        self.url_length = int(statuses.get("characters_reserved_per_url") or 23)
        self.capabilities = replace(self.capabilities, max_text_length=limit)
        return bool(streaming)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.reading.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.close()
        self._events.close()

    def events(self) -> AsyncIterator[PlatformEvent]:
        return self._events.events()

    def emit(self, event: PlatformEvent) -> None:
        self._events.put(event)

    def backlog_read(self) -> None:
        """Each source read from the start has had its first read (``Reading`` says so):
        what it brought is queued, so the core has handled it when it reaches the mark."""
        self._events.backlog_read()

    async def caught_up(self) -> None:
        """Return once what waited on the server at start (the hashtag's and the
        notifications' first reads from their stored cursors) is handled by the core."""
        await self._events.caught_up()

    async def acknowledge(self, event: PlatformEvent) -> None:
        if not isinstance(event, IncomingMessage):
            return
        await self.reading.acknowledged(event.ref.id)
        if self.options.boost_answers and self.statuses.is_answer(event):
            self._background(self._boost(event.ref.id))

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        # Only the chat's own steps come with a key: they carry the hashtag and the
        # configured content warning; replies to people and notices do not.
        chat_post = idempotency_key is not None and not is_direct(channel)
        visibility: str = self.options.visibility
        prefix = ""
        parent = None if reply_to is None else self.statuses.last_part.get(reply_to, reply_to)
        answers_public = False  # a participant's public status: answered in public
        if reply_to is not None and reply_to not in self.statuses.own:
            seen = self.statuses.seen.get(reply_to)
            mention, parent_visibility = (
                (seen.mention, seen.visibility) if seen else await self._author_of(reply_to)
            )
            if mention:
                prefix = f"@{mention} "
                visibility = stricter(visibility, parent_visibility)
                answers_public = parent_visibility in ("public", "unlisted")
        if is_direct(channel) and not answers_public:
            prefix = f"@{self.statuses.mention_for(channel.id[1:])} "
            visibility = "direct"
        body = inert(text, self.keep_tags)
        parts = self._fit(body, prefix, channel.id if chat_post else None)
        first: MessageRef | None = None
        for number, part in enumerate(parts, start=1):
            key = idempotency_key if number == 1 or idempotency_key is None else (
                f"{idempotency_key}/{number}"
            )  # fmt: skip
            try:
                status = await self.own_posts.post(
                    key,
                    status=prefix + part,
                    in_reply_to_id=parent,
                    visibility=visibility,
                    spoiler_text=self.options.content_warning if chat_post else None,
                )
            except PlatformError as exc:
                await self.alert_on(exc, None if is_direct(channel) else channel, "write:statuses")
                raise
            sid = str(status["id"])
            self.statuses.posted(sid, channel, None if first is None else first.id)
            if chat_post:
                self.statuses.chat_posted(channel.id)
            if first is None:
                first = MessageRef(channel, sid, url=status.get("url") or status.get("uri"))
            parent = sid
        assert first is not None
        return first

    async def send_direct(self, user: UserRef, text: str) -> MessageRef:
        """A status of ``direct`` visibility that mentions the person alone."""
        return await self.send(ChannelRef(self.name, f"@{user.id}"), text)

    def _fit(self, body: str, prefix: str, tag: str | None) -> list[str]:
        """The post's parts within the instance's limit, each with the chat's hashtag."""
        limit = self.capabilities.max_text_length - weighted_length(prefix, self.url_length)
        suffix = f" #{tag}" if tag else ""
        if not tag or has_tag(body, tag):
            if weighted_length(body, self.url_length) <= limit:
                return [body]
        elif weighted_length(body + suffix, self.url_length) <= limit:
            return [body + suffix]
        parts = split_to_fit(body, limit - len(suffix), self.url_length)
        return [p if not tag or has_tag(p, tag) else p + suffix for p in parts]

    async def _author_of(self, status_id: str) -> tuple[str, str]:
        found = await self._fetch(status_id)
        if found is None or self.statuses.skipped(found):
            return "", "public"
        return str(found["account"]["acct"]), str(found.get("visibility") or "public")

    async def _fetch(self, status_id: str) -> Mapping[str, Any] | None:
        try:
            found: Mapping[str, Any] = await self.api.read(self.api.mastodon.status, status_id)
        except PlatformError as exc:
            log.warning("could not look up Mastodon status %s: %s", status_id, exc)
            return None
        return found

    async def delete(self, message: MessageRef) -> None:
        """The bot's own posts only: the server refuses others' (a bot has no powers)."""
        try:
            await self.api.read(self.api.mastodon.status_delete, message.id)
        except PlatformError as exc:
            if status_code(exc.__cause__) != 404:
                raise

    async def is_moderator(self, user: UserRef, channel: ChannelRef) -> bool:
        return False  # only the configured accounts: a bot has no powers on its server

    async def history(self, channel: ChannelRef, since: datetime) -> list[IncomingMessage]:
        """The hashtag's public statuses since ``since``, at most a few pages back."""
        if is_direct(channel):
            return []
        found: list[IncomingMessage] = []
        max_id: str | None = None
        for _ in range(5):
            page = await self.api.read(
                self.api.mastodon.timeline_hashtag, channel.id, max_id=max_id, limit=40
            )
            if not page:
                break
            for status in page:
                if self.statuses.skipped(status):
                    continue
                message = await self.statuses.message(status)
                if message is not None and message.ref.channel == channel:
                    found.append(message)
            if min(aware(s["created_at"]) for s in page) < since:
                break
            max_id = min((str(s["id"]) for s in page), key=order)
        return sorted((m for m in found if m.sent_at >= since), key=lambda m: m.sent_at)

    async def restrict(self, user: UserRef, channel: ChannelRef, until: datetime | None) -> None:
        raise PlatformError("a Mastodon bot cannot stop anyone posting")

    async def set_slow_mode(self, channel: ChannelRef, seconds: int) -> None:
        raise PlatformError("Mastodon has no slow mode")

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        return None  # no event listing; capabilities.scheduled_events is False

    # moderators' alerts and boosts ------------------------------------------------------

    async def alert_on(self, exc: PlatformError, channel: ChannelRef | None, needs: str) -> None:
        """Tell the moderators when the server refuses for want of a permission."""
        code = status_code(exc.__cause__) if exc.__cause__ else None
        if code in (401, 403) and self.host is not None:
            kind = AlertKind.CANNOT_READ if needs.startswith("read") else (
                AlertKind.MISSING_PERMISSION
            )  # fmt: skip
            await self.host.alert(Alert(kind, channel, needs))

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _boost(self, status_id: str) -> None:
        """So the bot's followers see the answers too: hashtags do not reach every server."""
        with contextlib.suppress(PlatformError):
            await self.api.read(self.api.mastodon.status_reblog, status_id)
            return
        log.warning("could not boost Mastodon status %s", status_id)


def from_config(
    config: Config, settings: PlatformSettings, clock: Clock, env: Mapping[str, str]
) -> MastodonPlatform:
    options = registry.options(config, "mastodon", MastodonOptions)
    token = registry.secret(config, "mastodon", env)
    return MastodonPlatform(
        options=options,
        token=token,
        channels=mastodon_channels(config),
        clock=clock,
        keep_tags=chat_hashtags(config),
    )
