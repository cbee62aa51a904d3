"""The Bluesky adapter through the real ``atproto`` SDK against the stand-in process
(tests/fakes/bluesky_process.py): posting a chat as a thread with rich-text facets,
reading tags, replies and deletions from the Jetstream-style stream, the durable
cursor across a restart, the search backfill, and what start-up and faults report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import regex

from bot.clock import ManualClock
from bot.domain import IncomingMessage, MessageDeleted
from bot.platforms.base import AlertKind, DeliveryUncertain, PlatformError
from tests.conftest import START
from tests.fakes.bluesky_harness import (
    HASHTAG,
    Host,
    StandIn,
    adapter,
    running,
    standin_process,
    until,
)


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with standin_process(tmp_path_factory.mktemp("bluesky")) as described:
        yield described


@pytest.fixture
async def server(process: dict[str, Any]) -> AsyncIterator[StandIn]:
    made = StandIn(process)
    await made.control("POST", "reset")
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def _facet_texts(post: dict[str, Any]) -> list[str]:
    data = post["text"].encode()
    return [data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in post["facets"]]


async def test_a_long_step_is_a_thread_within_300_graphemes_with_byte_offset_facets(
    server: StandIn, clock: ManualClock
) -> None:
    welcome = (
        "Bienvenue à tous 👋🏽 ! Café ☕ et santé numérique, " * 12 + "https://example.org/règles"
    )
    async with running(adapter(server, clock), Host()) as run:
        first = await run.platform.send(HASHTAG, welcome, idempotency_key="welcome")
        question = await run.platform.send(
            HASHTAG, "Q1: Qu'est-ce qui a changé ? 🩺", reply_to=first.id, idempotency_key="q1"
        )
    posts = await server.bot_posts()
    assert len(posts) >= 3, "a 650-grapheme welcome is a thread of several posts"
    parts, last = posts[:-1], posts[-1]
    assert parts[0]["uri"] == first.id
    assert last["uri"] == question.id
    for number, post in enumerate(posts):
        assert _graphemes(post["text"]) <= 300, post["text"]
        assert "#hcsmeu" in _facet_texts(post), "each part carries the chat's tag as a facet"
        if number:
            assert post["reply_parent"] == posts[number - 1]["uri"], (
                "each replies to the one before"
            )
            assert post["reply_root"] == first.id, "the welcome is the thread's root"
    assert "https://example.org/règles" in _facet_texts(parts[-1]), "the link is a facet"
    assert "".join(p["text"].replace(" #hcsmeu", "") for p in parts).count("☕") == 12


async def test_answers_by_tag_by_reply_and_deep_in_the_thread_and_a_deletion(
    server: StandIn, clock: ManualClock
) -> None:
    async with running(adapter(server, clock), Host()) as run:
        welcome = await run.platform.send(HASHTAG, "Welcome!", idempotency_key="welcome")
        tagged = await server.say("ann", "A1: tagged, with ünïcode #hcsmeu")
        replied = await server.say("bob", "a reply to the welcome", reply_to=welcome.id)
        deep = await server.say("cat", "deep in the thread", reply_to=replied)
        await server.say("dan", "another chat entirely #elsewhere")
        await until(lambda: len(run.events) >= 3, "three answers handed over")
        await server.control("DELETE", "posts", {"uri": replied})
        await until(lambda: any(isinstance(e, MessageDeleted) for e in run.events), "deleted")
    messages = {e.ref.id: e for e in run.events if isinstance(e, IncomingMessage)}
    assert set(messages) == {tagged, replied, deep}, "the other hashtag is not the chat's"
    assert messages[tagged].text == "A1: tagged, with ünïcode", "the trailing tag is left out"
    assert messages[tagged].author.id == "ann.test"
    assert messages[replied].reply_to == welcome.id
    assert messages[deep].reply_to == replied
    assert messages[deep].ref.channel == HASHTAG
    deleted = [e for e in run.events if isinstance(e, MessageDeleted)]
    assert [d.ref.id for d in deleted] == [replied]


async def test_a_restart_replays_from_the_cursor_without_loss_or_duplicates(
    server: StandIn, clock: ManualClock
) -> None:
    host = Host()
    async with running(adapter(server, clock), host) as run:
        run.hold = lambda event: "not stored" in getattr(event, "text", "")
        stored = await server.say("ann", "stored before the restart #hcsmeu")
        await server.say("bob", "not stored before the restart #hcsmeu")
        await server.say("eve", "stored after the held one #hcsmeu")
        await until(lambda: len(run.events) == 3, "all handed over")
    await server.say("cat", "said while the bot was down #hcsmeu")
    async with running(adapter(server, clock), host) as again:
        replayed = again.texts()  # caught_up() has returned: the replay is handled
        await server.say("dan", "said after the restart #hcsmeu")
        await until(lambda: len(again.events) >= 3, "live again")
        await server.control("DELETE", "posts", {"uri": stored})
        await until(lambda: any(isinstance(e, MessageDeleted) for e in again.events), "deleted")
    assert [e.ref.id for e in again.events if isinstance(e, MessageDeleted)] == [stored]
    assert replayed == ["not stored before the restart", "said while the bot was down"]
    assert again.texts()[:3] == [
        "not stored before the restart",
        "said while the bot was down",
        "said after the restart",
    ]


async def test_a_dropped_stream_resumes_from_where_it_was_read(
    server: StandIn, clock: ManualClock
) -> None:
    async with running(adapter(server, clock), Host()) as run:
        await server.say("ann", "before the drop #hcsmeu")
        await until(lambda: len(run.events) == 1, "read live")
        await server.control("POST", "settings", {"drop_streams": True})
        await server.say("bob", "while the stream was down #hcsmeu")
        await until(lambda: len(run.events) == 2, "read after reconnecting")
    assert run.texts() == ["before the drop", "while the stream was down"]


async def test_a_gap_older_than_the_replay_window_is_searched_by_hashtag(
    server: StandIn, clock: ManualClock
) -> None:
    await server.say("ann", "A1: said long ago #hcsmeu")
    host = Host()
    await host.set_cursor(
        "jetstream", str(int((clock.now() - timedelta(days=400)).timestamp() * 1e6))
    )
    async with running(adapter(server, clock, replay_window=60), host) as run:
        await until(lambda: len(run.events) >= 1, "the searched post")
    requests = (await server.control("GET", "requests"))["requests"]
    assert any(r["nsid"] == "app.bsky.feed.searchPosts" for r in requests)
    assert run.texts() == ["A1: said long ago"], "found once, by search, not again by the stream"


async def test_a_post_whose_answer_was_lost_is_found_in_the_feed_not_posted_twice(
    server: StandIn, clock: ManualClock
) -> None:
    waits: list[float] = []

    async def backoff(seconds: float) -> None:
        waits.append(seconds)

    async with running(adapter(server, clock, backoff=backoff), Host()) as run:
        welcome = await run.platform.send(HASHTAG, "Welcome!", idempotency_key="welcome")
        await server.control("POST", "settings", {"cut": 1})
        ref = await run.platform.send(
            HASHTAG, "Q1: cut off?", reply_to=welcome.id, idempotency_key="q1"
        )
        await server.control("POST", "settings", {"cut": 1})
        with pytest.raises(DeliveryUncertain):  # no key: nothing tells a resend apart
            await run.platform.send(HASHTAG, "a reply to someone", reply_to=ref.id)
    texts = [p["text"] for p in await server.bot_posts()]
    assert texts == ["Welcome! #hcsmeu", "Q1: cut off? #hcsmeu", "a reply to someone"]
    assert waits, "it waited before looking"


async def test_refusals_are_not_posted_and_a_near_rate_limit_reset_is_waited_for(
    server: StandIn, clock: ManualClock
) -> None:
    waits: list[float] = []

    async def backoff(seconds: float) -> None:
        waits.append(seconds)

    host = Host()
    async with running(adapter(server, clock, backoff=backoff), host) as run:
        await server.control("POST", "settings", {"refuse": [429], "rate_limit_reset": 5})
        await run.platform.send(HASHTAG, "Q1: after the limit", idempotency_key="q1")
        await server.control("POST", "settings", {"refuse": [500]})
        with pytest.raises(PlatformError) as refused:
            await run.platform.send(HASHTAG, "Q2: refused", idempotency_key="q2")
        await server.control("POST", "settings", {"refuse": [401]})
        with pytest.raises(PlatformError) as revoked:
            await run.platform.send(HASHTAG, "Q3: revoked", idempotency_key="q3")
    assert not revoked.value.retryable
    assert [(a.kind, a.detail) for a in host.alerts] == [
        (AlertKind.MISSING_PERMISSION, "a valid app password in BLUESKY_APP_PASSWORD")
    ]
    assert refused.value.retryable
    assert not isinstance(refused.value, DeliveryUncertain)
    assert [p["text"] for p in await server.bot_posts()] == ["Q1: after the limit #hcsmeu"]
    assert waits, "waited for ratelimit-reset"
    assert 0 < waits[0] <= 6


async def test_start_up_names_a_bad_app_password_an_unknown_handle_and_no_service(
    server: StandIn, clock: ManualClock, tmp_path: Path
) -> None:
    with pytest.raises(PlatformError) as bad:
        await adapter(server, clock, password="not-the-app-password").start(Host())
    assert "app password" in str(bad.value)
    assert "BLUESKY_APP_PASSWORD" in str(bad.value)
    assert "not-the-app-password" not in str(bad.value)
    with pytest.raises(PlatformError) as unknown:
        await adapter(server, clock, handle="nobody.test").start(Host())
    assert "does not know the handle @nobody.test" in str(unknown.value)
    with pytest.raises(PlatformError) as down:
        await adapter(server, clock, service="http://127.0.0.1:9").start(Host())
    assert "could not reach Bluesky at http://127.0.0.1:9" in str(down.value)


async def test_moderators_are_the_configured_accounts_by_did(
    server: StandIn, clock: ManualClock
) -> None:
    await server.say("alice", "hello")  # the accounts exist on the network
    platform = adapter(server, clock, moderators=["alice.test", "did:plc:unrelated"])
    async with running(platform, Host()) as run:
        await server.say("alice", "@hashchat.test end #hcsmeu")
        await server.say("mallory", "@hashchat.test end #hcsmeu")
        await until(lambda: len(run.events) == 2, "both commands handed over")
        authors = [e.author for e in run.events if isinstance(e, IncomingMessage)]
        verdicts = [await platform.is_moderator(a, HASHTAG) for a in authors]
    assert run.texts() == ["@hashchat.test end", "@hashchat.test end"]
    assert verdicts == [True, False]
