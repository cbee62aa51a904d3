"""Telegram: chats in groups, supergroups and forum topics, through python-telegram-bot's
``Bot`` with a polling loop of our own, so the update offset passes only what is stored."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from telegram import Bot, BotCommand, ChatPermissions, Message, ReplyParameters, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.clock import Clock
from bot.commands import COMMANDS
from bot.config import Config, PlatformSettings
from bot.domain import ChannelRef, IncomingMessage, MessageRef, PlatformEvent, UserRef
from bot.i18n import Messages
from bot.platforms import telegram_logs
from bot.platforms.base import (
    TEXT_LIMITS,
    Alert,
    AlertKind,
    Capabilities,
    DeliveryUncertain,
    Host,
    PlatformError,
    ScheduledChat,
)
from bot.platforms.telegram_config import TelegramSetup, read_setup
from bot.platforms.telegram_errors import quiet_retry_after_deprecation, retry_after, translate
from bot.platforms.telegram_inflight import Inflight
from bot.platforms.telegram_limits import RateLimiter, Sleep
from bot.platforms.telegram_text import split_text, to_html
from bot.platforms.telegram_updates import (
    ALLOWED_UPDATES,
    PLATFORM,
    SERVICE_USERS,
    member_change_chat,
    to_events,
)

log = logging.getLogger("bot.platforms.telegram")

POLL_SECONDS = 50  # long-polling: Telegram answers at once when an update comes
ADMINS_KEPT = timedelta(minutes=5)
SECRET_HEADER = "x-telegram-bot-api-secret-token"
OFFSET = "offset"  # the host cursor holding the first update not yet stored
MAX_WAITS = 5  # 429s in a row before a send gives up
MAX_REDELIVERIES = 3  # fetches of an update the core keeps failing to store


class TelegramPlatform:
    name = PLATFORM
    capabilities = Capabilities(
        max_text_length=TEXT_LIMITS["telegram"],
        threads=True,
        delete=True,
        restrict=True,
        edit_events=True,
    )

    def __init__(
        self,
        setup: TelegramSetup,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        poll_seconds: int = POLL_SECONDS,
        redeliver_after: float = 60.0,
        webhook_wait: float = 50.0,
    ) -> None:
        self.setup = setup
        self.clock = clock
        self.sleep = sleep
        self.limiter = RateLimiter(monotonic=monotonic, sleep=sleep)
        self.poll_seconds = poll_seconds
        self.redeliver_after = redeliver_after  # seconds without progress on a batch
        self.webhook_wait = webhook_wait  # Telegram gives up on a webhook after about 60 s
        self.webhook_path = setup.webhook_path
        self.bot_names: frozenset[str] = frozenset()
        self._bot: Bot | None = None
        self._host: Host | None = None
        self._filter: telegram_logs.TokenFilter | None = None
        self._poller: asyncio.Task[None] | None = None
        self._admins: dict[int, tuple[datetime, frozenset[int]]] = {}
        self._reset()

    def _reset(self) -> None:
        """Fresh per-run state: the same adapter is started again after a stop."""
        self._queue: asyncio.Queue[PlatformEvent | None] = asyncio.Queue()
        self._inflight = Inflight()
        self._progress = asyncio.Event()
        self._saving = asyncio.Lock()
        self._saved: int | None = None
        self._stalls: Counter[int] = Counter()
        self._finished: dict[int, asyncio.Future[bool]] = {}  # webhook deliveries waiting
        self._reading = False
        self._reader_done = asyncio.Event()
        self._closed = False
        self._admins.clear()

    # start and stop -----------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        self._reset()
        self._host = host
        quiet_retry_after_deprecation()
        self._filter = telegram_logs.install(self.setup.token)
        options = self.setup.options
        bot = Bot(self.setup.token, base_url=f"{options.api_url}/bot")
        self._bot = bot
        try:
            await bot.initialize()  # getMe
            me = bot.bot
            self.bot_names = frozenset({me.username}) if me.username else frozenset()
            await self._check_access(host, me.id, bool(me.can_read_all_group_messages))
            await self._set_commands(bot)
            if options.mode == "webhook":
                assert options.webhook_url is not None  # checked with the config
                await bot.set_webhook(
                    options.webhook_url,
                    secret_token=self.setup.secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                await bot.delete_webhook()  # getUpdates is refused while one is set
                stored = await host.cursor(OFFSET)
                self._inflight.offset = self._saved = None if stored is None else int(stored)
                self._poller = asyncio.create_task(self._poll(bot), name="telegram-updates")
        except TelegramError as exc:
            await self._shutdown()
            raise translate(exc, sending=False) from exc
        except BaseException:
            await self._shutdown()
            raise
        log.info("connected to Telegram as @%s", me.username)

    async def close(self) -> None:
        """Stop reading; events not yet taken are dropped, and being unacknowledged they
        are fetched again after a restart. The event in hand is finished first."""
        self._closed = True
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        while not self._queue.empty():
            self._queue.get_nowait()
        for future in self._finished.values():
            if not future.done():
                future.set_result(False)
        self._queue.put_nowait(None)
        if self._reading:
            try:
                await asyncio.wait_for(self._reader_done.wait(), timeout=10)
            except TimeoutError:
                log.warning("the core did not finish its last Telegram message in time")
        await self._shutdown()

    async def _shutdown(self) -> None:
        if self._bot is not None:
            bot, self._bot = self._bot, None
            await bot.shutdown()
        if self._filter is not None:
            telegram_logs.uninstall(self._filter)
            self._filter = None

    async def _check_access(self, host: Host, bot_id: int, reads_all: bool) -> None:
        """Tell the moderators where the bot cannot post, or where privacy mode hides
        the answers from it; a chat there would otherwise record nothing."""
        assert self._bot is not None
        for chat_id in dict.fromkeys(int(ref.id) for ref in self.setup.places):
            alert: tuple[AlertKind, str] | None = None
            try:
                member = await self._bot.get_chat_member(chat_id, bot_id)
            except TelegramError as exc:
                log.error("cannot reach Telegram chat %d: %s", chat_id, exc)
                alert = (AlertKind.MISSING_PERMISSION, "membership (add the bot to the chat)")
            else:
                status = member.status
                if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
                    alert = (AlertKind.MISSING_PERMISSION, "membership (add the bot to the chat)")
                elif status == ChatMemberStatus.RESTRICTED and not getattr(
                    member, "can_send_messages", True
                ):
                    alert = (AlertKind.MISSING_PERMISSION, "sending messages")
                elif not reads_all and status not in (
                    ChatMemberStatus.ADMINISTRATOR,
                    ChatMemberStatus.OWNER,
                ):
                    alert = (AlertKind.CANNOT_READ, "")
            if alert is None:
                continue
            log.error("Telegram chat %d: %s %s", chat_id, alert[0].value, alert[1])
            for ref in self.setup.channels:
                if int(ref.id) == chat_id:
                    await host.alert(Alert(alert[0], ref, detail=alert[1]))

    async def _set_commands(self, bot: Bot) -> None:
        """The command menu Telegram shows, in each community's language."""
        languages = {loc.split("_")[0].lower() for loc in self.setup.locales} - {"en"}
        for language in ["", *sorted(languages)]:
            m = Messages(language or "en")
            menu = [
                BotCommand(name, _menu_text(m.gettext(spec.description)))
                for name, spec in COMMANDS.items()
            ]
            try:
                await bot.set_my_commands(menu, language_code=language or None)
            except TelegramError as exc:
                log.warning("could not set the Telegram command menu (%s): %s", language, exc)

    # updates in -----------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[PlatformEvent]:
        queue = self._queue
        self._reading = True
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._reader_done.set()

    async def acknowledge(self, event: PlatformEvent) -> None:
        update_id = self._inflight.ack(event)
        self._progress.set()
        if update_id is not None and update_id in self._finished:
            future = self._finished.pop(update_id)
            self._inflight.discard(update_id)
            if not future.done():
                future.set_result(True)
        if self._inflight.advance():
            await self._save_offset()

    async def _poll(self, bot: Bot) -> None:
        backoff = 1.0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=self._inflight.offset,
                    timeout=self.poll_seconds,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except RetryAfter as exc:
                await self.sleep(retry_after(exc))
                continue
            except InvalidToken as exc:
                log.error("Telegram refused the bot token; no more updates are read: %s", exc)
                return
            except TelegramError as exc:
                log.warning("could not fetch Telegram updates, again in %.0f s: %s", backoff, exc)
                await self.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            for update in updates:
                offset = self._inflight.offset
                if update.update_id in self._inflight or (
                    offset is not None and update.update_id < offset
                ):
                    continue
                self._admit(update)
            if self._inflight.advance():
                await self._save_offset()
            await self._settle()

    def _admit(self, update: Update) -> list[PlatformEvent]:
        chat = member_change_chat(update)
        if chat is not None:
            self._admins.pop(chat, None)  # someone may have become or stopped being admin
        events = to_events(update)
        self._inflight.add(update.update_id, events)
        for event in events:
            self._queue.put_nowait(event)
        return events

    async def _settle(self) -> None:
        """Wait until the batch is stored before polling on (the next poll confirms it to
        Telegram). A batch stuck without progress is fetched again, a few times."""
        while len(self._inflight):
            acks = self._inflight.acks
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), self.redeliver_after)
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
        if self.setup.options.mode != "polling" or self._host is None:
            return
        async with self._saving:
            offset = self._inflight.offset
            if offset is not None and offset != self._saved:
                await self._host.set_cursor(OFFSET, str(offset))
                self._saved = offset

    async def receive_webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        """200 only once the update is stored, so Telegram delivers it again otherwise."""
        given = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER), "")
        secret = self.setup.secret
        if secret is None or not hmac.compare_digest(given.encode(), secret.encode()):
            return 403
        if self._bot is None or self._closed:
            return 503
        try:
            update = Update.de_json(json.loads(body), self._bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return 400
        future = self._finished.get(update.update_id)
        if future is None:  # not a second delivery of one still being stored
            if not self._admit(update):
                self._inflight.discard(update.update_id)
                return 200
            future = self._finished[update.update_id] = asyncio.get_running_loop().create_future()
        try:
            stored = await asyncio.wait_for(asyncio.shield(future), self.webhook_wait)
        except TimeoutError:
            self._finished.pop(update.update_id, None)
            self._inflight.discard(update.update_id)
            return 503
        return 200 if stored else 503

    # the bot's own actions ----------------------------------------------------------------

    async def send(
        self,
        channel: ChannelRef,
        text: str,
        *,
        reply_to: str | None = None,
        idempotency_key: str | None = None,
        thread_title: str | None = None,
    ) -> MessageRef:
        """Each part after the first is a message of its own; if one fails once another
        is posted, the whole is uncertain rather than failed, so it is not posted twice."""
        bot = self._require_bot()
        chat_id, thread = _chat(channel), _topic(channel)
        parts = split_text(text)
        if not parts:
            raise PlatformError("nothing to post: the text is empty")
        first: MessageRef | None = None
        for index, part in enumerate(parts):
            replying = _number(reply_to, "message") if first is None and reply_to else None
            try:
                message = await self._post(bot, chat_id, part, thread, replying)
            except PlatformError as exc:
                if first is None:
                    raise
                raise DeliveryUncertain(
                    f"only {index} of {len(parts)} parts were posted in {channel}: {exc}"
                ) from exc
            if first is None:
                first = MessageRef(channel, str(message.message_id), url=message.link)
        assert first is not None
        return first

    async def _post(
        self, bot: Bot, chat_id: int, text: str, thread: int | None, reply_to: int | None
    ) -> Message:
        reply = None
        if reply_to is not None:
            reply = ReplyParameters(reply_to, allow_sending_without_reply=True)
        for _ in range(MAX_WAITS):
            await self.limiter.acquire(chat_id)
            try:
                return await bot.send_message(
                    chat_id,
                    to_html(text),
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread,
                    reply_parameters=reply,
                )
            except RetryAfter as exc:
                wait = retry_after(exc)
                log.warning("Telegram asks to wait %.0f s before posting in %d", wait, chat_id)
                await self.sleep(wait)
            except TelegramError as exc:
                raise translate(exc, sending=True) from exc
        raise PlatformError(
            f"Telegram kept asking to wait before posting in {chat_id}", retryable=True
        )

    async def delete(self, message: MessageRef) -> None:
        bot = self._require_bot()
        try:
            await bot.delete_message(_chat(message.channel), _number(message.id, "message"))
        except TelegramError as exc:
            raise translate(exc, sending=False) from exc

    async def is_moderator(self, user: UserRef, channel: ChannelRef) -> bool:
        """The chat's administrators; never a chat speaking for itself (anonymous admins,
        channels) nor Telegram's service accounts."""
        if user.platform != PLATFORM or not user.id.isdigit() or int(user.id) in SERVICE_USERS:
            return False
        return int(user.id) in await self._administrators(_chat(channel))

    async def _administrators(self, chat_id: int) -> frozenset[int]:
        now = self.clock.now()
        cached = self._admins.get(chat_id)
        if cached is not None and now - cached[0] < ADMINS_KEPT:
            return cached[1]
        bot = self._require_bot()
        try:
            members = await bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            raise translate(exc, sending=False) from exc
        admins = frozenset(m.user.id for m in members if not m.user.is_bot)
        self._admins[chat_id] = (now, admins)
        return admins

    async def restrict(self, user: UserRef, channel: ChannelRef, until: datetime | None) -> None:
        """Read-only until ``until``; all rights back (Telegram's way to lift it) once past."""
        bot = self._require_bot()
        if not user.id.isdigit():
            raise PlatformError("Telegram can restrict people, not chats posting as themselves")
        lifting = until is not None and until <= self.clock.now()
        try:
            await bot.restrict_chat_member(
                _chat(channel),
                int(user.id),
                ChatPermissions.all_permissions() if lifting else ChatPermissions.no_permissions(),
                until_date=None if lifting else until,
            )
        except TelegramError as exc:
            raise translate(exc, sending=False) from exc

    async def history(self, channel: ChannelRef, since: datetime) -> list[IncomingMessage]:
        return []  # bots cannot read a chat's past; missed updates wait on Telegram's side

    async def set_slow_mode(self, channel: ChannelRef, seconds: int) -> None:
        raise PlatformError("the Telegram Bot API cannot set slow mode")

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        return None  # Telegram has no event listing

    def _require_bot(self) -> Bot:
        if self._bot is None:
            raise PlatformError("the Telegram adapter is not running", retryable=True)
        return self._bot


def _number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise PlatformError(f"not a Telegram {what} id: {text!r}") from None


def _chat(channel: ChannelRef) -> int:
    return _number(channel.id, "chat")


def _topic(channel: ChannelRef) -> int | None:
    return None if channel.thread is None else _number(channel.thread, "topic")


def _menu_text(description: str) -> str:
    """Telegram takes 3 to 256 characters per command description."""
    text = description if len(description) >= 3 else f"{description}..."
    return text if len(text) <= 256 else text[:255] + "…"


def from_config(
    config: Config, settings: PlatformSettings, clock: Clock, env: Mapping[str, str]
) -> TelegramPlatform:
    return TelegramPlatform(read_setup(config, env), clock)
