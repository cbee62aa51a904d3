"""What the core does for adapters: reply chains, thread titles, event listings, alerts
to moderators and webhooks on the built-in web server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.domain import ChannelRef
from bot.platforms.base import Alert, AlertKind, ScheduledChat
from bot.platforms.local.platform import LocalPlatform
from bot.web import WebServer
from tests.conftest import MOD, START, Chat, chat_config
from tests.fakes.local_faults import AlertingLocal, FaultyLocal


class ChainingLocal(FaultyLocal):
    """The local platform playing a service where a chat is one thread and chats are
    listed as events, recording what the core asked of it."""

    capabilities = replace(LocalPlatform.capabilities, reply_chain=True, scheduled_events=True)

    def __init__(self, chat: Chat) -> None:
        super().__init__(chat.clock, admins=[MOD])
        self.titles: list[str | None] = []
        self.listings: list[tuple[ChannelRef, list[ScheduledChat]]] = []

    async def before_send(self, channel: ChannelRef, text: str, thread_title: str | None) -> None:
        if channel.id == "main":
            self.titles.append(thread_title)

    async def sync_events(self, channel: ChannelRef, chats: Sequence[ScheduledChat]) -> None:
        self.listings.append((channel, list(chats)))


def main_listing(platform: ChainingLocal) -> list[ScheduledChat]:
    return [chats for channel, chats in platform.listings if channel.id == "main"][-1]


async def chaining_chat(tmp_path: Path, **kwargs: str) -> tuple[Chat, ChainingLocal]:
    chat = Chat(tmp_path, chat_config(tmp_path, **kwargs))
    chat.local = platform = ChainingLocal(chat)
    await chat.boot()
    return chat, platform


async def test_each_step_after_the_welcome_replies_to_the_one_before(tmp_path: Path) -> None:
    chat, platform = await chaining_chat(tmp_path)
    try:
        await chat.at(61)
    finally:
        await chat.stop()
    posts = platform.bot_posts("local:main")
    assert [p.text[:8] for p in posts] == [
        "Reminder",
        "Reminder",
        "Welcome ",
        "Q1: What",
        "Q2: Whic",
        "Q3: What",
        "Thanks a",
        "The tran",
    ]
    # Reminders stand alone; the welcome opens the thread and each step answers the last.
    assert [p.reply_to for p in posts[:3]] == [None, None, None]
    assert [p.reply_to for p in posts[3:]] == [p.ref.id for p in posts[2:-1]]


async def test_questions_carry_a_thread_title_and_other_steps_none(tmp_path: Path) -> None:
    chat, platform = await chaining_chat(tmp_path)
    try:
        await chat.at(61)
    finally:
        await chat.stop()
    titled = [t for t in platform.titles if t is not None]
    assert titled == [
        "Q1: What does partnership mean to you? #hcsmeu",
        "Q2: Which tool helped most? #hcsmeu",
        "Q3: What should change first? #hcsmeu",
    ]
    assert len(platform.titles) == 8


async def test_upcoming_chats_are_listed_and_a_finished_one_is_dropped(tmp_path: Path) -> None:
    series = """
[[communities.series]]
id = "weekly"
schedule = "every friday at 13:00"
duration = "60m"
agenda = "agenda.toml"
"""
    chat, platform = await chaining_chat(tmp_path, extra=series)
    try:
        assert {str(c) for c, _ in platform.listings} == {"local:main", "local:side"}
        listed = main_listing(platform)
        assert [(c.slug, c.starts_at) for c in listed] == [
            ("hcsmeu/2026-03-04", START),
            ("hcsmeu/2026-03-06", START + timedelta(days=2)),
        ]
        assert listed[0].title == "Patients as partners"
        assert listed[0].description == "Co-design in digital health"
        assert listed[0].ends_at - listed[0].starts_at == timedelta(hours=1)
        # After the March chat the planner lists what is still to come, not what is over.
        await chat.at(61)
        listed = main_listing(platform)
        assert [c.slug for c in listed] == ["hcsmeu/2026-03-06"]
    finally:
        await chat.stop()


async def test_an_access_problem_reaches_the_moderators_once(tmp_path: Path) -> None:
    chat = Chat(tmp_path, chat_config(tmp_path))
    # The platform finds at start-up that it cannot read the chat channel, and says so
    # twice: a second report of the same problem is not repeated.
    chat.local = AlertingLocal(
        chat.clock, [Alert(AlertKind.CANNOT_READ, ChannelRef("local", "main"))] * 2, admins=[MOD]
    )
    await chat.boot()
    await chat.stop()
    (notice,) = chat.posts("local:mods")
    assert notice == (
        "To the moderators of #hcsmeu: hashchat cannot read the participants' messages in"
        " local:main, so a chat there would record no answers. Check the bot's permissions"
        " there."
    )
    assert chat.posts("local:main") == []


class Receiver:
    webhook_path = "/telegram/s3cret-path"

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def receive_webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        if headers.get("X-Token") != "right":
            return 403
        self.bodies.append(body)
        return 200


async def test_webhook_deliveries_reach_their_platform_with_its_answer(tmp_path: Path) -> None:
    receiver = Receiver()
    server = WebServer(tmp_path, "127.0.0.1", 0, [receiver])
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/telegram/s3cret-path"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=b"{}", headers={"X-Token": "wrong"}) as r:
                assert r.status == 403
            async with http.post(url, data=b'{"update_id": 1}', headers={"X-Token": "right"}) as r:
                assert r.status == 200
            async with http.post(url.replace("s3cret", "guess"), data=b"{}") as r:
                assert r.status in (404, 405)
    finally:
        await server.close()
    assert receiver.bodies == [b'{"update_id": 1}']
