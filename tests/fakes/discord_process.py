"""The stand-in Discord as its own OS process, for tests of ``hashchat run`` as users start it.

    python -m tests.fakes.discord_process --port 0 --ready-file /tmp/discord.json

It serves the REST API and the gateway of ``discord_api.FakeDiscord`` on 127.0.0.1, with
real time, and writes the ready file (JSON: ``api_url``, ``token``, channel ids) once it
answers. It outlives the bot, so what the bot did before a crash stays on record. People
act through a control API on the same port:

- ``POST /_control/say`` ``{"who", "channel", "text", "reply_to"?, "thread"?}`` -> ``{"id"}``:
  ``channel`` is an id or one of the names in the ready file; ``thread`` a thread's id
  (on Discord, the id of the message that opened it);
- ``POST /_control/edit`` ``{"id", "text"}`` and ``POST /_control/delete`` ``{"id"}``;
- ``GET /_control/posts``: what the bot posted, oldest first (id, channel, thread, text,
  reply_to, at in ISO UTC, deleted);
- ``POST /_control/fail`` ``{"ratio", "statuses"}``: refuse that share of the bot's posts
  (429 with a short ``retry_after``, or the 5xx given); ratio 0 stops it;
- ``GET /_control/requests``: every API request and gateway connection, in order;
- ``POST /_control/preload`` ``{"count", "texts", "channel"?}``: make ``count`` messages
  of participants at once (texts taken in turn), then send them down the gateway as fast
  as the bot reads them (bench/intake.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_routes import error, json_response
from tests.fakes.discord_world import Payload, Person

CHANNELS = ("chat", "threads", "mods")  # "threads" is meant for thread_per_question


class Control:
    """The stand-in's world, one server with the channels above, and its control routes."""

    def __init__(self, token: str) -> None:
        self.fake = FakeDiscord(lambda: datetime.now(UTC), token)
        world = self.fake.world
        self.channels = {name: world.add_channel(name) for name in CHANNELS}
        self.moderators = world.add_role("chat hosts")
        self.people: dict[str, Person] = {}
        self._sending: asyncio.Task[None] | None = None  # a preload on its way

    def info(self) -> Payload:
        w = self.fake.world
        return {
            "port": self.fake.port,
            "api_url": self.fake.api_base,
            "gateway_url": self.fake.gateway_url,
            "token": w.token,
            "guild_id": str(w.guild_id),
            "bot_id": str(w.bot.id),
            "moderator_role": str(self.moderators),
            "channels": {name: str(ident) for name, ident in self.channels.items()},
            "pid": os.getpid(),
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/_control/info", self._info)
        app.router.add_post("/_control/say", self._say)
        app.router.add_post("/_control/edit", self._edit)
        app.router.add_post("/_control/delete", self._delete)
        app.router.add_get("/_control/posts", self._posts)
        app.router.add_post("/_control/fail", self._fail)
        app.router.add_get("/_control/requests", self._requests)
        app.router.add_post("/_control/preload", self._preload)

    def person(self, who: str) -> Person:
        if who not in self.people:
            self.people[who] = self.fake.world.add_person(who.capitalize())
        return self.people[who]

    def _where(self, body: Payload) -> int | None:
        """The channel (or thread) to post in; None if the stand-in has no such place."""
        place = str(body.get("thread") or body.get("channel") or "chat")
        ident = self.channels.get(place) or (int(place) if place.isdigit() else None)
        return ident if ident in self.fake.world.channels else None

    async def _info(self, request: web.Request) -> web.Response:
        return json_response(self.info())

    async def _say(self, request: web.Request) -> web.Response:
        body: Payload = await request.json()
        where = self._where(body)
        if where is None:
            return error(404, 10003, "no such channel or thread")
        reply_to = body.get("reply_to")
        ident = await self.fake.say(
            self.person(str(body["who"])),
            where,
            str(body["text"]),
            reply_to=int(reply_to) if reply_to is not None else None,
        )
        return json_response({"id": str(ident)})

    async def _edit(self, request: web.Request) -> web.Response:
        body: Payload = await request.json()
        if int(body["id"]) not in self.fake.world.messages:
            return error(404, 10008, "Unknown Message")
        await self.fake.edit(int(body["id"]), str(body["text"]))
        return json_response({})

    async def _delete(self, request: web.Request) -> web.Response:
        body: Payload = await request.json()
        if int(body["id"]) not in self.fake.world.messages:
            return error(404, 10008, "Unknown Message")
        await self.fake.delete(int(body["id"]))
        return json_response({})

    async def _posts(self, request: web.Request) -> web.Response:
        w = self.fake.world
        bot = str(w.bot.id)
        mine = sorted((m for m in w.messages.values() if m["author"]["id"] == bot),
                      key=lambda m: int(m["id"]))  # fmt: skip
        return json_response([self._post(m) for m in mine])

    def _post(self, message: Payload) -> Payload:
        w = self.fake.world
        channel = w.channels[int(message["channel_id"])]
        parent, thread = channel.get("parent_id"), None
        if parent is not None:
            parent, thread = parent, channel["id"]
        reference = message.get("message_reference")
        return {
            "id": message["id"],
            "channel": parent or channel["id"],
            "thread": thread,
            "text": message["content"],
            "reply_to": reference["message_id"] if reference else None,
            "at": datetime.fromisoformat(message["timestamp"]).astimezone(UTC).isoformat(),
            "deleted": int(message["id"]) in w.deleted,
        }

    async def _fail(self, request: web.Request) -> web.Response:
        body: Payload = await request.json()
        statuses = tuple(int(s) for s in body.get("statuses", (429, 500)))
        self.fake.post_failures = (float(body.get("ratio", 0)), statuses)
        return json_response({})

    async def _requests(self, request: web.Request) -> web.Response:
        return json_response(self.fake.log)

    async def _preload(self, request: web.Request) -> web.Response:
        body: Payload = await request.json()
        where = self._where(body)
        if where is None:
            return error(404, 10003, "no such channel or thread")
        texts = [str(t) for t in body["texts"]]
        people = [self.person(f"reader{i}") for i in range(50)]
        world = self.fake.world
        payloads = [
            world.visible(world.message(where, people[i % 50], texts[i % len(texts)]))
            for i in range(int(body["count"]))
        ]
        self.fake.log.clear()
        frames = self.fake.frames("MESSAGE_CREATE", payloads)  # made before the clock starts
        self._sending = asyncio.create_task(self.fake.send_frames(frames))
        return json_response({"count": len(payloads)})


def write_ready(path: Path, info: dict[str, Any]) -> None:
    """Atomically, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(info), encoding="utf-8")
    partial.replace(path)


async def serve(port: int, ready_file: Path, token: str) -> None:
    control = Control(token)
    await control.fake.start(port, control.routes)
    write_ready(ready_file, control.info())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await control.fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--token", default="fake-token.abc.xyz")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.ready_file, args.token))


if __name__ == "__main__":
    main()
