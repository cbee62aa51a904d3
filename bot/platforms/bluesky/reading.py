"""Reading Bluesky: Jetstream's JSON stream of every post on the network, filtered to
the chats' hashtags, their threads and mentions of the bot, from the durable cursor on;
a hashtag search fills a gap older than the stream's replay window. Deletions in the
stream remove answers (Bluesky has no edits). Reconnects resume where the last event
was read; what was handed over twice is handed over once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp

from bot.domain import MessageDeleted, MessageRef
from bot.platforms.base import Host, PlatformError
from bot.platforms.bluesky.cursor import Cursor
from bot.platforms.bluesky.posts import Item, did_of

if TYPE_CHECKING:
    from bot.platforms.bluesky.platform import BlueskyPlatform

log = logging.getLogger(__name__)

CURSOR_KEY = "jetstream"
AHEAD_KEY = "jetstream-stored-ahead"  # what was stored past the cursor (JSON list)
AUTHORS_KEY = "bluesky-authors"  # DIDs of those whose posts were handed over (JSON list)
MAX_AUTHORS = 5000
POST = "app.bsky.feed.post"
QUIET = 1.0  # seconds without a replayed event after which the replay is taken as done
RETRY = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds before reconnecting, after each failure
SEARCH_PAGES = 10
OVERLAP_US = 60 * 10**6  # the stream starts this far before the search ended


class Reading:
    def __init__(self, platform: BlueskyPlatform, *, wall: Callable[[], float] = time.time) -> None:
        self.p = platform
        self._wall = wall
        self.cursor = Cursor(None)
        self._emitted: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._moving: asyncio.Task[None] | None = None  # the batch's position, once
        self._http: aiohttp.ClientSession | None = None
        self._start_us = 0
        self._backlog_told = False
        self.host: Host | None = None
        self.authors: dict[str, None] = {}  # an ordered set, oldest first

    async def start(self, host: Host) -> None:
        self.host = host
        self._start_us = int(self._wall() * 1e6)
        stored = await host.cursor(CURSOR_KEY)
        saved = int(stored) if stored and stored.isdigit() else None
        if saved is None:  # a first start: from now on, not the network's history
            saved = self._start_us
            await host.set_cursor(CURSOR_KEY, str(saved))
        self.cursor = Cursor(saved)
        authors = await host.cursor(AUTHORS_KEY)
        self.authors = dict.fromkeys(json.loads(authors) if authors else [])
        ahead = await host.cursor(AHEAD_KEY)
        self._emitted |= set(json.loads(ahead)) if ahead else set()
        window_us = int(self.p.options.replay_window * 1e6)
        if self._start_us - saved > window_us:
            await self._search_since(saved)
            self.cursor.took(self._start_us - OVERLAP_US)  # the stream takes over from here
        self._http = aiohttp.ClientSession()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="bluesky-jetstream")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._moving is not None:  # the last batch's position still goes
            await asyncio.gather(self._moving, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def acknowledged(self, key: str) -> None:
        """Acknowledgements come a committed batch at a time: the position (and what is
        stored past it) is moved once for the batch, after its last one, and saved
        with the core's next commit, never in a transaction per post."""
        if self.cursor.acknowledged(key) and self._moving is None:
            self._moving = asyncio.get_running_loop().create_task(self._move())

    async def _move(self) -> None:
        try:
            await asyncio.sleep(0)  # the rest of the batch's acknowledgements first
            await self._save(urgent=True)
        finally:
            self._moving = None

    async def _save(self, *, urgent: bool) -> None:
        value = self.cursor.to_save(urgent=urgent)
        if value is not None and self.host is not None:
            await self.host.move_cursor(CURSOR_KEY, str(value))
        if urgent and self.host is not None:
            ahead = sorted(k for k in self.cursor.stored_ahead if not k.startswith("deleted:"))
            await self.host.move_cursor(AHEAD_KEY, json.dumps(ahead))

    # the stream -------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
                failures = 0
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("bluesky: Jetstream connection failed: %s", exc)
            except Exception:
                log.exception("bluesky: reading Jetstream failed")
            self._tell_backlog_read()  # nothing more of the backlog will come soon
            await asyncio.sleep(RETRY[min(failures, len(RETRY) - 1)])
            failures += 1

    def _url(self) -> str:
        query = {"wantedCollections": POST, "cursor": str(self.cursor.read + 1)}
        return f"{self.p.options.jetstream}/subscribe?{urlencode(query)}"

    async def _listen(self) -> None:
        assert self._http is not None
        timeout = aiohttp.ClientWSTimeout(ws_close=5)
        async with self._http.ws_connect(self._url(), heartbeat=30, timeout=timeout) as ws:
            log.info("bluesky: reading Jetstream from %s", _time(self.cursor.read))
            while True:
                wait = None if self._backlog_told else QUIET
                try:
                    frame = await ws.receive(timeout=wait)
                except TimeoutError:
                    self._tell_backlog_read()
                    continue
                if frame.type != aiohttp.WSMsgType.TEXT:
                    log.info("bluesky: Jetstream closed the connection (%s)", frame.type.name)
                    return
                await self._event(json.loads(frame.data))

    async def _event(self, event: dict[str, Any]) -> None:
        time_us = int(event.get("time_us") or 0)
        commit = event.get("commit") or {}
        key: str | None = None
        if event.get("kind") == "commit" and commit.get("collection") == POST:
            uri = f"at://{event['did']}/{POST}/{commit['rkey']}"
            if commit.get("operation") == "create" and isinstance(commit.get("record"), dict):
                at = datetime.fromtimestamp(time_us / 1e6, tz=UTC)
                key = await self.take(Item(uri, str(commit.get("cid")), str(event["did"]),
                                           commit["record"], at))  # fmt: skip
            elif commit.get("operation") == "delete":
                key = self._deleted(uri)
        self.cursor.took(time_us, key)
        await self._save(urgent=False)
        if time_us >= self._start_us:
            self._tell_backlog_read()

    async def take(self, item: Item) -> str | None:
        """Hand a post to the core once; the key to wait for, when handed over."""
        if item.uri in self._emitted:
            return None
        message = await self.p.posts.message(item)
        if message is None:
            return None
        self._emitted.add(item.uri)
        await self._remember_author(item.did)
        self.p.emit(message)
        return item.uri

    def _deleted(self, uri: str) -> str | None:
        """A participant's post went: out of the transcript. One handed over before a
        restart is not remembered, but its author is (``authors``): its deletion goes
        to the core for each chat, which removes it where it is stored."""
        known = self.p.posts.seen.pop(uri, None)
        if known is not None:
            channels = [known.channel]
        elif did_of(uri) in self.authors:
            channels = list(self.p.posts.channels)
        else:
            return None
        for channel in channels:
            self.p.emit(MessageDeleted(ref=MessageRef(channel, uri), deleted_at=self.p.clock.now()))
        return f"deleted:{uri}"

    async def _remember_author(self, did: str) -> None:
        if did in self.authors:
            return
        self.authors[did] = None
        while len(self.authors) > MAX_AUTHORS:
            del self.authors[next(iter(self.authors))]
        if self.host is not None:
            await self.host.set_cursor(AUTHORS_KEY, json.dumps(list(self.authors)))

    def _tell_backlog_read(self) -> None:
        if not self._backlog_told:
            self._backlog_told = True
            self.p.backlog_read()

    # the search backfill ----------------------------------------------------------------

    async def _search_since(self, since_us: int) -> None:
        """Posts with each chat's hashtag since ``since_us``, oldest first: the stream
        no longer replays that far back. Replies without the hashtag are not found."""
        since = datetime.fromtimestamp(since_us / 1e6, tz=UTC)
        log.info("bluesky: the stored cursor (%s) is older than Jetstream replays; searching"
                 " the hashtags instead", _time(since_us))  # fmt: skip
        for channel in self.p.posts.channels:
            try:
                found = await self.p.search(channel.id, since, SEARCH_PAGES)
            except PlatformError as exc:
                log.warning("bluesky: could not search #%s: %s", channel.id, exc)
                continue
            for item in sorted(found, key=lambda i: i.at):
                key = await self.take(item)
                if key is not None:
                    self.cursor.took(int(item.at.timestamp() * 1e6), key)


def _time(time_us: int) -> str:
    with contextlib.suppress(ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(time_us / 1e6, tz=UTC).isoformat(timespec="seconds")
    return str(time_us)
