"""A stand-in for the Telegram Bot API on 127.0.0.1, so python-telegram-bot is tested
talking real HTTP: the methods hashchat uses, with the real field shapes (dates in unix
seconds, ``{"ok": true, "result": ...}``, errors as HTTP 4xx with ``ok: false``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.clock import Clock, ManualClock
from bot.platforms.telegram import TelegramPlatform
from bot.platforms.telegram_config import read_setup
from tests.conftest import START, Chat, chat_config

Json = dict[str, Any]

TOKEN = "7012345678:AAFakeTokenThatMustNeverBeLogged_x9"
BOT_ID = 7012345678
BOT_USERNAME = "hashchat_bot"
SERVICE_USER = 777000  # "Telegram": the author of linked channels' automatic forwards
ANONYMOUS_ADMIN_BOT = 1087968824  # "GroupAnonymousBot"

# Parameters Telegram takes as plain strings; python-telegram-bot JSON-encodes the rest.
_STRINGS = frozenset(
    {"text", "parse_mode", "url", "secret_token", "language_code", "chat_id", "description"}
)
_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"})
_DEFAULT_ALLOWED = ("message", "edited_message", "channel_post", "my_chat_member")


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False

    def json(self) -> Json:
        data: Json = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        return data


BOT = Person(BOT_ID, "hashchat", BOT_USERNAME, is_bot=True)


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Visible(HTMLParser):
    """What a message sent with parse_mode HTML shows, refusing tags Telegram refuses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    if parse_mode != "HTML":
        return text
    parser = _Visible()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
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
        self.allowed: tuple[str, ...] = _DEFAULT_ALLOWED
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

    def _member(self, chat_id: int, person: Person) -> Json:
        if self.owner.get(chat_id) == person:
            return {"status": "creator", "user": person.json(), "is_anonymous": False}
        if person.id in self.admins[chat_id] or (
            person.id == BOT_ID and self.bot_status.get(chat_id) == "administrator"
        ):
            rights = (
                "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members"
                " can_change_info can_invite_users can_pin_messages can_manage_topics"
                " can_post_stories can_edit_stories can_delete_stories"
            )
            return {
                "status": "administrator",
                "user": person.json(),
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
                **dict.fromkeys(rights.split(), True),
            }
        status = self.bot_status.get(chat_id, "member") if person.id == BOT_ID else "member"
        return {"status": status, "user": person.json()}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        first, _, method = request.match_info["path"].partition("/")
        if first != f"bot{self.token}":
            self.requests.append({"method": method, "params": {}, "at": _stamp(), "status": 401})
            return _error(ApiError(401, "Unauthorized"))
        params = await _params(request)
        self.calls.append((method, params))
        entry: Json = {"method": method, "params": params, "at": _stamp(), "status": None}
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
            result = await handler(params)
            if method == "sendMessage" and self._drop_sends:
                self._drop_sends -= 1
                assert request.transport is not None
                request.transport.close()  # posted, but the bot never hears back
            else:
                entry["status"] = 200
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            entry["status"] = exc.status
            return _error(exc)
        finally:
            self._ring()

    def _methods(self) -> dict[str, Callable[[Json], Awaitable[Any]]]:
        return {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "deletemessage": self._delete_message,
            "getchatadministrators": self._get_chat_administrators,
            "getchatmember": self._get_chat_member,
            "setmycommands": self._set_my_commands,
            "restrictchatmember": self._restrict_chat_member,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
        }

    def _chat(self, params: Json) -> Json:
        try:
            return self.chats[int(params["chat_id"])]
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    async def _get_me(self, params: Json) -> Json:
        return {
            **BOT.json(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: Json) -> list[Json]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        if params.get("allowed_updates") is not None:
            self.allowed = tuple(params["allowed_updates"]) or _DEFAULT_ALLOWED
        offset = params.get("offset")
        if offset is not None:
            self.offsets.append(int(offset))
            self.pending = [u for u in self.pending if u["update_id"] >= int(offset)]
        limit = int(params.get("limit") or 100)
        self._polls += 1
        mine = self._polls

        def ready() -> list[Json]:
            return [u for u in self.pending if any(k in u for k in self.allowed)][:limit]

        def done() -> bool:
            return bool(ready()) or self._closing or self._polls != mine

        wait = float(params.get("timeout") or 0) if self.long_polls else 0.0
        with contextlib.suppress(TimeoutError):  # a long poll that found nothing
            await self.wait_for(done, wait)
        if self._polls != mine:
            raise ApiError(409, "Conflict: terminated by other getUpdates request")
        batch = ready()
        self.served.update(u["update_id"] for u in batch)
        return batch

    async def _send_message(self, params: Json) -> Json:
        chat = self._chat(params)
        if self._fail_sends:
            retry = self._fail_sends.pop(0)
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._maybe_refuse()
        if self.bot_status.get(chat["id"]) in ("left", "kicked"):
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        text = visible_text(params.get("text", ""), params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        thread = params.get("message_thread_id")
        if thread is not None and (chat["id"], thread) not in self.messages:
            raise ApiError(400, "Bad Request: message thread not found")
        replying = params.get("reply_parameters") or {}
        reply = replying.get("message_id")
        if reply is not None and (chat["id"], reply) not in self.messages:
            if not replying.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            reply = None  # deleted meanwhile: Telegram posts it as a plain message
        message = self._message(chat["id"], BOT, text, thread=thread, reply_to=reply)
        self.sent.append(message)
        key = (chat["id"], message["message_id"])
        self.accepted[key] = datetime.now(UTC)
        if reply is not None:
            self.replied[key] = int(reply)
        return message

    def _maybe_refuse(self) -> None:
        ratio, statuses, retry = self._refuse
        if not statuses or self._dice.random() >= ratio:
            return
        status = self._dice.choice(statuses)
        if status == 429:
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        raise ApiError(status, "Internal Server Error" if status == 500 else "Bad Gateway")

    async def _edit_message_text(self, params: Json) -> Json:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = self.messages[key]
        message["text"] = visible_text(params["text"], params.get("parse_mode"))
        message["edit_date"] = self._now()
        return message

    async def _delete_message(self, params: Json) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages or key in self.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        if self.bot_status.get(key[0]) != "administrator":
            raise ApiError(400, "Bad Request: message can't be deleted")
        self.deleted.append(key)
        return True

    async def _get_chat_administrators(self, params: Json) -> list[Json]:
        chat_id = self._chat(params)["id"]
        people = list(self.admins[chat_id].values())
        if chat_id in self.owner:
            people.insert(0, self.owner[chat_id])
        if self.bot_status.get(chat_id) == "administrator":
            people.append(BOT)
        return [self._member(chat_id, p) for p in people]

    async def _get_chat_member(self, params: Json) -> Json:
        chat_id = self._chat(params)["id"]
        user_id = int(params["user_id"])
        if user_id == BOT_ID:
            return self._member(chat_id, BOT)
        known = [*self.admins[chat_id].values(), *self.owner.values()]
        person = next((p for p in known if p.id == user_id), Person(user_id, "Someone"))
        return self._member(chat_id, person)

    async def _set_my_commands(self, params: Json) -> bool:
        self.commands[params.get("language_code") or ""] = list(params["commands"])
        return True

    async def _restrict_chat_member(self, params: Json) -> bool:
        chat_id = self._chat(params)["id"]
        self.restrictions[(chat_id, int(params["user_id"]))] = {
            "permissions": params["permissions"],
            "until_date": params.get("until_date"),
        }
        return True

    async def _set_webhook(self, params: Json) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    async def _delete_webhook(self, params: Json) -> bool:
        self.webhook = None
        return True


async def _params(request: web.Request) -> Json:
    if request.content_type == "application/json":
        data: Json = await request.json()
        return data
    form = await request.post()
    params: Json = {}
    for key, value in form.items():
        raw = value if isinstance(value, str) else ""
        if key in _STRINGS:
            params[key] = raw
            continue
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


def _error(exc: ApiError) -> web.Response:
    body: Json = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.status)


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
