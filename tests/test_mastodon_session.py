"""Whole chats on Mastodon: the real Mastodon.py, over HTTP and server-sent events, against
mastodon_mock on 127.0.0.1, with the rest of hashchat running on a manual clock."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain import UserRef
from bot.platforms.mastodon.text import html_to_text
from tests.fakes.mastodon_chat import answers, bot_posts, question_post, running, transcript
from tests.fakes.mastodon_harness import Pacer, adapter, status_times
from tests.fakes.mastodon_server import BOT_TOKEN, MastodonStandIn

pytest_plugins = ["tests.fakes.mastodon_fixtures"]

BOB_LOCAL = UserRef("local", "bob", "Bob")


async def test_a_whole_chat_reads_as_one_thread_under_the_hashtag(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(
        tmp_path, server, clock, visibility="unlisted", content_warning="hcsmeu chat"
    ) as (chat, _, _):
        await chat.at(61)
    posts = bot_posts(server)
    texts = [html_to_text(s["content"]) for s in posts]
    assert [t.split(":")[0] for t in texts[2:6]] == [
        "Welcome to the #hcsmeu chat",
        "Q1",
        "Q2",
        "Q3",
    ]
    assert texts[6].startswith("Thanks all.")
    assert texts[7].startswith("The transcript of today's #hcsmeu chat is ready")
    assert all("#hcsmeu" in t for t in texts)
    chain = posts[2:]
    assert chain[0]["in_reply_to_id"] is None
    for before, after in itertools.pairwise(chain):
        assert after["in_reply_to_id"] == before["id"]
    assert {s["visibility"] for s in chain} == {"unlisted"}
    assert {s["spoiler_text"] for s in chain} == {"hcsmeu chat"}
    assert status_times(chain)[1:4] == [10, 20, 30]
    assert BOT_TOKEN not in caplog.text


async def test_answers_by_hashtag_reply_and_mention_are_recorded(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    ann, bob, alice = server.client("ann"), server.client("bob"), server.client("alice")
    async with running(tmp_path, server, clock) as (chat, platform, _):
        await chat.at(10)
        q1 = question_post(server, 1)
        tagged = ann.status_post("A1 sharing <b>decisions</b> & power #hcsmeu")
        replied = bob.status_post("@hashchat co-design from day one", in_reply_to_id=q1["id"])
        secret = bob.status_post("@hashchat A1 my diagnosis is private", visibility="direct")
        mentioned = alice.status_post("@hashchat A1: trust, first of all")
        # Mentions come in order: once Alice's is stored, Bob's direct one was passed over.
        await platform.acknowledged(*(str(s["id"]) for s in (tagged, replied, mentioned)))
        await chat.at(61)
    data = transcript(chat)
    assert answers(data, 1) == {
        "A1 sharing <b>decisions</b> & power",
        "co-design from day one",
        "A1: trust, first of all",
    }
    assert len(data["messages"]) == 3
    assert not platform.emitted[f"IncomingMessage:{secret['id']}"]
    by_text = {m["text"]: m for m in data["messages"]}
    assert by_text["co-design from day one"]["author_key"] == "mastodon:bob@mock.local"
    assert by_text["co-design from day one"]["author_name"] == "Bob"
    assert by_text["A1: trust, first of all"]["link"].startswith("https://mock.local/@alice/")


async def test_edits_change_an_answer_and_deletions_remove_it(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    ann, bob = server.client("ann"), server.client("bob")
    async with running(tmp_path, server, clock) as (chat, platform, _):
        await chat.at(20)
        typo = ann.status_post("A1 sharing decisons #hcsmeu")
        oops = bob.status_post("A2 my password is hunter2 #hcsmeu")
        await platform.acknowledged(str(typo["id"]), str(oops["id"]))
        await chat.at(21)
        ann.status_update(typo["id"], "A2 on reflection, this answers Q2 #hcsmeu")
        bob.status_delete(oops["id"])
        await platform.handed_over(f"MessageEdited:{typo['id']}", f"MessageDeleted:{oops['id']}")
        await chat.at(61)
    data = transcript(chat)
    assert [m["text"] for m in data["messages"]] == ["A2 on reflection, this answers Q2"]
    assert data["messages"][0]["questions"] == [2]
    assert data["messages"][0]["edited_at"] == "2026-03-04T12:21:00Z"


async def test_moderators_steer_by_mention_or_direct_message_and_others_are_refused(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    ann, bob, alice = server.client("ann"), server.client("bob"), server.client("alice")
    async with running(tmp_path, server, clock) as (chat, platform, _):
        await chat.at(15)
        attempt = bob.status_post("@hashchat end")
        fine = ann.status_post("A1 a fine answer #hcsmeu")
        spam = ann.status_post("A1 buy my course #hcsmeu")
        await platform.acknowledged(*(str(s["id"]) for s in (attempt, fine, spam)))
        hide = alice.status_post("@ann @hashchat hide", in_reply_to_id=spam["id"])
        mute = alice.status_post("@hashchat mute @bob", visibility="direct")
        await platform.acknowledged(str(hide["id"]), str(mute["id"]))
        muted = bob.status_post("A1 posted while muted #hcsmeu")
        await platform.acknowledged(str(muted["id"]))
        await chat.at(21)
        assert any(html_to_text(s["content"]).startswith("Q2:") for s in bot_posts(server))
        end = alice.status_post("@hashchat end", visibility="direct")
        await platform.acknowledged(str(end["id"]))
        await chat.at(22)
        posts = bot_posts(server)
    replies = {s["in_reply_to_id"]: s for s in posts if s["in_reply_to_id"] is not None}
    refusal, hidden, ended = replies[attempt["id"]], replies[hide["id"]], replies[end["id"]]
    assert html_to_text(refusal["content"]) == (
        "@bob Sorry, only the moderators of #hcsmeu can use “end”."
    )
    assert refusal["visibility"] == "public"
    assert html_to_text(hidden["content"]) == "@alice Hidden from the transcript."
    assert html_to_text(replies[mute["id"]]["content"]).startswith("@alice bob@mock.local is")
    assert html_to_text(ended["content"]) == (
        "@alice The chat is closed and its transcript published."
    )
    assert ended["visibility"] == "direct"
    texts = [html_to_text(s["content"]) for s in posts]
    assert not any(t.startswith("Q3:") for t in texts)
    assert any(t.startswith("The transcript of today's #hcsmeu chat is ready") for t in texts)
    assert [m["text"] for m in transcript(chat)["messages"]] == ["A1 a fine answer"]


async def test_a_moderators_public_mention_is_answered_in_public_and_a_direct_one_directly(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    alice = server.client("alice")
    dm = ("mastodon:@alice@mock.local",)  # Alice also has a private channel with the bot
    async with running(tmp_path, server, clock, moderator_channels=dm) as (chat, platform, _):
        await chat.at(15)
        public = alice.status_post("@hashchat pause")
        await platform.acknowledged(str(public["id"]))
        private = alice.status_post("@hashchat resume", visibility="direct")
        await platform.acknowledged(str(private["id"]))
        await chat.at(16)
        posts = bot_posts(server)
    replies = {s["in_reply_to_id"]: s for s in posts if s["in_reply_to_id"] is not None}
    assert replies[public["id"]]["visibility"] == "public"
    assert html_to_text(replies[public["id"]]["content"]).startswith("@alice ")
    assert replies[private["id"]]["visibility"] == "direct"


async def test_a_dropped_stream_is_backfilled_by_polling_without_duplicates(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    ann, bob = server.client("ann"), server.client("bob")
    async with running(tmp_path, server, clock) as (chat, platform, pacer):
        assert all(s.synced for s in platform.reading.sources.values())
        await chat.at(10)
        q1 = question_post(server, 1)
        before = ann.status_post("A1 before the outage #hcsmeu")
        await platform.acknowledged(str(before["id"]))
        polls_before = len(pacer.waits)
        server.controls.streaming_down = True
        server.controls.drop_streams()
        await pacer.waiting(polls_before + 1)  # woken by the drop, it polled at once
        during = bob.status_post("A1 posted while the stream was down #hcsmeu")
        reply = bob.status_post(  # both tagged and mentioning: found by both sources
            "@hashchat and a reply meanwhile #hcsmeu", in_reply_to_id=q1["id"]
        )
        await pacer.poll()  # the stream is refused again; polling finds the gap
        await platform.acknowledged(str(during["id"]), str(reply["id"]))
        server.controls.streaming_down = False
        await pacer.poll()  # streams again, caught up by one more poll
        assert all(s.synced for s in platform.reading.sources.values())
        after = ann.status_post("A1 after the outage #hcsmeu")
        await platform.acknowledged(str(after["id"]))
        await chat.at(61)
    assert server.controls.streams_opened >= 4
    assert answers(transcript(chat), 1) == {
        "A1 before the outage",
        "A1 posted while the stream was down",
        "and a reply meanwhile",
        "A1 after the outage",
    }
    handed_over = [k for k in platform.emitted if k.startswith("IncomingMessage:")]
    assert len(handed_over) == 4
    assert set(platform.emitted.values()) == {1}
    assert set(platform.acks.values()) == {1}


async def test_the_same_chat_runs_by_polling_alone(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    server.controls.streaming_down = True  # this server offers no streaming at all
    ann, bob, alice = server.client("ann"), server.client("bob"), server.client("alice")
    async with running(tmp_path, server, clock) as (chat, platform, pacer):
        await chat.at(10)
        q1 = question_post(server, 1)
        tagged = ann.status_post("A1 sharing decisions #hcsmeu")
        replied = bob.status_post("@hashchat co-design from day one", in_reply_to_id=q1["id"])
        mentioned = alice.status_post("@hashchat A1: trust")
        await pacer.poll()
        await platform.acknowledged(*(str(s["id"]) for s in (tagged, replied, mentioned)))
        ann.status_update(tagged["id"], "A1 sharing decisions, and power #hcsmeu")
        bob.status_delete(replied["id"])
        await pacer.poll()  # the refresh finds the edit and the deletion
        await chat.at(61)
    assert server.controls.streams_opened == 0  # tried, refused, polled instead
    assert answers(transcript(chat), 1) == {"A1 sharing decisions, and power", "A1: trust"}
    assert set(platform.emitted.values()) == {1}
    assert pacer.waits[0] >= 5  # paced within the request budget


async def test_one_chat_on_mastodon_and_locally_has_one_transcript(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    ann = server.client("ann")
    channels = ("mastodon:hcsmeu", "local:main")
    async with running(tmp_path, server, clock, channels=channels) as (chat, platform, _):
        await chat.at(10)
        chat.local.say(BOB_LOCAL, "local:main", "A1: from the local channel")
        await chat.at(11)
        toot = ann.status_post("A1 from the fediverse #hcsmeu")
        await platform.acknowledged(str(toot["id"]))
        await chat.at(61)
    data = transcript(chat)
    assert data["session"]["channels"] == list(channels)
    assert [(m["channel"], m["text"]) for m in data["messages"]] == [
        ("local:main", "A1: from the local channel"),
        ("mastodon:hcsmeu", "A1 from the fediverse"),
    ]
    assert answers(data, 1) == {"A1: from the local channel", "A1 from the fediverse"}
    assert chat.posts("local:main")[-1] == html_to_text(bot_posts(server)[-1]["content"])


async def test_after_a_restart_what_was_posted_meanwhile_is_recorded_once(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    ann, bob = server.client("ann"), server.client("bob")
    async with running(tmp_path, server, clock) as (chat, first, _):
        await chat.at(10)
        early = ann.status_post("A1 before the restart #hcsmeu")
        await first.acknowledged(str(early["id"]))
        await chat.stop()
        meanwhile = bob.status_post("A1 while the bot was down #hcsmeu")
        q1 = question_post(server, 1)
        replied = ann.status_post("@hashchat a reply while it was down", in_reply_to_id=q1["id"])
        pacer = Pacer()
        second = adapter(server.base_url, clock, pacer=pacer)
        chat.adapters["mastodon"] = second
        await chat.boot()
        await second.acknowledged(str(meanwhile["id"]), str(replied["id"]))
        await chat.at(61)
    assert f"IncomingMessage:{early['id']}" not in second.emitted
    assert answers(transcript(chat), 1) == {
        "A1 before the restart",
        "A1 while the bot was down",
        "a reply while it was down",
    }
