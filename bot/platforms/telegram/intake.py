"""Telegram updates in: long-polled or posted to the webhook, handed to the core in order,
and confirmed to Telegram only once stored (at least once in, never lost)."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from telegram import Bot, Update
from telegram.error import EndPointNotFound, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.domain import PlatformEvent
from bot.platforms.base import Host
from bot.platforms.telegram.errors import retry_after
from bot.platforms.telegram.inflight import Inflight
from bot.platforms.telegram.limits import Sleep
from bot.platforms.telegram.plain import plain_message
from bot.platforms.telegram.updates import ALLOWED_UPDATES, member_change_chat, to_events

log = logging.getLogger("bot.platforms.telegram")

OFFSET = "offset"  # the host cursor holding the first update not yet stored
MAX_REDELIVERIES = 3  # fetches of an update the core keeps failing to store
# Seconds between two empty answers at least: a server that does not hold a long poll
# (some proxies, some self-hosted servers) would otherwise be asked hundreds of times a second.
EMPTY_POLL_SECONDS = 1.0
# getUpdates' default limit: a batch this full means more updates may still be waiting.
FULL_BATCH = 100
Json = dict[str, Any]


def quiet_raw_updates_note() -> None:
    """``Bot.do_api_request`` notes that ``get_updates`` exists: hashchat asks for the
    raw updates on purpose (``Intake._fetch``), so the note would only be noise."""
    warnings.filterwarnings(
        "ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning
    )


class Intake:
    """One run's reading. Polling asks for more only once the last batch is stored, as
    the next getUpdates confirms it to Telegram; a webhook delivery is answered 200 only
    once stored, so Telegram delivers it again otherwise."""

    def __init__(
        self,
        host: Host,
        *,
        sleep: Sleep,
        monotonic: Callable[[], float],
        poll_seconds: int,
        read_timeout: float,
        redeliver_after: float,
        webhook_wait: float,
        admins_changed: Callable[[int], None],
    ) -> None:
        self._host = host
        self._sleep = sleep
        self._monotonic = monotonic
        self._poll_seconds = poll_seconds
        self._read_timeout = read_timeout  # of the getUpdates connection, beside its poll
        self._redeliver_after = redeliver_after  # seconds without progress on a batch
        self._webhook_wait = webhook_wait  # Telegram gives up on a delivery after about 60 s
        self._admins_changed = admins_changed
        self._queue: asyncio.Queue[PlatformEvent | None] = asyncio.Queue()
        self._inflight = Inflight()
        self._progress = asyncio.Event()
        self._saving = asyncio.Lock()
        self._saved: int | None = None
        self._stalls: Counter[int] = Counter()
        self._deliveries: dict[int, asyncio.Future[bool]] = {}  # webhook: update -> stored
        self._poller: asyncio.Task[None] | None = None
        self._reading = False
        self._reader_done = asyncio.Event()
        self._stopped = False
        # What waited on Telegram when polling began (the backlog): still being fetched,
        # and how many of its events the core has not handled yet. A webhook has none.
        self._catching_up = False
        self._backlog = 0
        self._caught_up = asyncio.Event()
        self._caught_up.set()

    async def poll(self, bot: Bot) -> None:
        """Start long polling from the stored offset."""
        stored = await self._host.cursor(OFFSET)
        self._inflight.offset = self._saved = None if stored is None else int(stored)
        self._catching_up = True
        self._caught_up.clear()
        self._poller = asyncio.create_task(self._poll(bot), name="telegram-updates")

    async def stop(self) -> None:
        """Events not yet taken are dropped: unacknowledged, they come again after a
        restart. The one the core has in hand is finished first."""
        self._stopped = True
        self._caught_up.set()  # nothing more will be read
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        while not self._queue.empty():
            self._queue.get_nowait()
        for delivery in self._deliveries.values():
            if not delivery.done():
                delivery.set_result(False)
        self._queue.put_nowait(None)
        if self._reading:
            try:
                async with asyncio.timeout(10):
                    await self._reader_done.wait()
            except TimeoutError:
                log.warning("the core did not finish its last Telegram message in time")

    async def events(self) -> AsyncIterator[PlatformEvent]:
        queue = self._queue
        self._reading = True
        try:
            while (event := await queue.get()) is not None:
                yield event
                # Resumed: the core asks for the next event, so it has handled this one.
                if self._backlog:
                    self._backlog -= 1
                    self._check_caught_up()
        finally:
            self._reader_done.set()

    async def caught_up(self) -> None:
        """Return once the updates waiting when polling began are handled by the core."""
        await self._caught_up.wait()

    def _check_caught_up(self) -> None:
        if not self._catching_up and not self._backlog:
            self._caught_up.set()

    async def acknowledge(self, event: PlatformEvent) -> None:
        update_id = self._inflight.ack(event)
        self._progress.set()
        if update_id is not None and update_id in self._deliveries:
            delivery = self._deliveries.pop(update_id)
            self._inflight.discard(update_id)
            if not delivery.done():
                delivery.set_result(True)
        if self._inflight.advance():
            await self._save_offset()

    async def receive(self, bot: Bot, body: bytes) -> int:
        """One webhook delivery, its secret already checked: the HTTP status to answer."""
        if self._stopped:
            return 503
        try:
            update = json.loads(body)
            ident = update["update_id"]
        except (ValueError, TypeError, KeyError):
            return 400
        if type(ident) is not int:
            return 400
        delivery = self._deliveries.get(ident)
        if delivery is None:  # not a second delivery of one still being stored
            try:
                admitted = self._admit(update, bot)
            except (ValueError, TypeError, KeyError, AttributeError):
                return 400
            if not admitted:
                self._inflight.discard(ident)
                return 200
            delivery = asyncio.get_running_loop().create_future()
            self._deliveries[ident] = delivery
        try:
            async with asyncio.timeout(self._webhook_wait):
                stored = await asyncio.shield(delivery)
        except TimeoutError:
            self._deliveries.pop(ident, None)
            self._inflight.discard(ident)
            return 503
        return 200 if stored else 503

    def _admit(self, update: Json, bot: Bot) -> list[PlatformEvent]:
        """Queue the events of one update (its JSON as Telegram sent it)."""
        plain = plain_message(update)
        if plain is not None:
            events: list[PlatformEvent] = [plain]
        else:  # anything but the common message: through python-telegram-bot's objects
            parsed = Update.de_json(update, bot)
            chat = member_change_chat(parsed)
            if chat is not None:
                self._admins_changed(chat)
            events = to_events(parsed)
        self._inflight.add(update["update_id"], events)
        for event in events:
            self._queue.put_nowait(event)
        return events

    async def _poll(self, bot: Bot) -> None:
        try:
            await self._polling(bot)
        finally:
            self._caught_up.set()  # the reading has ended: there is nothing to wait for

    async def _polling(self, bot: Bot) -> None:
        backoff = 1.0
        while True:
            asked = self._monotonic()
            # The backlog is asked for without holding the poll: when nothing waits, a
            # chat closing right after a start must not wait for a long poll.
            short = self._catching_up
            try:
                updates = await self._fetch(bot, 0 if short else self._poll_seconds)
            except RetryAfter as exc:
                await self._sleep(retry_after(exc))
                continue
            except (InvalidToken, EndPointNotFound) as exc:  # the latter: 401/404 once started
                log.error("Telegram refused the bot token; no more updates are read: %s", exc)
                return
            except TelegramError as exc:
                log.warning("could not fetch Telegram updates, again in %.0f s: %s", backoff, exc)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            events = sum(len(self._take(update, bot)) for update in self._new(updates))
            if self._catching_up:
                self._catching_up = len(updates) >= FULL_BATCH
                self._backlog += events
                self._check_caught_up()
            if not updates and short:
                continue  # the long polls begin
            if not updates:
                early = EMPTY_POLL_SECONDS - (self._monotonic() - asked)
                if early > 0:
                    await self._sleep(early)
                continue
            if self._inflight.advance():
                await self._save_offset()
            await self._settle()

    async def _fetch(self, bot: Bot, poll: int) -> list[Json]:
        """One getUpdates, its updates as the JSON Telegram sent: the library still
        makes the request (its connection, timeouts, errors and flood control), and
        ``_admit`` builds its objects only for what is not the common message."""
        result = await bot.do_api_request(
            "getUpdates",
            api_kwargs={
                "offset": self._inflight.offset,
                "timeout": poll,
                "allowed_updates": list(ALLOWED_UPDATES),
            },
            # As Bot.get_updates does: the poll's own wait on top of the read timeout.
            read_timeout=self._read_timeout + poll,
        )
        if not isinstance(result, list):
            raise TelegramError(f"getUpdates answered {type(result).__name__}, not a list")
        return [u for u in result if isinstance(u, dict) and type(u.get("update_id")) is int]

    def _take(self, update: Json, bot: Bot) -> list[PlatformEvent]:
        try:
            return self._admit(update, bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            # Skipped, so one update of a shape the library cannot read stops nothing.
            log.exception("could not read Telegram update %s", update["update_id"])
            self._inflight.add(update["update_id"], [])
            return []

    def _new(self, updates: list[Json]) -> list[Json]:
        """Those not already fetched and waiting to be stored, nor stored."""
        offset = self._inflight.offset
        return [
            u
            for u in updates
            if (ident := u["update_id"]) not in self._inflight
            and (offset is None or ident >= offset)
        ]

    async def _settle(self) -> None:
        """Wait until the batch is stored; one stuck without progress is fetched again,
        and after a few tries skipped, so one bad update cannot stop all reading."""
        while len(self._inflight):
            acks = self._inflight.acks
            self._progress.clear()
            try:
                async with asyncio.timeout(self._redeliver_after):
                    await self._progress.wait()
                continue
            except TimeoutError:
                if self._inflight.acks != acks or not self._queue.empty():
                    continue  # slow, not stuck
            stalled = self._inflight.forget()
            front = stalled[0]
            self._stalls[front] += 1
            if self._stalls[front] < MAX_REDELIVERIES:
                log.warning("Telegram updates %s were not stored; fetching them again", stalled)
                return
            log.error("Telegram update %d could not be stored; skipping it", front)
            self._inflight.offset = front + 1
            await self._save_offset()
            return

    async def _save_offset(self) -> None:
        if self._poller is None:
            return  # webhook mode: Telegram keeps track
        async with self._saving:
            offset = self._inflight.offset
            if offset is not None and offset != self._saved:
                await self._host.move_cursor(OFFSET, str(offset))
                self._saved = offset
