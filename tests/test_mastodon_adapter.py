"""The Mastodon adapter on its own, through Mastodon.py against the stand-in: long posts
become threads, what the bot repeats pings nobody, failures take the port's shapes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.domain import ChannelRef, IncomingMessage
from bot.platforms.base import AlertKind, DeliveryUncertain, PlatformError
from bot.platforms.mastodon.text import html_to_text, weighted_length
from tests.fakes.mastodon_harness import HASHTAG, Host, ObservedMastodon, Pacer, adapter
from tests.fakes.mastodon_server import BOT_TOKEN, MastodonStandIn

pytest_plugins = ["tests.fakes.mastodon_fixtures"]

ALICE_DM = ChannelRef("mastodon", "@alice@mock.local")


@asynccontextmanager
async def started(
    server: MastodonStandIn, clock: ManualClock, **options: Any
) -> AsyncIterator[tuple[ObservedMastodon, Host]]:
    pacer, host = Pacer(), Host()
    platform = adapter(server.base_url, clock, pacer=pacer, **options)
    await platform.start(host)
    try:
        await pacer.waiting()
        yield platform, host
    finally:
        await platform.close()


async def test_a_long_post_becomes_a_thread_within_the_instances_limit(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    link = "https://example.org/" + "very-long-path/" * 10
    text = "\n\n".join(f"Paragraph {i}: " + "words and more words " * 8 + link for i in range(5))
    async with started(server, clock) as (platform, _):
        first = await platform.send(HASHTAG, text, idempotency_key="1:welcome:mastodon:hcsmeu")
        then = await platform.send(
            HASHTAG, "Q1: Next? #hcsmeu", reply_to=first.id, idempotency_key="1:q1:x"
        )
    posts = server.statuses_of("hashchat")
    parts, question = posts[:-1], posts[-1]
    assert len(parts) >= 3
    assert parts[0]["id"] == first.id
    assert [p["in_reply_to_id"] for p in parts[1:]] == [p["id"] for p in parts[:-1]]
    assert question["id"] == then.id
    assert question["in_reply_to_id"] == parts[-1]["id"]  # the chain goes on from the end
    texts = [html_to_text(p["content"]) for p in parts]
    assert all(weighted_length(t) <= 500 and t.endswith("#hcsmeu") for t in texts)
    assert all(link in t for t in texts)  # links are never cut
    assert " ".join(t.removesuffix(" #hcsmeu") for t in texts).split() == text.split()


async def test_what_the_bot_repeats_pings_nobody_and_files_under_no_other_tag(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    async with started(server, clock) as (platform, _):
        await platform.send(HASHTAG, "Suggested by @bob: what about #spam and #hcsmeu?")
    status = server.statuses_of("hashchat")[-1]
    assert status["mentions"] == []
    assert [t["name"] for t in status["tags"]] == ["hcsmeu"]
    assert html_to_text(status["content"]).replace("\u200b", "") == (
        "Suggested by @bob: what about #spam and #hcsmeu?"
    )


async def test_a_moderators_channel_is_a_direct_conversation(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    async with started(server, clock, channels=(HASHTAG, ALICE_DM)) as (platform, _):
        await platform.send(ALICE_DM, "To the moderators of #hcsmeu: Q2 may be missing.")
        command = server.client("alice").status_post("@hashchat pause", visibility="direct")
        event = await anext(aiter(platform.events()))
    status = server.statuses_of("hashchat")[-1]
    assert status["visibility"] == "direct"
    assert [m["acct"] for m in status["mentions"]] == ["alice"]
    assert isinstance(event, IncomingMessage)
    assert (event.ref.channel, event.ref.id, event.text) == (
        ALICE_DM,
        str(command["id"]),
        "@hashchat pause",
    )
    assert event.author.id == "alice@mock.local"


async def test_a_lost_answer_without_a_key_is_uncertain_and_not_resent(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    async with started(server, clock) as (platform, _):
        server.controls.lose_post_answers = 1
        with pytest.raises(DeliveryUncertain):
            await platform.send(HASHTAG, "To the moderators of #hcsmeu: a notice")
    assert len(server.controls.posts()) == 1
    assert len(server.statuses_of("hashchat")) == 1  # it was made, once


async def test_a_refusal_is_a_platform_error_and_a_missing_scope_alerts_the_moderators(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    async with started(server, clock) as (platform, host):
        server.controls.refuse = {"/api/v1/statuses": 403}
        with pytest.raises(PlatformError) as refused:
            await platform.send(HASHTAG, "Q1: anything? #hcsmeu", idempotency_key="1:q1:x")
    assert not isinstance(refused.value, DeliveryUncertain)
    assert not refused.value.retryable
    assert [(a.kind, a.detail) for a in host.alerts] == [
        (AlertKind.MISSING_PERMISSION, "write:statuses")
    ]


async def test_a_proxys_502_means_maybe_posted_so_it_is_looked_for_before_each_resend(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    async with started(server, clock) as (platform, _):
        server.controls.fail_ratio, server.controls.fail_statuses = 1.0, (502,)
        with pytest.raises(DeliveryUncertain):
            await platform.send(HASHTAG, "Q1: anything? #hcsmeu", idempotency_key="1:q1:x")
        server.controls.fail_ratio = 0.0
        sent = await platform.send(HASHTAG, "Q1: anything? #hcsmeu", idempotency_key="1:q1:x")
    asked = [(r.method, r.path.rsplit("/", 1)[-1]) for r in server.controls.requests[-8:]]
    assert asked[-2:] == [("GET", "statuses"), ("POST", "statuses")]  # looked, then sent
    assert platform.backoffs == [2.0, 4.0, 8.0]
    assert [s["id"] for s in server.statuses_of("hashchat")] == [sent.id]


async def test_an_unreadable_hashtag_alerts_the_moderators(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    server.controls.refuse = {"/api/v1/timelines/tag/": 401}
    async with started(server, clock) as (_, host):
        pass
    assert (AlertKind.CANNOT_READ, HASHTAG) in [(a.kind, a.channel) for a in host.alerts]


async def test_a_refused_token_stops_the_start_without_showing_it(
    server: MastodonStandIn, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.controls.refuse = {"/api/v1/accounts/verify_credentials": 401}
    platform = adapter(server.base_url, clock, pacer=Pacer())
    with pytest.raises(PlatformError) as failed:
        await platform.start(Host())
    await platform.close()
    assert "GET /api/v1/accounts/verify_credentials (401)" in str(failed.value)
    assert BOT_TOKEN not in str(failed.value) + caplog.text


@pytest.mark.parametrize(
    ("refused", "endpoint"),
    [
        ({"/api/v1/accounts/verify_credentials": 403}, "GET /api/v1/accounts/verify_credentials"),
        # Signed in, but the server's settings are refused: v2 first, then v1, named.
        ({"/api/v2/instance": 403, "/api/v1/instance": 403}, "GET /api/v1/instance/"),
    ],
)
async def test_a_start_refused_for_a_scope_names_the_endpoint_and_the_broad_scopes(
    server: MastodonStandIn, clock: ManualClock, refused: dict[str, int], endpoint: str
) -> None:
    server.controls.refusal = "out_of_scope"
    server.controls.refuse = refused
    platform = adapter(server.base_url, clock, pacer=Pacer())
    with pytest.raises(PlatformError) as failed:
        await platform.start(Host())
    await platform.close()
    assert f"{endpoint} (403): out_of_scope" in str(failed.value)
    assert "accept only the broad 'read write' scopes" in str(failed.value)


@pytest.mark.parametrize("code", [429, 500, 503])
async def test_an_answered_error_means_not_posted_and_is_retryable(
    server: MastodonStandIn, clock: ManualClock, code: int
) -> None:
    async with started(server, clock) as (platform, _):
        server.controls.fail_ratio, server.controls.fail_statuses = 1.0, (code,)
        with pytest.raises(PlatformError) as refused:
            await platform.send(HASHTAG, "Q1: anything? #hcsmeu", idempotency_key="1:q1:x")
    assert not isinstance(refused.value, DeliveryUncertain)
    assert refused.value.retryable
    assert "POST /api/v1/statuses" in str(refused.value)
    assert server.statuses_of("hashchat") == []


async def test_answers_are_boosted_once_stored_and_nothing_else(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    ann, bob = server.client("ann"), server.client("bob")
    async with started(server, clock, boost_answers=True) as (platform, _):
        answer = ann.status_post("A1 we co-design everything #hcsmeu")
        chatter = bob.status_post("hello from Lyon #hcsmeu")
        events = aiter(platform.events())
        for _ in range(2):
            await platform.acknowledge(await anext(events))
        await platform.boosts(1)
    boosts = [s for s in server.statuses_of("hashchat") if s["reblog"] is not None]
    assert [b["reblog"]["id"] for b in boosts] == [answer["id"]]
    assert chatter["id"] not in platform.boosted


async def test_with_streaming_turned_off_it_only_polls(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    async with started(server, clock, streaming=False) as (platform, _):
        await platform.send(HASHTAG, "Welcome! #hcsmeu", idempotency_key="1:welcome:x")
        answer = server.client("ann").status_post("A1 polled #hcsmeu")
        await platform.pacer.poll()
        event = await anext(aiter(platform.events()))
    assert event.ref.id == str(answer["id"])
    assert not [r for r in server.controls.requests if r.path.startswith("/api/v1/streaming")]


async def test_between_chats_only_the_notifications_are_polled(
    server: MastodonStandIn, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.platforms")
    ann, alice = server.client("ann"), server.client("alice")
    async with started(server, clock, streaming=False) as (platform, _):
        early = ann.status_post("hello, is the chat today? #hcsmeu")
        command = alice.status_post("@hashchat status")
        await platform.pacer.poll()
        events = aiter(platform.events())
        first = await anext(events)
        timeline = [r for r in server.controls.requests if r.path.startswith("/api/v1/timelines")]
        # The chat begins: from now on the hashtag is polled, from where it was left.
        await platform.send(HASHTAG, "Welcome! #hcsmeu", idempotency_key="1:welcome:x")
        await platform.pacer.poll()
        second = await anext(events)
    assert len(timeline) == 1  # once at start, to know where "now" is; not between chats
    assert (first.ref.id, second.ref.id) == (str(command["id"]), str(early["id"]))
    said = [r.getMessage() for r in caplog.records if r.name.startswith("bot.platforms")]
    assert "mastodon: #hcsmeu is not polled between chats" in said
    assert any(m.startswith("mastodon: #hcsmeu is polled every") for m in said)
    assert any(m.startswith("mastodon: the notifications (mentions") for m in said)


async def test_history_lists_the_hashtags_posts_since_a_time(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    ann = server.client("ann")
    async with started(server, clock) as (platform, _):
        ann.status_post("A1 too early #hcsmeu")
        clock.advance(timedelta(minutes=5))
        since = clock.now()
        await platform.send(HASHTAG, "Q1: the bot's own #hcsmeu")
        ann.status_post("A1 in time #hcsmeu")
        clock.advance(timedelta(minutes=1))
        ann.status_post("A1 <i>later</i> #hcsmeu")
        found = await platform.history(HASHTAG, since)
    assert [m.text for m in found] == ["A1 in time", "A1 <i>later</i>"]
    assert [m.sent_at - since for m in found] == [timedelta(0), timedelta(minutes=1)]
