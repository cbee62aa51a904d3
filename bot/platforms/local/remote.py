"""The local platform reached over HTTP: the port implemented against ``hashchat
local-server`` (``[platforms.local] server = "http://127.0.0.1:8765"``).

The server outlives the bot, so this adapter is held to what real adapters are: the
read offset is the host's cursor and moves only in :meth:`acknowledge`, after the core
committed the event; a post carries an idempotency key, so a resend after a crash is
shown once; a 429 or 5xx means nothing was posted (the server refuses before posting),
while a request cut off after it was sent may have been posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

import aiohttp

from bot.clock import Clock
from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    MessageRef,
    PlatformEvent,
    UserRef,
)
from bot.platforms.base import (
    DeliveryUncertain,
    Host,
    PlatformError,
    ScheduledChat,
)
from bot.platforms.local.platform import BOT, LocalPlatform

log = logging.getLogger(__name__)

OFFSET = "offset"  # the host cursor: the first update not yet stored
POLL_SECONDS = 20
REQUEST_SECONDS = 10.0


class RemoteLocalPlatform:
    name = "local"
    bot_names = frozenset({BOT.id})
    capabilities = LocalPlatform.capabilities

    def __init__(self, server: str, clock: Clock, *, admins: Iterable[UserRef] = ()) -> None:
        self.server = server.rstrip("/")
        self.clock = clock
        self.admins = {u.id for u in admins}
        self._host: Host | None = None
        self._http: aiohttp.ClientSession | None = None
        self._closing = asyncio.Event()
        self._caught_up = asyncio.Event()
        self._backlog_end = 0
        self._read_from = 1  # the next update to fetch (read ahead of the cursor)
        self._saved = 1  # the cursor as stored: every update before it is committed
        self._unacked: dict[int, bool] = {}  # update id -> acknowledged, in order
        # id(event) -> (event, update id) until acknowledged; the event is kept so its
        # id cannot be reused by another object meanwhile.
        self._ids: dict[int, tuple[PlatformEvent, int]] = {}

    # the port -------------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        self._host = host
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=POLL_SECONDS + REQUEST_SECONDS)
        )
        try:
            health = await self._call("GET", "/health")
        except PlatformError as exc:
            await self.close()
            raise PlatformError(
                f"the local server at {self.server} does not answer: {exc}"
            ) from exc
        stored = await host.cursor(OFFSET)
        self._read_from = self._saved = int(stored) if stored else 1
        # What was waiting before this start: caught_up() returns once it is handled.
        self._backlog_end = int(health.get("last_update", 0))
        if self._backlog_end < self._read_from:
            self._caught_up.set()
        log.info("local platform: reading %s from update %d", self.server, self._read_from)

    async def close(self) -> None:
        self._closing.set()
        self._caught_up.set()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def events(self) -> AsyncIterator[PlatformEvent]:
        backoff = 0.5
        while not self._closing.is_set():
            try:
                updates = await self._poll()
            except PlatformError as exc:
                if self._closing.is_set():
                    return
                log.warning("could not read %s, again in %.1f s: %s", self.server, backoff, exc)
                await self._pause(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if updates is None:
                return
            backoff = 0.5
            for update in updates:
                ident = int(update["update_id"])
                if ident < self._read_from:
                    continue
                self._read_from = ident + 1
                event = _event(update)
                self._unacked[ident] = False
                self._ids[id(event)] = (event, ident)
                yield event
                # Resumed only when the core asks for more, i.e. has handled this one.
                if ident >= self._backlog_end:
                    self._caught_up.set()

    async def caught_up(self) -> None:
        """Return once the updates waiting on the server at start are handled, so a chat
        that ended while the bot was down closes with its last answers."""
        await self._caught_up.wait()

    async def acknowledge(self, event: PlatformEvent) -> None:
        held = self._ids.pop(id(event), None)
        if held is None:
            return
        ident = held[1]
        self._unacked[ident] = True
        offset = self._saved
        while self._unacked.get(offset):
            del self._unacked[offset]
            offset += 1
        if offset != self._saved and self._host is not None:
            await self._host.move_cursor(OFFSET, str(offset))
            self._saved = offset

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        body = {
            "channel": channel.id,
            "thread": channel.thread,
            "text": text,
            "reply_to": reply_to,
            "idempotency_key": idempotency_key,
        }
        data = await self._call("POST", "/bot/send", body, sending=True)
        return self._ref(channel, str(data["message"]["id"]))

    async def send_direct(self, user: UserRef, text: str) -> MessageRef:
        """Privately: the local platform gives each person a channel of their own, ``@id``."""
        return await self.send(ChannelRef(self.name, f"@{user.id}"), text)

    async def delete(self, message: MessageRef) -> None:
        await self._call("POST", "/bot/delete", {"id": message.id})

    async def is_moderator(self, user: UserRef, channel: ChannelRef) -> bool:
        return user.platform == self.name and user.id in self.admins

    async def history(self, channel: ChannelRef, since: datetime) -> list[IncomingMessage]:
        query = {"channel": channel.id, "since": since.isoformat()}
        data = await self._call("GET", "/bot/history", params=query)
        found = [_incoming(m) for m in data["messages"]]
        return [m for m in found if channel.thread is None or m.ref.channel == channel]

    async def restrict(self, user: UserRef, channel: ChannelRef, until: datetime | None) -> None:
        body = {
            "channel": channel.id,
            "user": user.id,
            "until": None if until is None else until.isoformat(),
        }
        await self._call("POST", "/bot/restrict", body)

    async def set_slow_mode(self, channel: ChannelRef, seconds: int) -> None:
        await self._call("POST", "/bot/slow_mode", {"channel": channel.id, "seconds": seconds})

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        return None  # no event listing; capabilities.scheduled_events is False

    # internals --------------------------------------------------------------------------

    def _ref(self, channel: ChannelRef, ident: str) -> MessageRef:
        return MessageRef(channel, ident)

    async def _poll(self) -> list[dict[str, Any]] | None:
        """The next updates; None once closed. The close cancels a poll in flight."""
        query = {"offset": str(self._read_from), "timeout": str(POLL_SECONDS)}
        request = asyncio.ensure_future(self._call("GET", "/bot/updates", params=query))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({request, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not request.done():
                request.cancel()
                await asyncio.gather(request, return_exceptions=True)
        if request.cancelled() or self._closing.is_set():
            return None
        updates: list[dict[str, Any]] = request.result()["updates"]
        return updates

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        sending: bool = False,
    ) -> dict[str, Any]:
        """One request; a refusal is a PlatformError, a request cut off after it went out
        is DeliveryUncertain when it was a post (it may have been posted)."""
        if self._http is None:
            raise PlatformError("the local platform is not connected")
        timeout = aiohttp.ClientTimeout(total=REQUEST_SECONDS if params is None else None)
        try:
            async with self._http.request(
                method, self.server + path, json=body, params=params, timeout=timeout
            ) as response:
                data: dict[str, Any] = await response.json(content_type=None)
                status = response.status
        except aiohttp.ClientConnectorError as exc:
            raise PlatformError(f"cannot connect: {exc}", retryable=True) from exc
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            message = f"{method} {path} failed: {exc!r}"
            if sending:
                raise DeliveryUncertain(message, retryable=True) from exc
            raise PlatformError(message, retryable=True) from exc
        if status >= 400:
            error = data.get("error", "") if isinstance(data, dict) else ""
            retryable = status == 429 or status >= 500
            raise PlatformError(f"{method} {path}: {status} {error}".strip(), retryable=retryable)
        return data


def _event(update: dict[str, Any]) -> PlatformEvent:
    message = update["message"]
    when = datetime.fromisoformat(update["at"])
    if update["kind"] == "edit":
        return MessageEdited(ref=_message_ref(message), text=message["text"], edited_at=when)
    if update["kind"] == "delete":
        return MessageDeleted(ref=_message_ref(message), deleted_at=when)
    return _incoming(message)


def _message_ref(m: dict[str, Any]) -> MessageRef:
    return MessageRef(ChannelRef("local", m["channel"], m.get("thread")), str(m["id"]))


def _incoming(m: dict[str, Any]) -> IncomingMessage:
    return IncomingMessage(
        ref=_message_ref(m),
        author=UserRef("local", m["user"], m.get("name") or m["user"]),
        text=m["text"],
        sent_at=datetime.fromisoformat(m["at"]),
        reply_to=m.get("reply_to"),
        reply_to_bot_text=m.get("reply_to_bot_text"),
    )
