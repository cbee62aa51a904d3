"""Telegram's stand-in for the end-to-end suite: ``tests.fakes.telegram_process`` (the
Bot API stand-in the adapter tests use, as its own process), driven through its loopback
control API.

The chat runs in a forum topic (``telegram:<group>/<topic>``), the moderators' notices go
to a second group. What Telegram lets the suite do is what the adapter can see:

- a reply to a question's post counts; an edit reaches the bot;
- a deletion does not: the Bot API never reports one, so ``delete=False``;
- topics are not per question (one topic holds the whole chat), so ``thread=False``:
  an untagged message in the topic is general discussion, as in a plain group;
- a send cut off after it left cannot be checked nor retried safely (no idempotency
  key), so ``idempotent_send=False``: the bot reports such a step as uncertain.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.driver import Features, Post
from tests.e2e.process import StandinDriver, start_standin
from tests.fakes.telegram_api import GROUP, TOKEN
from tests.fakes.telegram_process import MODS

TOKEN_ENV = "HASHCHAT_E2E_TELEGRAM_TOKEN"
TOPIC = 1  # the first message of a fresh forum, so known before the stand-in starts


class TelegramDriver(StandinDriver):
    name = "telegram"
    stop_within = 10.0
    features = Features(reply=True, thread=False, edit=True, delete=False, idempotent_send=False)
    channel = f"telegram:{GROUP}/{TOPIC}"
    moderator_channel: str | None = f"telegram:{MODS}"

    def __init__(self) -> None:
        self.url = ""
        self.log: Path | None = None
        self._updates: dict[str, int] = {}  # participant's message id -> its update id

    # the stand-in process ---------------------------------------------------------------

    async def start(self, workdir: Path) -> None:
        self._child, described = await start_standin(
            "tests.fakes.telegram_process", workdir, "telegram", "--port", "0"
        )
        self.log = self._child.log
        self.url = str(described["url"])
        assert described["topic"] == TOPIC, described
        self._http = aiohttp.ClientSession()

    def config(self) -> str:
        return f'[platforms.telegram]\ntoken_env = "{TOKEN_ENV}"\napi_url = "{self.url}"\n'

    def env(self) -> dict[str, str]:
        return {TOKEN_ENV: TOKEN}

    # what the bot did ---------------------------------------------------------------------

    async def posts(self) -> list[Post]:
        data = await self._call("GET", "posts")
        return [
            Post(
                id=str(p["id"]),
                channel=f"telegram:{p['chat']}" + (f"/{p['thread']}" if p["thread"] else ""),
                text=p["text"],
                at=datetime.fromisoformat(p["at"]),
                reply_to=None if p["reply_to"] is None else str(p["reply_to"]),
                deleted=p["deleted"],
            )
            for p in data["posts"]
        ]

    async def requests(self) -> list[dict[str, Any]]:
        """Every Bot API request the stand-in answered: method, params, at, status."""
        found: list[dict[str, Any]] = (await self._call("GET", "requests"))["requests"]
        return found

    async def conflicts(self) -> list[str]:
        """When a poll was answered 409 Conflict: two clients polled at once."""
        found: list[str] = (await self._call("GET", "state"))["conflicts"]
        return found

    async def taken(self, message_id: str) -> bool:
        """Whether the bot has stored a participant's message: it has polled past it."""
        offset = (await self._call("GET", "state"))["offset"]
        return offset is not None and offset > self._updates[message_id]

    # what participants do -----------------------------------------------------------------

    async def say(
        self, who: str, text: str, *, reply_to: str | None = None, thread: str | None = None
    ) -> str:
        """In the chat's topic; ``thread`` changes nothing, the whole chat is one topic."""
        body = {
            "user_id": user_id(who),
            "name": who.title(),
            "username": who,
            "chat": GROUP,
            "thread": TOPIC,
            "text": text,
            "reply_to": None if reply_to is None else int(reply_to),
        }
        made = await self._call("POST", "say", body)
        message_id = str(made["message_id"])
        self._updates[message_id] = int(made["update_id"])
        return message_id

    async def edit(self, who: str, message_id: str, text: str) -> None:
        made = await self._call("POST", "edit", {"message_id": int(message_id), "text": text})
        self._updates[message_id] = int(made["update_id"])

    async def delete(self, who: str, message_id: str) -> None:
        """Gone for people; the bot is never told (the Bot API has no such update)."""
        await self._call("POST", "delete", {"message_id": int(message_id)})

    async def fail_posts(self, ratio: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        await self._call("POST", "fail", {"ratio": ratio, "statuses": list(statuses)})

    async def fail_next(self, method: str, status: int, description: str) -> None:
        """Answer the bot's next call to the Bot API ``method`` with an HTTP error."""
        body = {"method": method, "status": status, "description": description}
        await self._call("POST", "fail_next", body)

    async def _call(self, method: str, route: str, body: Any = None) -> Any:
        assert self._http is not None, "start() the driver first"
        url = f"{self.url}/_control/{route}"
        async with self._http.request(method, url, json=body) as response:
            data = await response.json()
            assert response.status == 200, f"{method} {route}: {response.status} {data}"
            return data


def user_id(who: str) -> int:
    """A stable Telegram user id per participant name."""
    return 100_000 + zlib.crc32(who.encode()) % 900_000_000


def make_driver() -> TelegramDriver:
    return TelegramDriver()
