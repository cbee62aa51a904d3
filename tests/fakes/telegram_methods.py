"""The Bot API methods the Telegram stand-in answers, as python-telegram-bot calls them:
a mixin of :class:`~tests.fakes.telegram_api.FakeTelegram`, whose state they read and change."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tests.fakes.telegram_shapes import (
    BOT,
    BOT_ID,
    DEFAULT_ALLOWED,
    ApiError,
    Json,
    Person,
    stamp,
    utf16_length,
    visible_text,
)


class BotApiMethods:
    """Each ``_name`` answers the method ``name``: its result, or an :class:`ApiError`."""

    chats: dict[int, Json]
    admins: dict[int, dict[int, Person]]
    owner: dict[int, Person]
    bot_status: dict[int, str]
    messages: dict[tuple[int, int], Json]
    sent: list[Json]
    deleted: list[tuple[int, int]]
    pending: list[Json]
    served: Counter[int]
    offsets: list[int]
    commands: dict[str, list[Json]]
    restrictions: dict[tuple[int, int], Json]
    webhook: Json | None
    # Whether the client of the request being answered is still connected (set by the
    # server right before each method runs), and when a live poller was cut off because
    # another client polled meanwhile: a 409 Conflict as Telegram serves it.
    connection_alive: Callable[[], bool]
    conflicts: list[str]
    allowed: tuple[str, ...]
    privacy: bool
    long_polls: bool
    accepted: dict[tuple[int, int], datetime]
    replied: dict[tuple[int, int], int]
    _fail_sends: list[int]
    _refuse: tuple[float, tuple[int, ...], int]
    _dice: random.Random
    _polls: int
    _closing: bool

    async def wait_for(self, condition: Callable[[], bool], within: float = 10) -> None:
        raise NotImplementedError

    def _now(self) -> int:
        raise NotImplementedError

    def _message(
        self,
        chat_id: int,
        person: Person | None,
        text: str | None,
        *,
        thread: int | None = None,
        reply_to: int | None = None,
    ) -> Json:
        raise NotImplementedError

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
            self.allowed = tuple(params["allowed_updates"]) or DEFAULT_ALLOWED
        offset = params.get("offset")
        if offset is not None:
            self.offsets.append(int(offset))
            self.pending = [u for u in self.pending if u["update_id"] >= int(offset)]
        limit = int(params.get("limit") or 100)
        alive = self.connection_alive  # this request's: read before the first await
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
            if not alive():
                return []  # its client is gone (killed): nobody polls twice, nobody hears
            # Another client polls while this one still waits: Telegram ends this one.
            self.conflicts.append(stamp())
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
