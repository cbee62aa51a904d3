"""The Bot API's shapes for the Telegram stand-in: its people, errors, what a message
sent with ``parse_mode`` HTML shows, and how requests and errors travel over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

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
DEFAULT_ALLOWED = ("message", "edited_message", "channel_post", "my_chat_member")


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


async def request_params(request: web.Request) -> Json:
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


def stamp() -> str:
    return datetime.now(UTC).isoformat()


def error_response(exc: ApiError) -> web.Response:
    body: Json = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.status)
