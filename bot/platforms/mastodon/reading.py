"""Reading a Mastodon account: hashtag and user streams when the server offers them,
polling with ``min_id`` when it does not or while a stream is down, and backfilling from
the stored cursors after any gap, so nothing is lost and nothing is handed over twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from mastodon import Mastodon
from mastodon.streaming import StreamListener

from bot.domain import MessageDeleted, MessageEdited, MessageRef
from bot.platforms.base import Host, PlatformError
from bot.platforms.mastodon.intake import Source, Stream, order
from bot.platforms.mastodon.pace import Sleep, poll_interval
from bot.platforms.mastodon.refresh import Refresher
from bot.platforms.mastodon.statuses import aware

if TYPE_CHECKING:
    from bot.platforms.mastodon.platform import MastodonPlatform

log = logging.getLogger(__name__)

NOTIFICATIONS = "notifications"
BEGINNING = "0"  # a cursor before any id
PAGE = 40
IDLE = 60.0  # seconds between refreshes while every stream is live
STREAM_READ_TIMEOUT = 90  # servers send a heartbeat every 15 s or so
MAX_SKIPPED_CYCLES = 16  # reconnection backoff, counted in poll cycles


class Reading:
    def __init__(
        self, platform: MastodonPlatform, *, sleep: Sleep, streamer: Callable[[], Mastodon]
    ) -> None:
        """``streamer`` makes the client whose connection the streams share."""
        self.p = platform
        self._sleep = sleep
        self._new_streamer = streamer
        self.sources: dict[str, Source] = {}
        self.streams: dict[str, Stream] = {}
        self._live: set[str] = set()  # sources whose stream has said it is connected
        self._settled: dict[str, asyncio.Event] = {}
        self._inbox: asyncio.Queue[tuple[str, str, Any]] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._emitted: set[str] = set()
        # Statuses handed to the core and not yet acknowledged: what is in flight, so its
        # size is bounded by the batch, not by the chat. Any other status a source holds
        # was emitted once and acknowledged (``_take`` emits every status it files).
        self._unacknowledged: set[str] = set()
        self._done = _Done(self._unacknowledged)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._streaming = False
        self._failures = 0
        self._skip_cycles = 0
        self._streamer: Mastodon | None = None
        self.refresher = Refresher(platform, edited=self._edited, deleted=self._deleted)
        self._modes: dict[str, str] = {}  # how each source is read, as last logged
        # Sources fetched once since start (the backlog), until every wanted one is.
        self._read_once: set[str] = set()
        self._backlog_told = False

    async def start(self, host: Host, *, streaming: bool) -> None:
        self.host = host
        self._streaming = streaming
        keys = [f"tag:{c.id.casefold()}" for c in self.p.statuses.tag_channels] + [NOTIFICATIONS]
        for key in keys:
            saved = await host.cursor(key)
            if saved is None:  # a first start: from now on, not the whole history
                saved = await self._newest(key)
                if saved is not None:
                    await host.set_cursor(key, saved)
            self.sources[key] = Source(key, saved)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._digest(), name="mastodon-digest"))
        self._tasks.append(loop.create_task(self._supervise(), name="mastodon-reading"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(s.stop() for s in self.streams.values()))
        self.streams.clear()
        if self._streamer is not None:
            self._streamer.session.close()

    async def acknowledged(self, status_id: str) -> None:
        self._unacknowledged.discard(status_id)
        await self._advance()

    # the loop ---------------------------------------------------------------------------

    async def _supervise(self) -> None:
        woken = False
        while True:
            try:
                if self._streaming and not woken:
                    await self._connect()
                await self._poll()
                await self.refresher.refresh()
            except PlatformError as exc:
                log.warning("mastodon: reading failed, trying again later: %s", exc)
            except Exception:
                log.exception("mastodon: reading failed")
            self._report_modes()
            woken = await self._pause(self.interval())

    def interval(self) -> float:
        behind = [k for k, s in self.sources.items() if not s.synced and self._wanted(k)]
        if not behind:
            return IDLE
        if self.p.options.poll_interval is not None:
            return self.p.options.poll_interval
        return poll_interval(len(behind) + 1 + self.refresher.requests_per_cycle())

    def _wanted(self, key: str) -> bool:
        """Polled now: the notifications always (they carry the commands), a hashtag only
        around a chat (from its first post until a while after its last), or once to
        catch up where its live stream takes over."""
        if key == NOTIFICATIONS or key in self._live:
            return True
        return self.p.statuses.active(key.removeprefix("tag:"))

    def _report_modes(self) -> None:
        """Say at INFO how each source is read, whenever that changes."""
        every = self.interval()
        for key, source in self.sources.items():
            if key in self._live and source.synced:
                mode = "streamed"
            elif not self._wanted(key):
                mode = "not polled between chats"
            else:
                mode = f"polled every {every:.0f} s"
            if self._modes.get(key) != mode:
                self._modes[key] = mode
                name = "#" + key.removeprefix("tag:") if key != NOTIFICATIONS else (
                    "the notifications (mentions, replies, commands)"
                )  # fmt: skip
                log.info("mastodon: %s %s %s", name, "is" if key != NOTIFICATIONS else "are", mode)

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``, or less when a stream drops; True when cut short."""
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
        woken = self._wake.is_set()
        self._wake.clear()
        return woken

    # streams ----------------------------------------------------------------------------

    async def _connect(self) -> None:
        """(Re)open the streams that are down, unless recent failures say to wait."""
        down = [k for k in self.sources if k not in self.streams]
        if not down:
            return
        if self._skip_cycles > 0:
            self._skip_cycles -= 1
            return
        loop = asyncio.get_running_loop()
        if self._streamer is None:
            self._streamer = self._new_streamer()
        streamer = self._streamer
        for key in down:
            self._settled[key] = asyncio.Event()
            if key == NOTIFICATIONS:
                opener: Any = partial(streamer.stream_user, run_async=False)
            else:
                opener = partial(streamer.stream_hashtag, key.removeprefix("tag:"), run_async=False)
            stream = Stream(key, partial(_open, opener), loop, partial(self._on_stream, key))
            self.streams[key] = stream
            stream.start()
        # Tasks, not a gather: cancelled at close, a gather's error went unretrieved.
        waits = [asyncio.ensure_future(self._settled[k].wait()) for k in down]
        try:
            await asyncio.wait(waits, timeout=self.p.options.request_timeout)
        finally:
            for waiting in waits:
                waiting.cancel()
        if all(k in self._live for k in down):
            self._failures = 0
            return
        self._failures += 1
        self._skip_cycles = min(2 ** (self._failures - 1), MAX_SKIPPED_CYCLES) - 1
        log.debug("mastodon: streaming unavailable, polling instead")

    def _on_stream(self, key: str, kind: str, payload: Any) -> None:
        if kind == "connected":
            self._live.add(key)
            self._settled[key].set()
        elif kind == "ended":
            if key in self._live:
                self._wake.set()  # poll at once to cover the gap
            self._live.discard(key)
            self.streams.pop(key, None)
            self.sources[key].synced = False
            self._settled[key].set()
        else:
            self._inbox.put_nowait((key, kind, payload))

    async def _digest(self) -> None:
        while True:
            key, kind, payload = await self._inbox.get()
            try:
                await self._stream_event(key, kind, payload)
            except Exception:
                log.exception("mastodon: could not read a %s event", kind)

    async def _stream_event(self, key: str, kind: str, payload: Any) -> None:
        source = self.sources[key]
        if kind == "update" and key != NOTIFICATIONS:
            await self._take(source, str(payload["id"]), payload, contiguous=source.synced)
        elif kind == "notification" and payload.get("type") == "mention":
            status = payload.get("status")
            await self._take(source, str(payload["id"]), status, contiguous=source.synced)
        elif kind == "edit":
            self._edited(payload)
        elif kind == "delete":
            self._deleted(str(payload))
        else:
            return
        await self._advance()

    # polling ----------------------------------------------------------------------------

    async def _poll(self) -> None:
        """Fetch every source not covered by a live stream, from its position to now."""
        for key, source in self.sources.items():
            if source.synced or not self._wanted(key):
                continue
            was_live = key in self._live
            try:
                await self._backfill(source)
            except PlatformError as exc:
                await self._refused(key, exc)
                continue
            self._read_once.add(key)
            # From here the stream, connected before this poll began, has the rest.
            source.synced = was_live and key in self._live
        await self._advance()
        self._tell_backlog_read()

    def _tell_backlog_read(self) -> None:
        """Once every source read now has had its first read, tell the platform: the
        backlog is queued. A hashtag not polled between chats is not waited for (it may
        not be read for days); a failed read is, as it is tried again next cycle."""
        if self._backlog_told:
            return
        if all(key in self._read_once or not self._wanted(key) for key in self.sources):
            self._backlog_told = True
            self.p.backlog_read()

    async def _backfill(self, source: Source) -> None:
        while True:
            page = await self._page(source.key, min_id=source.position)
            items = sorted(page, key=lambda item: order(str(item["id"])))
            for item in items:
                status = item.get("status") if source.key == NOTIFICATIONS else item
                mention = source.key != NOTIFICATIONS or item.get("type") == "mention"
                await self._take(source, str(item["id"]), status if mention else None,
                                 contiguous=True)  # fmt: skip
            if len(items) < PAGE:
                return

    async def _page(self, key: str, **params: Any) -> Any:
        api = self.p.api
        if key == NOTIFICATIONS:
            return await api.read(api.mastodon.notifications, types=["mention"], limit=PAGE,
                                  **params)  # fmt: skip
        return await api.read(api.mastodon.timeline_hashtag, key.removeprefix("tag:"),
                              limit=PAGE, **params)  # fmt: skip

    async def _newest(self, key: str) -> str | None:
        try:
            page = await self._page(key)
        except PlatformError as exc:
            await self._refused(key, exc)
            return None
        # Nothing there yet: everything from the start on is new, also after a restart
        # (left unsaved, a restart would take the first item to arrive for "now").
        return max((str(i["id"]) for i in page), key=order, default=BEGINNING)

    async def _refused(self, key: str, exc: PlatformError) -> None:
        log.warning("mastodon: could not read %s: %s", key, exc)
        if key == NOTIFICATIONS:
            await self.p.alert_on(exc, None, "read:notifications")
        else:
            tag = key.removeprefix("tag:")
            channel = next(c for c in self.p.statuses.tag_channels if c.id.casefold() == tag)
            await self.p.alert_on(exc, channel, "read:statuses")

    # statuses ---------------------------------------------------------------------------

    async def _take(
        self, source: Source, item: str, status: Mapping[str, Any] | None, *, contiguous: bool
    ) -> None:
        """Hand a status to the core once, whichever source brought it first."""
        async with self._lock:
            if status is None or self.p.statuses.skipped(status):
                source.add(item, None, contiguous=contiguous)
                return
            sid = str(status["id"])
            if sid in self._emitted:
                source.add(item, sid, contiguous=contiguous)
                return
            message = await self.p.statuses.message(status)
            if message is None:
                source.add(item, None, contiguous=contiguous)
                return
            self._emitted.add(sid)
            self._unacknowledged.add(sid)
            source.add(item, sid, contiguous=contiguous)
            self.p.emit(message)

    def _edited(self, status: Mapping[str, Any]) -> None:
        change = self.p.statuses.edited(status)
        if change is None:
            return
        seen, text = change
        when = status.get("edited_at") or self.p.clock.now()
        ref = MessageRef(seen.channel, str(status["id"]))
        self.p.emit(MessageEdited(ref=ref, text=text, edited_at=aware(when)))

    def _deleted(self, status_id: str) -> None:
        seen = self.p.statuses.seen.pop(status_id, None)
        if seen is not None:
            ref = MessageRef(seen.channel, status_id)
            self.p.emit(MessageDeleted(ref=ref, deleted_at=self.p.clock.now()))

    async def _advance(self) -> None:
        for source in self.sources.values():
            moved = source.advance(self._done)
            if moved is not None:
                await self.host.move_cursor(source.key, moved)


class _Done:
    """The acknowledged statuses as ``Source.advance`` asks about them: those in flight
    are not, every other one it holds is."""

    __slots__ = ("_pending",)

    def __init__(self, pending: set[str]) -> None:
        self._pending = pending

    def __contains__(self, status: object) -> bool:
        return status not in self._pending


def _open(opener: Any, listener: StreamListener) -> object:
    result: object = opener(listener, timeout=STREAM_READ_TIMEOUT)
    return result
