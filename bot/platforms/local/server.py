"""The local chat server as its own process (``hashchat local-server``): a JSON HTTP API
over :class:`~bot.platforms.local.world.World`.

It lets the local platform outlive the bot, so ``hashchat run`` can be killed and
restarted against it, and lets people (or the end-to-end suite) take part from outside
the bot's process. Three groups of routes:

- participants: ``POST /api/messages`` (channel, thread, user, name, text, reply_to),
  ``POST /api/messages/{id}/edit`` (user, text), ``POST /api/messages/{id}/delete``
  (user), ``GET /api/messages[?channel=]`` (every message, the bot's too, with the time
  the server accepted it: the record tests read);
- the bot: ``POST /bot/send`` (with an idempotency key, so a resend after a crash is
  shown once), ``/bot/delete``, ``/bot/restrict``, ``/bot/slow_mode``,
  ``GET /bot/updates?offset=&timeout=`` (long poll, like Telegram's getUpdates) and
  ``GET /bot/history``;
- ``GET /health`` (with ``last_update``, the newest update's id);
- control: ``POST /control/faults`` (refuse a ratio of the bot's posts with 429/5xx,
  before posting anything), ``GET /control/sends`` (every post request and its outcome).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import click
from aiohttp import web

from bot.platforms.local.world import Message, Refused, World

Echo = Callable[[str, Message], None]
"""Called with ("post" | "edit" | "delete", message) for each change, to show it."""

MAX_POLL_SECONDS = 50.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _now() -> datetime:
    return datetime.now(UTC)


class LocalServer:
    def __init__(self, world: World | None = None, *, echo: Echo | None = None) -> None:
        self.world = world or World()
        self.echo = echo
        self._changed = asyncio.Event()
        self._closing = False

    def close(self) -> None:
        """Answer the long polls now, so a shutdown does not wait for them to time out."""
        self._closing = True
        self._changed.set()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_errors])
        r = app.router
        r.add_get("/health", self.health)
        r.add_post("/api/messages", self.post_message)
        r.add_post("/api/messages/{id}/edit", self.edit_message)
        r.add_post("/api/messages/{id}/delete", self.delete_message)
        r.add_get("/api/messages", self.list_messages)
        r.add_post("/bot/send", self.bot_send)
        r.add_post("/bot/delete", self.bot_delete)
        r.add_post("/bot/restrict", self.bot_restrict)
        r.add_post("/bot/slow_mode", self.bot_slow_mode)
        r.add_get("/bot/updates", self.bot_updates)
        r.add_get("/bot/history", self.bot_history)
        r.add_post("/control/faults", self.faults)
        r.add_get("/control/sends", self.sends)
        return app

    # participants ---------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "last_update": len(self.world.updates)})

    async def post_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        message = self.world.say(
            _now(),
            channel=_text(body, "channel"),
            user=_text(body, "user"),
            text=_text(body, "text"),
            name=_optional(body, "name") or "",
            thread=_optional(body, "thread"),
            reply_to=_optional(body, "reply_to"),
        )
        self._changed_now("post", message)
        return web.json_response(message.to_json())

    async def edit_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        ident = request.match_info["id"]
        message = self.world.edit(_now(), ident, _text(body, "user"), _text(body, "text"))
        self._changed_now("edit", message)
        return web.json_response(message.to_json())

    async def delete_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        message = self.world.remove(_now(), request.match_info["id"], _text(body, "user"))
        self._changed_now("delete", message)
        return web.json_response(message.to_json())

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel")
        return web.json_response(
            {
                "messages": [
                    m.to_json()
                    for m in self.world.messages.values()
                    if channel is None or m.channel == channel
                ]
            }
        )

    # the bot ----------------------------------------------------------------------------

    async def bot_send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        message, duplicate = self.world.send(
            _now(),
            channel=_text(body, "channel"),
            text=_text(body, "text"),
            thread=_optional(body, "thread"),
            reply_to=_optional(body, "reply_to"),
            key=_optional(body, "idempotency_key"),
        )
        if not duplicate and self.echo is not None:
            self.echo("post", message)
        return web.json_response({"message": message.to_json(), "duplicate": duplicate})

    async def bot_delete(self, request: web.Request) -> web.Response:
        body = await _body(request)
        self.world.delete(_now(), _text(body, "id"))
        return web.json_response({"ok": True})

    async def bot_restrict(self, request: web.Request) -> web.Response:
        body = await _body(request)
        until = _optional(body, "until")
        self.world.restrict(
            _text(body, "channel"),
            _text(body, "user"),
            None if until is None else _time(until, "until"),
            _now(),
        )
        return web.json_response({"ok": True})

    async def bot_slow_mode(self, request: web.Request) -> web.Response:
        body = await _body(request)
        seconds = body.get("seconds")
        if not isinstance(seconds, int):
            raise Refused(400, "seconds must be a whole number")
        self.world.set_slow_mode(_text(body, "channel"), seconds)
        return web.json_response({"ok": True})

    async def bot_updates(self, request: web.Request) -> web.Response:
        """Updates from ``offset`` on; with none yet, wait up to ``timeout`` seconds."""
        offset = _number(request.query.get("offset", "1"), "offset")
        timeout = min(
            float(_number(request.query.get("timeout", "0"), "timeout")), MAX_POLL_SECONDS
        )
        updates = self.world.updates_from(offset)
        if not updates and timeout > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wait_change(offset)
            updates = self.world.updates_from(offset)
        return web.json_response({"updates": [u.to_json() for u in updates[:1000]]})

    async def bot_history(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel", "")
        since = _time(request.query.get("since", ""), "since")
        found = self.world.history(channel, since)
        return web.json_response({"messages": [m.to_json() for m in found]})

    # control ----------------------------------------------------------------------------

    async def faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        ratio = body.get("ratio", 0)
        statuses = body.get("statuses", [429, 500])
        if not isinstance(ratio, int | float) or not isinstance(statuses, list):
            raise Refused(400, "give ratio (0 to 1) and statuses (a list of HTTP statuses)")
        self.world.set_faults(float(ratio), tuple(int(s) for s in statuses))
        return web.json_response({"ok": True})

    async def sends(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "sends": [
                    {
                        "key": s.key,
                        "status": s.status,
                        "at": s.at.isoformat(),
                        "message_id": s.message_id,
                        "duplicate": s.duplicate,
                    }
                    for s in self.world.sends
                ]
            }
        )

    # internals --------------------------------------------------------------------------

    def _changed_now(self, change: str, message: Message) -> None:
        if self.echo is not None:
            self.echo(change, message)
        self._changed.set()
        self._changed = asyncio.Event()  # the next waiters wait for the next change

    async def _wait_change(self, offset: int) -> None:
        while not self.world.updates_from(offset) and not self._closing:
            await self._changed.wait()


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A refusal is a JSON error with its status, never a traceback."""
    try:
        return await handler(request)
    except Refused as exc:
        return web.json_response({"error": str(exc)}, status=exc.status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise Refused(400, f"{key} must be a non-empty string")
    return value


def _optional(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise Refused(400, f"{key} must be a string")
    return str(value)


def _number(text: str, key: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        raise Refused(400, f"{key} must be a number") from None


def _time(text: str, key: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Refused(400, f"{key} must be an ISO 8601 time") from None
    if value.tzinfo is None:
        raise Refused(400, f"{key} must include its UTC offset")
    return value


def print_change(change: str, m: Message) -> None:
    """One terminal line per post, edit or deletion, as ``hashchat local-server`` shows them."""
    where = f"#{m.channel}" + (f"/{m.thread}" if m.thread else "")
    reply = f" (reply to {m.reply_to})" if m.reply_to else ""
    text = m.text.replace("\n", "\n" + " " * 10)
    what = {"edit": "edited", "delete": "deleted"}.get(change, "")
    click.echo(f"{m.at:%H:%M:%S}  {where} [{m.id}] {m.name}{reply} {what}: {text}")


async def serve(host: str, port: int, *, echo: Echo | None = None) -> None:
    """Run the server until SIGTERM or Ctrl+C."""
    server = LocalServer(echo=echo)
    runner = web.AppRunner(server.app(), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        await runner.cleanup()
