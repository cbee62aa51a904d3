"""A standby's webhook routes and leader-only pages: present from the start, refusing
until it leads.

The web server's routes are fixed when it starts, and a standby starts it long before it
may lead (bot/leadership.py). Its webhook deliveries must not reach a platform adapter
that has not started; 503 makes the platform deliver them again, to whichever instance
leads by then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.i18n import Messages
from bot.platforms.base import WebhookReceiver

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Standby:
    """``receiver``'s route, answered by it only while ``leading()``."""

    def __init__(self, receiver: WebhookReceiver, leading: Callable[[], bool]) -> None:
        self.receiver = receiver
        self.webhook_path = receiver.webhook_path
        self._leading = leading

    async def receive_webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        if not self._leading():
            return 503
        return await self.receiver.receive_webhook(headers, body)


# Pages that act through the leader's parts (the runner, the moderation): on a standby
# they would fail, so they answer 503 until it leads.
LEADER_ONLY = ("/console/",)


class LeaderOnlyPages:
    """A WebMount: while this instance stands by, the leader-only pages answer 503 with
    one line saying why, in ``locale()``'s language; everything else is served as usual."""

    def __init__(
        self, leading: Callable[[], bool], locale: Callable[[], str], prefixes: tuple[str, ...]
    ) -> None:
        self._leading = leading
        self._locale = locale
        self._prefixes = prefixes

    def mount(self, app: web.Application) -> None:
        app.middlewares.append(self._guard)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._leading() or not request.path.startswith(self._prefixes):
            return await handler(request)
        text = Messages(self._locale()).gettext(
            "This hashchat instance is standing by; this page is served by the instance"
            " that runs the chats. Try again in a few seconds."
        )
        return web.Response(status=503, text=text, headers={"Retry-After": "5"})
