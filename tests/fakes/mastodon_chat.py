"""Whole chats on Mastodon for the tests: hashchat on a manual clock with the adapter
pointed at the stand-in, and reading back what the bot posted and published."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.platforms.mastodon.config import mastodon_channels
from bot.platforms.mastodon.text import html_to_text
from tests.conftest import Chat
from tests.fakes.mastodon_harness import ObservedMastodon, Pacer, adapter, mastodon_config
from tests.fakes.mastodon_server import MastodonStandIn


@asynccontextmanager
async def running(
    tmp: Path,
    server: MastodonStandIn,
    clock: ManualClock,
    *,
    channels: tuple[str, ...] = ("mastodon:hcsmeu",),
    moderator_channels: tuple[str, ...] = ("local:mods",),
    **options: Any,
) -> AsyncIterator[tuple[Chat, ObservedMastodon, Pacer]]:
    pacer = Pacer()
    config = mastodon_config(
        tmp, server.base_url, channels=channels, moderator_channels=moderator_channels
    )
    platform = adapter(
        server.base_url, clock, pacer=pacer, channels=mastodon_channels(config), **options
    )
    chat = Chat(tmp, config, adapters={"mastodon": platform}, clock=clock)
    await chat.boot()
    try:
        await pacer.waiting()  # connected (or not) and caught up: the first cycle is done
        yield chat, platform, pacer
    finally:
        if chat.app is not None:
            await chat.stop()


def transcript(chat: Chat) -> dict[str, Any]:
    path = chat.tmp / "pages" / "hcsmeu" / "2026-03-04" / "transcript.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def answers(data: dict[str, Any], number: int) -> set[str]:
    texts = {m["id"]: m["text"] for m in data["messages"]}
    question = next(q for q in data["questions"] if q["number"] == number)
    return {texts[i] for i in question["answer_ids"]}


def bot_posts(server: MastodonStandIn) -> list[dict[str, Any]]:
    return server.statuses_of("hashchat")


def question_post(server: MastodonStandIn, number: int) -> dict[str, Any]:
    return next(
        s for s in bot_posts(server) if html_to_text(s["content"]).startswith(f"Q{number}:")
    )
