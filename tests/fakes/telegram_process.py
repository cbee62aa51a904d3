"""The Telegram stand-in (:class:`FakeTelegram`) as its own OS process, so it outlives
the bot it serves and records every request, for the end-to-end suite and the chaos
benchmark::

    python -m tests.fakes.telegram_process --port 0 --ready-file /tmp/tg.json

(from the repository root, so that ``tests`` can be imported). It serves a forum
supergroup (``GROUP``) with one topic and a plain moderators' group (``MODS``).

Once listening it writes ``{"url", "port", "group", "topic", "mods"}`` to the ready file
(atomically, so a reader never sees half of it). Beside the Bot API it serves a loopback
control API under ``/_control/`` (JSON in, JSON out): participants act through it as
people would in the Telegram app, and tests read what the bot did.

- ``GET  /_control/state``: the ready file's content plus ``offset``, the highest
  update offset the bot has polled with (an update below it is stored by the bot), and
  ``conflicts``: when a getUpdates was answered 409 Conflict because another client
  polled while it waited (two bot instances polling at once; a poll whose client has
  disconnected, e.g. was killed, ends quietly instead, as nobody hears its answer);
- ``POST /_control/say`` ``{user_id, name, text, chat?, thread?, reply_to?}``: a
  participant's message (``thread``: a forum topic id); answers ``{message_id, update_id}``;
- ``POST /_control/edit`` ``{chat?, message_id, text}``: a participant edits a message;
- ``POST /_control/delete`` ``{chat?, message_id}``: a participant deletes one (Telegram
  does not tell bots, so nothing reaches the bot);
- ``GET  /_control/posts``: what the bot posted, ``{id, chat, thread, text, reply_to, at,
  deleted}`` each, ``at`` the time the stand-in accepted it (ISO 8601, UTC);
- ``POST /_control/fail`` ``{ratio, statuses?, retry_after?}``: refuse that share of the
  bot's sendMessage calls (nothing posted) with 429 or 5xx; ``ratio`` 0 stops it;
- ``POST /_control/fail_next`` ``{method, status, description}``: one failed call;
- ``GET  /_control/requests``: every request, ``{method, params, at, status}`` each;
- ``POST /_control/preload`` ``{count, texts, thread?}``: forget the pending updates and
  the request log, then queue ``count`` participants' messages at once (their texts taken
  in turn from ``texts``), served as fast as the bot polls (bench/intake.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from pathlib import Path

from aiohttp import web

from bot.clock import SystemClock
from tests.fakes.telegram_api import GROUP, TOKEN, FakeTelegram, Json, Person

MODS = -1005550001111  # the moderators' group: a plain supergroup
TOPIC_NAME = "Chat"


class Control:
    """The control API over one :class:`FakeTelegram` and the chats the process made."""

    def __init__(self, api: FakeTelegram, *, topic: int | None) -> None:
        self.api = api
        self.topic = topic

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_control/state", self.state),
            web.post("/_control/say", self.say),
            web.post("/_control/edit", self.edit),
            web.post("/_control/delete", self.delete),
            web.get("/_control/posts", self.posts),
            web.post("/_control/fail", self.fail),
            web.post("/_control/fail_next", self.fail_next),
            web.get("/_control/requests", self.requests),
            web.post("/_control/preload", self.preload),
        ]

    def describe(self) -> Json:
        port = int(self.api.url.rsplit(":", 1)[1])
        return {
            "url": self.api.url,
            "port": port,
            "group": GROUP,
            "topic": self.topic,
            "mods": MODS,
        }

    async def state(self, request: web.Request) -> web.Response:
        offset = max(self.api.offsets, default=None)
        conflicts = self.api.conflicts
        return web.json_response({**self.describe(), "offset": offset, "conflicts": conflicts})

    async def say(self, request: web.Request) -> web.Response:
        body = await request.json()
        person = Person(int(body["user_id"]), str(body["name"]), body.get("username"))
        chat = int(body.get("chat") or GROUP)
        thread = body.get("thread")
        reply_to = body.get("reply_to")
        try:
            update = self.api.post(
                person,
                chat,
                str(body["text"]),
                thread=None if thread is None else int(thread),
                reply_to=None if reply_to is None else int(reply_to),
            )
        except KeyError:
            return _refused(f"no chat {chat}, or no message {reply_to or thread} in it")
        message = update["message"]
        return web.json_response(
            {"message_id": message["message_id"], "update_id": update["update_id"]}
        )

    async def edit(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = (int(body.get("chat") or GROUP), int(body["message_id"]))
        if key not in self.api.messages:
            return _refused(f"no message {key[1]} in chat {key[0]}")
        update = self.api.edit_message(*key, str(body["text"]))
        return web.json_response({"update_id": update["update_id"]})

    async def delete(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = (int(body.get("chat") or GROUP), int(body["message_id"]))
        if key not in self.api.messages:
            return _refused(f"no message {key[1]} in chat {key[0]}")
        self.api.messages.pop(key)  # gone for everyone; bots are not told
        return web.json_response({})

    async def posts(self, request: web.Request) -> web.Response:
        deleted = set(self.api.deleted)
        posts = []
        for message in self.api.sent:
            key = (message["chat"]["id"], message["message_id"])
            posts.append(
                {
                    "id": key[1],
                    "chat": key[0],
                    "thread": message.get("message_thread_id"),
                    "text": message["text"],
                    "reply_to": self.api.replied.get(key),
                    "at": self.api.accepted[key].isoformat(),
                    "deleted": key in deleted,
                }
            )
        return web.json_response({"posts": posts})

    async def fail(self, request: web.Request) -> web.Response:
        body = await request.json()
        statuses = tuple(int(s) for s in body.get("statuses") or (429, 500))
        retry_after = int(body.get("retry_after") or 1)
        self.api.refuse_sends(float(body["ratio"]), statuses, retry_after=retry_after)
        return web.json_response({})

    async def fail_next(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.api.fail_next(str(body["method"]), int(body["status"]), str(body["description"]))
        return web.json_response({})

    async def requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.api.requests})

    async def preload(self, request: web.Request) -> web.Response:
        body = await request.json()
        texts = [str(t) for t in body["texts"]]
        thread = body.get("thread", self.topic)
        api = self.api
        api.pending.clear()
        api.requests.clear()
        api.calls.clear()
        api.served.clear()
        people = [Person(7000 + i, f"Participant {i}") for i in range(50)]
        for i in range(int(body["count"])):
            api.post(people[i % len(people)], GROUP, texts[i % len(texts)], thread=thread)
        return web.json_response({"pending": len(api.pending)})


def _refused(description: str) -> web.Response:
    return web.json_response({"error": description}, status=400)


def write_ready(path: Path, data: Json) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, path)


async def serve(
    port: int, ready_file: Path | None, *, token: str, forum: bool, long_polls: bool = True
) -> None:
    """Run until SIGTERM or SIGINT."""
    api = FakeTelegram(SystemClock(), token=token)
    api.long_polls = long_polls
    api.add_group(GROUP, "hashchat end-to-end", forum=forum)
    api.add_group(MODS, "hashchat moderators")
    topic = api.add_topic(GROUP, TOPIC_NAME) if forum else None
    api.pending.clear()  # the topic's creation is history by the time the bot starts
    control = Control(api, topic=topic)
    await api.start(port, control.routes())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready_file is not None:
        write_ready(ready_file, control.describe())
    print(f"Telegram stand-in listening on {api.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await api.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--ready-file", type=Path, help="where to write the URL once listening")
    parser.add_argument("--token", default=TOKEN, help="the bot token the stand-in accepts")
    parser.add_argument("--no-forum", action="store_true", help="a plain group, no topic")
    parser.add_argument(
        "--no-long-poll", action="store_true", help="answer getUpdates at once, as some proxies do"
    )
    args = parser.parse_args(argv)
    forum, long_polls = not args.no_forum, not args.no_long_poll
    asyncio.run(
        serve(args.port, args.ready_file, token=args.token, forum=forum, long_polls=long_polls)
    )


if __name__ == "__main__":
    main()
