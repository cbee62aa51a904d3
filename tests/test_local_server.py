"""The local platform over HTTP: the adapter against a real ``LocalServer`` on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.clock import SystemClock
from bot.domain import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    PlatformEvent,
    UserRef,
)
from bot.errors import ConfigError
from bot.platforms.base import Alert, PlatformError
from bot.platforms.local.platform import LocalPlatform
from bot.platforms.local.remote import RemoteLocalPlatform
from bot.platforms.local.server import LocalServer
from bot.platforms.registry import build_platforms
from tests.conftest import chat_config

MAIN = ChannelRef("local", "main")


class Cursors:
    """The core's side of the port: durable cursors (here in a dict that outlives the
    adapter, as the database outlives the bot process)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def cursor(self, key: str) -> str | None:
        return self.values.get(key)

    async def set_cursor(self, key: str, value: str) -> None:
        self.values[key] = value

    async def move_cursor(self, key: str, value: str) -> None:
        await self.set_cursor(key, value)

    async def alert(self, alert: Alert) -> None:
        raise AssertionError(f"unexpected alert {alert}")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    stand_in = LocalServer()
    async with TestServer(stand_in.app(), host="127.0.0.1") as running:
        running.stand_in = stand_in  # type: ignore[attr-defined]
        yield running
        stand_in.close()


async def say(server: TestServer, user: str, text: str, **extra: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.make_url("/api/messages"),
            json={"channel": "main", "user": user, "text": text, **extra},
        ) as response,
    ):
        assert response.status == 200
        return str((await response.json())["id"])


async def post(server: TestServer, path: str, body: object) -> int:
    async with aiohttp.ClientSession() as http, http.post(server.make_url(path), json=body) as r:
        return r.status


async def take(platform: RemoteLocalPlatform, count: int) -> list[PlatformEvent]:
    events: list[PlatformEvent] = []
    async for event in platform.events():
        events.append(event)
        if len(events) == count:
            break
    return events


async def connected(server: TestServer, cursors: Cursors) -> RemoteLocalPlatform:
    platform = RemoteLocalPlatform(str(server.make_url("")), SystemClock())
    await platform.start(cursors)
    return platform


async def test_a_message_not_yet_stored_is_read_again_after_a_restart(server: TestServer) -> None:
    cursors = Cursors()
    first = await say(server, "ann", "A1: stored before the crash")
    second = await say(server, "bob", "A1: in hand when the bot died", reply_to=first)
    platform = await connected(server, cursors)
    stored, lost = await take(platform, 2)
    await platform.acknowledge(stored)  # the second is never committed: the bot dies
    await platform.close()

    again = await connected(server, cursors)
    (event,) = await take(again, 1)
    await again.close()
    assert isinstance(event, IncomingMessage)
    assert (event.ref.id, event.text, event.reply_to) == (second, lost.text, first)
    assert event.author.id == "bob"


async def test_a_reply_shows_the_bots_own_post_it_answers(server: TestServer) -> None:
    """So a reply can prove a question post whose id the bot never learnt."""
    platform = await connected(server, Cursors())
    question = await platform.send(MAIN, "Q1: what now? #hcsmeu")
    other = await say(server, "bob", "A1: this")
    await say(server, "ann", "Replying to the question", reply_to=question.id)
    await say(server, "cat", "Replying to Bob", reply_to=other)
    _, to_bot, to_bob = await take(platform, 3)
    await platform.close()
    assert isinstance(to_bot, IncomingMessage)
    assert isinstance(to_bob, IncomingMessage)
    assert to_bot.reply_to_bot_text == "Q1: what now? #hcsmeu"
    assert to_bob.reply_to_bot_text is None


async def test_edits_and_deletions_reach_the_bot(server: TestServer) -> None:
    ident = await say(server, "ann", "A1: typo")
    assert await post(server, f"/api/messages/{ident}/edit", {"user": "ann", "text": "A1: ok"})
    assert await post(server, f"/api/messages/{ident}/delete", {"user": "bob"}) == 403
    assert await post(server, f"/api/messages/{ident}/delete", {"user": "ann"}) == 200
    platform = await connected(server, Cursors())
    _, edited, deleted = await take(platform, 3)
    await platform.close()
    assert isinstance(edited, MessageEdited)
    assert edited.text == "A1: ok"
    assert isinstance(deleted, MessageDeleted)
    assert deleted.ref.id == ident


async def test_a_resend_with_the_same_key_is_shown_once(server: TestServer) -> None:
    platform = await connected(server, Cursors())
    first = await platform.send(MAIN, "Q1: what now?", idempotency_key="1:q1:local:main")
    again = await platform.send(MAIN, "Q1: what now?", idempotency_key="1:q1:local:main")
    await platform.close()
    assert first == again
    world = server.stand_in.world  # type: ignore[attr-defined]
    assert [m.text for m in world.messages.values()] == ["Q1: what now?"]


async def test_a_refused_post_is_not_posted_and_may_be_retried(server: TestServer) -> None:
    assert await post(server, "/control/faults", {"ratio": 1, "statuses": [503]}) == 200
    platform = await connected(server, Cursors())
    with pytest.raises(PlatformError) as caught:
        await platform.send(MAIN, "Q1: what now?", idempotency_key="k")
    await platform.close()
    assert caught.value.retryable
    assert "503" in str(caught.value)
    assert server.stand_in.world.messages == {}  # type: ignore[attr-defined]


async def test_a_muted_participant_cannot_post(server: TestServer) -> None:
    platform = await connected(server, Cursors())
    await platform.restrict(UserRef("local", "ann"), MAIN, None)
    await platform.close()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.make_url("/api/messages"), json={"channel": "main", "user": "ann", "text": "hi"}
        ) as response,
    ):
        assert response.status == 403
        assert "ann may not post" in (await response.json())["error"]


async def test_a_server_that_does_not_answer_is_named_at_start() -> None:
    platform = RemoteLocalPlatform("http://127.0.0.1:9", SystemClock())
    with pytest.raises(PlatformError, match=r"the local server at http://127.0.0.1:9"):
        await platform.start(Cursors())


def test_the_config_chooses_the_local_server_or_the_in_process_platform(tmp_path: Path) -> None:
    assert isinstance(build_platforms(chat_config(tmp_path), SystemClock())["local"], LocalPlatform)
    remote = chat_config(tmp_path, extra='[platforms.local]\nserver = "http://127.0.0.1:8765"')
    built = build_platforms(remote, SystemClock())["local"]
    assert isinstance(built, RemoteLocalPlatform)
    assert built.server == "http://127.0.0.1:8765"
    wrong = chat_config(tmp_path, extra='[platforms.local]\nserver = "127.0.0.1:8765"')
    with pytest.raises(ConfigError) as caught:
        build_platforms(wrong, SystemClock())
    (problem,) = caught.value.problems
    assert problem.field == "platforms.local.server"
    assert "http://" in problem.message


async def test_the_backlog_at_start_is_caught_up_once_the_core_handled_it(
    server: TestServer,
) -> None:
    """A chat that ended while the bot was down closes only after its last answers."""
    await say(server, "ann", "A3: sent while the bot was down")
    platform = await connected(server, Cursors())
    caught_up = asyncio.ensure_future(platform.caught_up())
    events = platform.events()
    first = await anext(events)
    assert isinstance(first, IncomingMessage)
    await asyncio.sleep(0)
    assert not caught_up.done()  # the core has it in hand, not yet handled
    more = asyncio.ensure_future(anext(events))  # asking for more: the first is handled
    await asyncio.wait_for(caught_up, 5)
    await platform.close()
    with pytest.raises(StopAsyncIteration):
        await more


async def test_nothing_waiting_at_start_means_caught_up_at_once(server: TestServer) -> None:
    platform = await connected(server, Cursors())
    await asyncio.wait_for(platform.caught_up(), 1)
    await platform.close()
