"""A stand-in for Discord on 127.0.0.1: the REST API and a JSON gateway (websocket),
enough for discord.py to log in, read a server and post, thread, reply and moderate.

Participants act through the methods under "what people do": their messages are stored
and dispatched over the gateway as Discord would. Faults are injected per route.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_routes import error, rate_limited, route
from tests.fakes.discord_world import (
    CONTENT_GRANTED,
    MESSAGE_CONTENT_INTENT,
    Payload,
    Person,
    World,
)

_MESSAGES = re.compile(r"/channels/\d+/messages$")  # a post, not a thread or an edit


class FakeDiscord:
    def __init__(self, now: Callable[[], datetime], token: str = "fake-token.abc.xyz") -> None:
        self.world = World(now, token)
        self.requests: list[tuple[str, str, Payload | None]] = []
        # (method, path part, status), each used once; status 0: the request is carried
        # out, then the connection is cut before the answer (a post that may have landed).
        self.faults: list[tuple[str, str, int]] = []
        self.log: list[Payload] = []  # every request: at, method, path, status, body
        # The share of the bot's message posts refused, and with which statuses.
        self.post_failures: tuple[float, tuple[int, ...]] = (0.0, ())
        self._random = random.Random(10)
        self.identified: list[int] = []  # the intents of every IDENTIFY
        self.timeouts: dict[int, str | None] = {}  # member id -> communication disabled until
        self._sockets: dict[web.WebSocketResponse, itertools.count[int]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # lifecycle ---------------------------------------------------------------------------

    async def start(
        self, port: int = 0, routes: Callable[[web.Application], None] | None = None
    ) -> None:
        """Serve on 127.0.0.1:``port`` (0: any free one); ``routes`` adds more (the
        control API of the stand-in run as its own process)."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        if routes is not None:
            routes(app)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate`` holds, re-checked after every request and gateway frame
        (ten seconds at most: a safety net, not a pace)."""

        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(wait(), 10)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @property
    def connected(self) -> int:
        return len(self._sockets)

    # what people do --------------------------------------------------------------------

    async def say(
        self, person: Person, channel_id: int, content: str, *, reply_to: int | None = None,
        dispatch: bool = True,
    ) -> int:  # fmt: skip
        """Post as ``person``; with ``dispatch`` False the gateway never tells the bot
        (it was offline, or the event was lost)."""
        message = self.world.message(channel_id, person, content, reply_to=reply_to)
        if dispatch:
            await self.dispatch("MESSAGE_CREATE", self.world.visible(message))
        return int(message["id"])

    async def edit(self, message_id: int, content: str) -> None:
        message = self.world.messages[message_id]
        message["content"] = content
        message["edited_timestamp"] = self.world.stamp()
        await self.dispatch("MESSAGE_UPDATE", self.world.visible(message))

    async def delete(self, message_id: int) -> None:
        message = self.world.messages[message_id]
        self.world.deleted.add(message_id)
        await self.dispatch(
            "MESSAGE_DELETE",
            {"id": str(message_id), "channel_id": message["channel_id"],
             "guild_id": message["guild_id"]},
        )  # fmt: skip

    async def slash(self, person: Person, channel_id: int, name: str, text: str = "") -> int:
        """Run the bot's slash command ``/name text`` as ``person``; the interaction's id."""
        interaction_id = self.world.new_id()
        guild_commands = self.world.commands.get(self.world.guild_id, [])
        command = next(c for c in guild_commands if c["name"] == name)
        channel = self.world.channels[channel_id]
        data: Payload = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "guild_id": str(self.world.guild_id),
        }
        if text:
            option = command["options"][0]["name"]
            data["options"] = [{"name": option, "type": 3, "value": text}]
        token = f"itoken-{interaction_id}"
        self.world.interactions[interaction_id] = {
            "token": token,
            "channel_id": channel_id,
            "responses": [],
        }
        await self.dispatch(
            "INTERACTION_CREATE",
            {
                "id": str(interaction_id),
                "application_id": str(self.world.app_id),
                "type": 2,
                "token": token,
                "version": 1,
                "guild_id": str(self.world.guild_id),
                "channel_id": str(channel_id),
                "channel": {k: channel[k] for k in ("id", "type", "name", "guild_id")},
                "member": {**person.member(), "permissions": "0"},
                "data": data,
                "locale": "en-US",
                "guild_locale": "en-US",
                "app_permissions": "0",
                "entitlements": [],
                "authorizing_integration_owners": {"0": str(self.world.guild_id)},
                "context": 0,
                "attachment_size_limit": 8388608,
            },
        )
        return interaction_id

    async def reconnect(self) -> None:
        """Ask every connected client to reconnect (op 7), as Discord does at times."""
        for ws in list(self._sockets):
            await ws.send_str(json.dumps({"op": 7, "d": None}))

    # the gateway -----------------------------------------------------------------------

    async def dispatch(self, event: str, data: Payload) -> None:
        for ws, seq in list(self._sockets.items()):
            await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(seq), "d": data}))
        await self._notify()

    def frames(self, event: str, items: list[Payload]) -> list[tuple[web.WebSocketResponse, str]]:
        """Many events as the gateway frames of every connected client, made beforehand."""
        return [
            (ws, json.dumps({"op": 0, "t": event, "s": next(seq), "d": d}))
            for ws, seq in list(self._sockets.items())
            for d in items
        ]

    async def send_frames(self, frames: list[tuple[web.WebSocketResponse, str]]) -> None:
        """Send them as fast as the clients read."""
        for ws, frame in frames:
            await ws.send_str(frame)
        await self._notify()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        self._record(request.method, request.path, 101, None)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    break
                await self._on_frame(ws, json.loads(frame.data))
        finally:
            self._sockets.pop(ws, None)
            await self._notify()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: Payload) -> None:
        op = frame["op"]
        if op == 1:
            await ws.send_str(json.dumps({"op": 11, "d": None}))
        elif op == 6:  # no sessions to resume here: start afresh
            await ws.send_str(json.dumps({"op": 9, "d": False}))
        elif op == 2:
            data = frame["d"]
            if data["token"] != self.world.token:
                await ws.close(code=4004)
                return
            self.identified.append(data["intents"])
            if data["intents"] & MESSAGE_CONTENT_INTENT and not (
                self.world.app_flags & CONTENT_GRANTED
            ):
                await ws.close(code=4014)
                return
            seq = itertools.count(1)
            ready = {
                "v": 10,
                "user": self.world.bot.user(),
                "guilds": [{"id": str(self.world.guild_id), "unavailable": True}],
                "session_id": f"session-{len(self.identified)}",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": str(self.world.app_id), "flags": self.world.app_flags},
                "private_channels": [],
                "relationships": [],
            }
            await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(seq), "d": ready}))
            guild = json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(seq),
                                "d": self.world.guild()})  # fmt: skip
            await ws.send_str(guild)
            self._sockets[ws] = seq
        await self._notify()

    # REST ------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Payload | None = None
        if request.path.startswith("/api/"):
            webhook = "/interactions/" in request.path or "/webhooks/" in request.path
            if not webhook and request.headers.get("Authorization") != f"Bot {self.world.token}":
                return error(401, 0, "401: Unauthorized")
            body = await request.json() if request.can_read_body else None
            self.requests.append((request.method, request.path, body))
            refusal = self._refusal(request)
            if refusal is not None:
                self._record(request.method, request.path, refusal.status, body)
                await self._notify()
                return refusal
            if self._cut(request):
                await handler(request)  # carried out, then the line goes dead
                self._record(request.method, request.path, 0, body)
                assert request.transport is not None
                request.transport.abort()
                await self._notify()
                raise asyncio.CancelledError  # aiohttp drops the unanswerable request
        response: web.StreamResponse = await handler(request)
        if request.path.startswith("/api/"):
            self._record(request.method, request.path, response.status, body)
        await self._notify()
        return response

    def _refusal(self, request: web.Request) -> web.Response | None:
        for fault in self.faults:
            if fault[0] == request.method and fault[1] in request.path and fault[2]:
                self.faults.remove(fault)
                return rate_limited(0.05) if fault[2] == 429 else error(fault[2], 0, "simulated")
        ratio, statuses = self.post_failures
        bot_post = request.method == "POST" and _MESSAGES.search(request.path)
        if bot_post and statuses and self._random.random() < ratio:
            status = self._random.choice(statuses)
            return rate_limited(0.05) if status == 429 else error(status, 0, "simulated failure")
        return None

    def _cut(self, request: web.Request) -> bool:
        for fault in self.faults:
            if fault[0] == request.method and fault[1] in request.path and not fault[2]:
                self.faults.remove(fault)
                return True
        return False

    def _record(self, method: str, path: str, status: int, body: Payload | None) -> None:
        at = datetime.now(UTC).isoformat()
        self.log.append({"at": at, "method": method, "path": path, "status": status, "body": body})

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        body = self.requests[-1][2]
        return await route(self, request.method, request.match_info["tail"], body, request)
