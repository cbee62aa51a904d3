"""Mastodon after a restart past a chat's end: the chat closes only once the first reads
of the hashtag and the notifications (what was said while the bot was down) are stored,
so the transcript posted holds the answers of the chat's last seconds; and a chat that
ran without a restart closes on time, without waiting for a source that is not read.
Through Mastodon.py against the stand-in, with hashchat on a manual clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.platforms.mastodon.text import html_to_text
from tests.conftest import START
from tests.fakes.mastodon_chat import bot_posts, question_post, running, transcript
from tests.fakes.mastodon_harness import Pacer, adapter, status_times
from tests.fakes.mastodon_server import MastodonStandIn

pytest_plugins = ["tests.fakes.mastodon_fixtures"]

LINK = "The transcript of today's #hcsmeu chat is ready"


async def until(condition: Callable[[], bool], within: float = 10) -> None:
    """Poll ``condition`` every 50 ms; TimeoutError after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.05)


def links(server: MastodonStandIn) -> list[dict[str, Any]]:
    """The transcript links the bot posted, as the server took them (from any thread)."""
    with server.controls._lock:
        posts = list(server.controls.bot_posts.values())
    return [p for p in posts if str(p["text"]).startswith(LINK)]


async def test_answers_sent_while_the_bot_was_down_at_the_end_are_in_the_first_transcript(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    ann, bob = server.client("ann"), server.client("bob")
    async with running(tmp_path, server, clock) as (chat, _, _):
        await chat.at(59)
        await chat.stop()
        clock.set(START + timedelta(minutes=59.9))
        ann.status_post("A3 just before the end #hcsmeu")  # on the hashtag's timeline
        q2 = question_post(server, 2)
        bob.status_post("@hashchat me too, at the bell", in_reply_to_id=q2["id"])  # notified
        clock.set(START + timedelta(minutes=62))  # back after the chat's end
        first: list[dict[str, Any]] = []  # the page as it was when its link was posted

        def published() -> bool:
            if not first and links(server):
                first.append(transcript(chat))
            return bool(first)

        # The first reads after the start fail (a server busy restarting): the chat must
        # not close meanwhile without what they will bring once tried again.
        server.controls.refuse = {"/api/v1/timelines/tag/": 502, "/api/v1/notifications": 502}
        pacer = Pacer()
        chat.adapters["mastodon"] = adapter(server.base_url, clock, pacer=pacer)
        booting = asyncio.create_task(chat.boot())
        with contextlib.suppress(TimeoutError):
            await until(published, within=0.5)
        server.controls.refuse = {}
        await pacer.poll()  # the next cycle reads both sources
        await booting
        await until(published)
        await chat.at(63)
        final = transcript(chat)
    said = {"A3 just before the end": [3], "me too, at the bell": [2]}
    assert {m["text"]: m["questions"] for m in first[0]["messages"]} == said
    assert {m["text"]: m["questions"] for m in final["messages"]} == said
    assert len(links(server)) == 1


@pytest.mark.parametrize("streaming", [True, False])
async def test_a_chat_without_a_restart_posts_its_link_on_time(
    tmp_path: Path,
    server: MastodonStandIn,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    streaming: bool,
) -> None:
    # Polling only, the hashtag is not read between chats, so not when the bot starts
    # (two hours before): its close must not wait for a first read of it.
    server.controls.streaming_down = not streaming
    caplog.set_level(logging.WARNING, logger="bot.backlog")
    async with running(tmp_path, server, clock) as (chat, _, _):
        await chat.at(59)
        before = links(server)
        await chat.at(61)
    assert not before
    posted = [s for s in bot_posts(server) if html_to_text(s["content"]).startswith(LINK)]
    assert status_times(posted) == [60.0]  # when it was due, by the manual clock
    assert not [r for r in caplog.records if "backlog is not read" in r.getMessage()]
