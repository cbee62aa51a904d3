"""A stand-in for the Telegram Bot API on 127.0.0.1, so python-telegram-bot is tested
talking real HTTP: the methods hashchat uses, with the real field shapes (dates in unix
seconds, ``{"ok": true, "result": ...}``, errors as HTTP 4xx with ``ok: false``)."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.clock import Clock, ManualClock
from bot.platforms.telegram.config import read_setup
from bot.platforms.telegram.platform import TelegramPlatform
from tests.conftest import START, Chat, chat_config
from tests.fakes.telegram_methods import BotApiMethods
from tests.fakes.telegram_shapes import (
    DEFAULT_ALLOWED,
    TOKEN,
    ApiError,
    Json,
    Person,
    error_response,
    request_params,
    stamp,
)

__all__ = ["GROUP", "TELEGRAM_ENV", "TOKEN", "FakeTelegram", "FakeTime", "Json", "Person", "Rig"]


class FakeTelegram(BotApiMethods):
    """One Bot API server holding groups, members, messages and pending updates.

    Tests drive participants through :meth:`post`, :meth:`edit` and friends, and wait
    for the bot with :meth:`wait_for` and :meth:`confirmed`, never by sleeping.
    """

    def __init__(self, clock: Clock, *, token: str = TOKEN, privacy: bool = False) -> None:
        self.clock = clock
        self.token = token
        self.privacy = privacy  # True: the bot cannot read all group messages
        self.long_polls = True  # False: getUpdates answers at once, ignoring its timeout
        self.chats: dict[int, Json] = {}
        self.admins: dict[int, dict[int, Person]] = defaultdict(dict)
        self.owner: dict[int, Person] = {}
        self.bot_status: dict[int, str] = {}  # chat -> "administrator", "member", "left"...
        self.messages: dict[tuple[int, int], Json] = {}
        self.sent: list[Json] = []  # the bot's messages, as Telegram returned them
        self.deleted: list[tuple[int, int]] = []
        self.pending: list[Json] = []  # updates not yet confirmed by an offset
        self.served: Counter[int] = Counter()  # update id -> times handed out
        self.offsets: list[int] = []  # every offset the bot polled with
        self.calls: list[tuple[str, Json]] = []
        # Every request as it was answered: method, params, time taken (ISO UTC), status.
        self.requests: list[Json] = []
        self.accepted: dict[tuple[int, int], datetime] = {}  # bot's message -> taken at
        self.replied: dict[tuple[int, int], int] = {}  # bot's message -> the one it answers
        self.commands: dict[str, list[Json]] = {}  # language code ("" default) -> list
        self.restrictions: dict[tuple[int, int], Json] = {}
        self.webhook: Json | None = None
        self.connection_alive: Callable[[], bool] = lambda: True
        # When a getUpdates still waiting for a client that is connected was ended by
        # another one: Telegram's 409 Conflict, i.e. two pollers at once.
        self.conflicts: list[str] = []
        self.allowed: tuple[str, ...] = DEFAULT_ALLOWED
        self.url = ""
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, Iterator[int]] = {}
        self._fail_sends: list[int] = []  # retry_after of each upcoming refused send
        self._drop_sends = 0
        self._refuse: tuple[float, tuple[int, ...], int] = (0.0, (), 1)
        self._dice = random.Random(10)
        self._failures: dict[str, list[ApiError]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._polls = 0
        self.held: Counter[str] = Counter()
        self._bell = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None

    # server ---------------------------------------------------------------------------

    async def start(self, port: int = 0, routes: Iterable[web.RouteDef] = ()) -> None:
        """Listen on 127.0.0.1; ``routes`` (a control API) are served before the Bot API."""
        app = web.Application()
        app.router.add_routes(list(routes))
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        self._closing = True
        for hold in self._holds.values():
            hold.set()
        self._ring()
        if self._runner is not None:
            await self._runner.cleanup()

    # what tests do ----------------------------------------------------------------------

    def add_group(
        self, chat_id: int, title: str, *, forum: bool = False, username: str | None = None
    ) -> None:
        chat: Json = {"id": chat_id, "type": "supergroup", "title": title}
        if forum:
            chat["is_forum"] = True
        if username:
            chat["username"] = username
        self.chats[chat_id] = chat
        self.bot_status.setdefault(chat_id, "administrator")
        self._message_ids[chat_id] = itertools.count(1)

    def open_private(self, person: Person) -> None:
        """``person`` pressed Start in a private chat with the bot, which may now write
        to them (before that, Telegram refuses: the bot cannot start a conversation)."""
        self.chats[person.id] = {
            "id": person.id,
            "type": "private",
            "first_name": person.first_name,
        }
        self.bot_status.setdefault(person.id, "member")
        self._message_ids[person.id] = itertools.count(1)

    def add_channel(self, chat_id: int, title: str) -> None:
        self.chats[chat_id] = {"id": chat_id, "type": "channel", "title": title}
        self.bot_status.setdefault(chat_id, "administrator")
        self._message_ids[chat_id] = itertools.count(1)

    def add_admin(self, chat_id: int, person: Person, *, owner: bool = False) -> None:
        if owner:
            self.owner[chat_id] = person
        else:
            self.admins[chat_id][person.id] = person

    def add_topic(self, chat_id: int, name: str) -> int:
        """A forum topic; its id is the id of the service message that created it."""
        creator = self.owner.get(chat_id) or Person(1, "Owner")
        message = self._message(chat_id, creator, None)
        message["forum_topic_created"] = {"name": name, "icon_color": 7322096}
        message["message_thread_id"] = message["message_id"]
        message["is_topic_message"] = True
        self._push("message", message)
        return int(message["message_id"])

    def post(
        self,
        person: Person | None,
        chat_id: int,
        text: str,
        *,
        thread: int | None = None,
        reply_to: int | None = None,
        sender_chat: Json | None = None,
        **extra: Any,
    ) -> Json:
        """A participant's message; returns its update."""
        message = self._message(chat_id, person, text, thread=thread, reply_to=reply_to)
        if sender_chat is not None:
            message["sender_chat"] = sender_chat
        message.update(extra)
        return self._push("message", message)

    def edit(self, update: Json, text: str) -> Json:
        message = update["message"]
        return self.edit_message(message["chat"]["id"], message["message_id"], text)

    def edit_message(self, chat_id: int, message_id: int, text: str) -> Json:
        """A participant edits one of their messages; returns the edit's update."""
        message = dict(self.messages[(chat_id, message_id)])
        message["text"] = text
        message["edit_date"] = self._now()
        key = (message["chat"]["id"], message["message_id"])
        self.messages[key] = message
        return self._push("edited_message", message)

    def member_changed(self, chat_id: int, person: Person, status: str) -> Json:
        old = {"status": "member", "user": person.json()}
        new = self._member(chat_id, person) if status != "member" else old
        update = {
            "chat": self.chats[chat_id],
            "from": (self.owner.get(chat_id) or person).json(),
            "date": self._now(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        return self._push("chat_member", update)

    def fail_next_sends(self, count: int, *, retry_after: int) -> None:
        """Refuse the next ``count`` sendMessage calls with 429 Too Many Requests."""
        self._fail_sends.extend([retry_after] * count)

    def fail_next(self, method: str, status: int, description: str) -> None:
        """Answer the next call to ``method`` with an error, as an outage would."""
        self._failures.setdefault(method, []).append(ApiError(status, description))

    def refuse_sends(
        self, ratio: float, statuses: tuple[int, ...] = (429, 500), *, retry_after: int = 1
    ) -> None:
        """From now on refuse about ``ratio`` of sendMessage calls (nothing posted), each
        with one of ``statuses``; a 429 asks to wait ``retry_after`` s. 0 turns it off."""
        self._refuse = (ratio, statuses, retry_after)

    def drop_next_send(self) -> None:
        """Post the next message, then hang up before answering, as a timeout would."""
        self._drop_sends += 1

    def hold(self, method: str) -> None:
        """Keep calls to ``method`` waiting until :meth:`release`."""
        self._holds[method] = asyncio.Event()

    def release(self, method: str) -> None:
        self._holds.pop(method).set()

    def bot_texts(self, chat_id: int, thread: int | None = None) -> list[str]:
        """What members see of the bot's messages in one chat (or one of its topics)."""
        return [
            m["text"]
            for m in self.sent
            if m["chat"]["id"] == chat_id
            and (thread is None or m.get("message_thread_id") == thread)
        ]

    def bot_messages(self, chat_id: int) -> list[Json]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id]

    def method_calls(self, method: str) -> list[Json]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(self, condition: Callable[[], bool], within: float = 10) -> None:
        """Return once ``condition`` holds; checked after every request and injection."""

        async def watch() -> None:
            while not condition():
                await self._bell.wait()

        await asyncio.wait_for(watch(), within)

    async def confirmed(self, update: Json) -> None:
        """Wait until the bot polls past ``update``: it has taken and stored it."""
        ident = update["update_id"]
        await self.wait_for(lambda: any(o > ident for o in self.offsets))

    # internals --------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _ring(self) -> None:
        self._bell.set()
        self._bell = asyncio.Event()

    def _message(
        self,
        chat_id: int,
        person: Person | None,
        text: str | None,
        *,
        thread: int | None = None,
        reply_to: int | None = None,
    ) -> Json:
        message_id = next(self._message_ids[chat_id])
        message: Json = {"message_id": message_id, "date": self._now(), "chat": self.chats[chat_id]}
        if person is not None:
            message["from"] = person.json()
        if text is not None:
            message["text"] = text
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        target = reply_to if reply_to is not None else thread
        if target is not None:
            replied = dict(self.messages[(chat_id, target)])
            replied.pop("reply_to_message", None)  # Telegram never nests replies deeper
            message["reply_to_message"] = replied
        self.messages[(chat_id, message_id)] = message
        return message

    def _push(self, kind: str, payload: Json) -> Json:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.pending.append(update)
        self._ring()
        return update

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        first, _, method = request.match_info["path"].partition("/")
        if first != f"bot{self.token}":
            self.requests.append({"method": method, "params": {}, "at": stamp(), "status": 401})
            return error_response(ApiError(401, "Unauthorized"))
        params = await request_params(request)
        self.calls.append((method, params))
        entry: Json = {"method": method, "params": params, "at": stamp(), "status": None}
        self.requests.append(entry)
        self._ring()
        try:
            if method in self._holds:
                self.held[method] += 1
                self._ring()
                await self._holds[method].wait()
            if self._failures.get(method):
                raise self._failures[method].pop(0)
            handler = self._methods().get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            transport = request.transport
            self.connection_alive = lambda: not (transport is None or transport.is_closing())
            result = await handler(params)  # reads connection_alive before its first await
            if method == "sendMessage" and self._drop_sends:
                self._drop_sends -= 1
                assert request.transport is not None
                request.transport.close()  # posted, but the bot never hears back
            else:
                entry["status"] = 200
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            entry["status"] = exc.status
            return error_response(exc)
        finally:
            self._ring()


# A whole hashchat with the Telegram adapter against this stand-in ---------------------

GROUP = -1001234567890
TELEGRAM_ENV = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "s3cret-Path_42"}


class FakeTime:
    """The adapter's monotonic clock and sleep: waiting only moves this clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Rig:
    chat: Chat
    api: FakeTelegram
    platform: TelegramPlatform
    time: FakeTime

    async def delivered(self, *updates: Json) -> None:
        """Wait until the bot has stored (or answered) ``updates``."""
        for update in updates:
            await self.api.confirmed(update)
        assert self.chat.app is not None
        await self.chat.app.settle()


def options_for(api: FakeTelegram, extra: str = "") -> str:
    return (
        f'\n[platforms.telegram]\ntoken_env = "TELEGRAM_BOT_TOKEN"\napi_url = "{api.url}"\n{extra}'
    )


@asynccontextmanager
async def telegram_rig(
    tmp: Path,
    *,
    channels: tuple[str, ...] = (f"telegram:{GROUP}",),
    options: str = "",
    settings: str = "",
    privacy: bool = False,
    prepare: Callable[[FakeTelegram], None] | None = None,
    listen_port: int | None = None,
) -> AsyncIterator[Rig]:
    """A booted hashchat whose community chats in ``channels``; GROUP is a forum."""
    clock = ManualClock(START - timedelta(hours=2))
    api = FakeTelegram(clock, privacy=privacy)
    await api.start()
    try:
        api.add_group(GROUP, "Health Chat EU", forum=True)
        if prepare is not None:
            prepare(api)
        config = chat_config(
            tmp, channels=channels, extra=options_for(api, options), settings=settings
        )
        if listen_port is not None:
            bot = config.bot.model_copy(update={"listen_port": listen_port})
            config = config.model_copy(update={"bot": bot})
        time = FakeTime()
        platform = TelegramPlatform(
            read_setup(config, TELEGRAM_ENV), clock, sleep=time.sleep, monotonic=time.monotonic
        )
        chat = Chat(tmp, config, adapters={"telegram": platform}, clock=clock)
        await chat.boot()
        try:
            yield Rig(chat, api, platform, time)
        finally:
            if chat.app is not None:
                await chat.stop()
    finally:
        await api.close()
