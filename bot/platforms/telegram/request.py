"""python-telegram-bot's HTTP client, noting on each failure which Bot API method failed
and whether the server answered, both of which the library's errors leave out.

Whether the server answered decides what a failed post means: an answered error
(4xx, 429, 5xx) posted nothing, so it can be retried; no answer after the request left
(a read timeout, a connection cut) may have posted it. The library turns HTTP 500 and a
read timeout alike into ``NetworkError``; the status seen here tells them apart.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram.request import HTTPXRequest


@dataclass(frozen=True, slots=True)
class Call:
    method: str  # the Bot API method, such as "sendMessage"
    status: int | None  # the HTTP status the server answered with; None: no answer


# The last Bot API request made in this task: an error the library raises comes from it.
_LAST: ContextVar[Call | None] = ContextVar("telegram_last_call", default=None)


class Request(HTTPXRequest):
    """Notes each request's method and answer in the task making it. (``post``, which
    raises the library's errors, is final, so the note is read by :func:`last_call`.)"""

    async def do_request(self, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        method = url.rpartition("/")[2]  # the token is in the part before
        _LAST.set(Call(method, None))
        code, payload = await super().do_request(url, *args, **kwargs)
        _LAST.set(Call(method, code))
        return code, payload


def last_call() -> Call | None:
    """The method and answer of this task's last request through :class:`Request`:
    where a ``TelegramError`` just raised by a ``Bot`` method comes from."""
    return _LAST.get()
