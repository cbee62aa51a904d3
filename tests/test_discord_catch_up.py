"""Discord after a restart past a chat's end: the chat closes only once the history read
at READY (what was said while the bot was away) is stored, so the transcript posted
holds the answers of the chat's last seconds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.clock import ManualClock
from tests.conftest import START
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_harness import Server, transcript

LINK = "The transcript of today's"


class SlowHistory(FakeDiscord):
    """Holds the bot's history reads while ``history_open`` is clear, as a slow or
    distant server would."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        super().__init__(now)
        self.history_open = asyncio.Event()
        self.history_open.set()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        reading = request.method == "GET" and request.path.endswith("/messages")
        if reading and "after" in request.query:
            await self.history_open.wait()
        return await super()._middleware(request, handler)


async def test_answers_sent_while_the_bot_was_down_at_the_end_are_in_the_first_transcript(
    tmp_path: Path,
) -> None:
    clock = ManualClock(START - timedelta(hours=2))
    fake = SlowHistory(clock.now)
    await fake.start()
    server = Server(fake, clock)
    chat = server.adapter(tmp_path, (f"discord:{server.chat}", f"discord:{server.threaded}"))
    try:
        await chat.boot()
        await chat.at(59)
        await chat.stop()
        clock.set(START + timedelta(minutes=59.9))
        await fake.say(server.ann, server.chat, "A3: just before the end")
        q3_thread = int(server.world.threads_of(server.threaded)[2]["id"])
        await fake.say(server.bob, q3_thread, "said in the Q3 thread at the bell")
        clock.set(START + timedelta(minutes=62))  # back after the chat's end
        first: list[dict[str, Any]] = []  # the page as it was when its link was posted

        def published() -> bool:
            if not first and any(t.startswith(LINK) for t in server.bot_texts(server.chat)):
                first.append(transcript(chat))
            return bool(first)

        # The history read after the start is slow: the chat must not close meanwhile
        # without what it will bring.
        fake.history_open.clear()
        booting = asyncio.create_task(chat.boot())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.until(published), 0.5)
        fake.history_open.set()
        await booting
        await fake.until(published)
        await chat.at(63)
        final: dict[str, Any] = transcript(chat)
        links = [t for t in server.bot_texts(server.chat) if t.startswith(LINK)]
    finally:
        if chat.app is not None:
            await chat.stop()
        await fake.close()
    said = {"A3: just before the end": [3], "said in the Q3 thread at the bell": [3]}
    assert {m["text"]: m["questions"] for m in first[0]["messages"]} == said
    assert {m["text"]: m["questions"] for m in final["messages"]} == said
    assert len(links) == 1
