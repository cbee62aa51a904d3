"""Telegram: chats in groups, supergroups and forum topics, through python-telegram-bot's
``Bot`` with a polling loop of our own, so the update offset passes only what is stored."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from telegram import Bot, ChatPermissions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError

from bot.clock import Clock
from bot.config import Config, PlatformSettings
from bot.domain import ChannelRef, IncomingMessage, MessageRef, PlatformEvent, UserRef
from bot.platforms.base import (
    TEXT_LIMITS,
    Capabilities,
    DeliveryUncertain,
    Host,
    PlatformError,
    ScheduledChat,
)
from bot.platforms.telegram import logs as telegram_logs
from bot.platforms.telegram.config import TelegramSetup, read_setup
from bot.platforms.telegram.errors import quiet_retry_after_deprecation, retry_after, translate
from bot.platforms.telegram.intake import Intake, quiet_raw_updates_note
from bot.platforms.telegram.limits import RateLimiter, Sleep
from bot.platforms.telegram.request import Request
from bot.platforms.telegram.startup import check_access, set_commands
from bot.platforms.telegram.text import split_text, to_html
from bot.platforms.telegram.updates import ALLOWED_UPDATES, PLATFORM, SERVICE_USERS, message_link

log = logging.getLogger("bot.platforms.telegram")

POLL_SECONDS = 50  # long-polling: Telegram answers at once when an update comes
ADMINS_KEPT = timedelta(minutes=5)
SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_WAITS = 5  # 429s in a row before a send gives up
# Waits before posting again after an answered error (a 5xx): nothing was posted, and a
# passing failure need not delay the step to the runner's next try, 30 s later.
QUICK_RETRIES = (1.0, 2.0)


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
        self.monotonic = monotonic
        self.poll_seconds = poll_seconds
        self.redeliver_after = redeliver_after  # seconds without progress on a batch
        self.webhook_wait = webhook_wait  # Telegram gives up on a webhook after about 60 s
        self.webhook_path = setup.webhook_path
        self.bot_names: frozenset[str] = frozenset()
        self._bot: Bot | None = None
        self._intake: Intake | None = None
        self._filter: telegram_logs.TokenFilter | None = None
        self._admins: dict[int, tuple[datetime, frozenset[int]]] = {}

    # start and stop -----------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        quiet_retry_after_deprecation()
        quiet_raw_updates_note()
        self._filter = telegram_logs.install(self.setup.token)
        self._admins.clear()
        options = self.setup.options
        updates_request = Request(connection_pool_size=1)
        bot = self._bot = Bot(
            self.setup.token,
            base_url=f"{options.api_url}/bot",
            request=Request(),
            get_updates_request=updates_request,
        )
        intake = self._intake = Intake(
            host,
            sleep=self.sleep,
            monotonic=self.monotonic,
            poll_seconds=self.poll_seconds,
            read_timeout=updates_request.read_timeout or 0.0,
            redeliver_after=self.redeliver_after,
            webhook_wait=self.webhook_wait,
            admins_changed=self._forget_admins,
        )
        try:
            await bot.initialize()  # getMe
            me = bot.bot
            self.bot_names = frozenset({me.username}) if me.username else frozenset()
            reads_all = bool(me.can_read_all_group_messages)
            await check_access(bot, self.setup, host, bot_id=me.id, reads_all=reads_all)
            await set_commands(bot, self.setup.locales)
            if options.mode == "webhook":
                assert options.webhook_url is not None  # checked with the config
                await bot.set_webhook(
                    options.webhook_url,
                    secret_token=self.setup.secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                await bot.delete_webhook()  # getUpdates is refused while one is set
                await intake.poll(bot)
        except TelegramError as exc:
            await self._shutdown()
            raise translate(exc, sending=False) from exc
        except BaseException:
            await self._shutdown()
            raise
        log.info("connected to Telegram as @%s", me.username)

    async def close(self) -> None:
        if self._intake is not None:
            await self._intake.stop()
        await self._shutdown()

    async def _shutdown(self) -> None:
        if self._bot is not None:
            bot, self._bot = self._bot, None
            await bot.shutdown()
        if self._filter is not None:
            telegram_logs.uninstall(self._filter)
            self._filter = None

    # updates in -----------------------------------------------------------------------------

    def events(self) -> AsyncIterator[PlatformEvent]:
        if self._intake is None:
            raise RuntimeError("start the Telegram adapter before reading its events")
        return self._intake.events()

    async def caught_up(self) -> None:
        """The updates waiting at start are handled (polling; a webhook has no backlog)."""
        if self._intake is not None:
            await self._intake.caught_up()

    async def acknowledge(self, event: PlatformEvent) -> None:
        if self._intake is not None:
            await self._intake.acknowledge(event)

    async def receive_webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        """403 unless Telegram's secret header matches; else 200 once stored."""
        given = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER), "")
        secret = self.setup.secret
        if secret is None or not hmac.compare_digest(given.encode(), secret.encode()):
            return 403
        if self._bot is None or self._intake is None:
            return 503
        return await self._intake.receive(self._bot, body)

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
                first = MessageRef(channel, str(message.message_id), url=message_link(message))
        assert first is not None
        return first

    async def _post(
        self, bot: Bot, chat_id: int, text: str, thread: int | None, reply_to: int | None
    ) -> Message:
        reply = None
        if reply_to is not None:
            reply = ReplyParameters(reply_to, allow_sending_without_reply=True)
        waits = failures = 0
        while True:
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
                waits += 1
                if waits >= MAX_WAITS:
                    raise PlatformError(
                        f"Telegram kept asking to wait before posting in {chat_id}",
                        retryable=True,
                    ) from exc
                wait = retry_after(exc)
                log.warning("Telegram asks to wait %.0f s before posting in %d", wait, chat_id)
                await self.sleep(wait)
            except TelegramError as exc:
                error = translate(exc, sending=True)
                if isinstance(error, DeliveryUncertain) or not error.retryable:
                    raise error from exc
                failures += 1
                if failures > len(QUICK_RETRIES):
                    raise error from exc
                wait = QUICK_RETRIES[failures - 1]
                log.warning("%s; posting in %d again in %.0f s", error, chat_id, wait)
                await self.sleep(wait)

    async def send_direct(self, user: UserRef, text: str) -> MessageRef:
        """A private chat's id is the person's id; Telegram refuses until they have
        opened a chat with the bot (a bot cannot start a conversation)."""
        return await self.send(ChannelRef(self.name, user.id), text)

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

    def _forget_admins(self, chat_id: int) -> None:
        """Someone may have become, or stopped being, an administrator there."""
        self._admins.pop(chat_id, None)

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


def from_config(
    config: Config, settings: PlatformSettings, clock: Clock, env: Mapping[str, str]
) -> TelegramPlatform:
    return TelegramPlatform(read_setup(config, env), clock)
