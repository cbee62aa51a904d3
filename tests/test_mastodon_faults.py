"""Mastodon servers that differ, and sends that fail: a refused batch endpoint, answers
lost or cut off, a kill between sending a step and recording it. Through Mastodon.py
against the stand-in, with hashchat on a manual clock."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.platforms.mastodon.text import html_to_text
from tests.fakes.mastodon_chat import answers, bot_posts, running, transcript
from tests.fakes.mastodon_harness import HASHTAG, Host, Pacer, adapter
from tests.fakes.mastodon_server import MastodonStandIn

pytest_plugins = ["tests.fakes.mastodon_fixtures"]


async def test_a_server_refusing_batch_reads_still_brings_edits_and_deletions_quietly(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.platforms")
    server.controls.streaming_down = True  # no streaming, and no GET /api/v1/statuses?id[]=
    server.controls.refuse_exact = {"GET /api/v1/statuses": 405}
    ann, bob = server.client("ann"), server.client("bob")
    async with running(tmp_path, server, clock) as (chat, platform, pacer):
        await chat.at(10)
        tagged = ann.status_post("A1 sharing decisions #hcsmeu")
        gone = bob.status_post("A1 posted by mistake #hcsmeu")
        await pacer.poll()
        await platform.acknowledged(str(tagged["id"]), str(gone["id"]))
        ann.status_update(tagged["id"], "A1 sharing decisions, and power #hcsmeu")
        bob.status_delete(gone["id"])
        for _ in range(3):
            await pacer.poll()
        await platform.handed_over(f"MessageEdited:{tagged['id']}", f"MessageDeleted:{gone['id']}")
        await chat.at(61)
    assert answers(transcript(chat), 1) == {"A1 sharing decisions, and power"}
    requests = server.controls.requests
    batch = [r for r in requests if r.path == "/api/v1/statuses" and r.method == "GET"]
    assert len(batch) == 1  # refused once, then one at a time
    assert [r.getMessage() for r in caplog.records if "(405)" in r.getMessage()] == [
        "mastodon: the server refuses GET /api/v1/statuses (405); re-reading answers one at a"
        " time, 4 per cycle"
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_post_whose_answer_was_lost_is_found_among_the_bots_own_not_sent_again(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    server.controls.ignore_idempotency = True  # as some servers do: no help from the key
    async with running(tmp_path, server, clock) as (chat, platform, _):
        await chat.at(9)
        server.controls.lose_post_answers = 1
        await chat.at(10)
        await chat.at(20)
        posts = bot_posts(server)
    assert platform.backoffs == [2.0]
    q1 = [s for s in posts if html_to_text(s["content"]).startswith("Q1:")]
    assert len(q1) == 1
    tries = [r for r in server.controls.posts() if r.idempotency_key == "1:q1:mastodon:hcsmeu"]
    assert len(tries) == 1
    welcome = next(s for s in posts if html_to_text(s["content"]).startswith("Welcome"))
    assert q1[0]["in_reply_to_id"] == welcome["id"]
    q2 = next(s for s in posts if html_to_text(s["content"]).startswith("Q2:"))
    assert q2["in_reply_to_id"] == q1[0]["id"]  # the chain goes on from the post found


async def test_a_post_cut_off_before_the_server_saw_it_is_sent_again(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    server.controls.ignore_idempotency = True
    async with running(tmp_path, server, clock) as (chat, _, _):
        await chat.at(9)
        server.controls.cut_posts = 1
        await chat.at(10)
        posts = bot_posts(server)
    q1 = [s for s in posts if html_to_text(s["content"]).startswith("Q1:")]
    assert len(q1) == 1
    assert len(server.controls.posts()) == len(posts) + 1  # the cut one, then the resend


async def test_after_a_kill_a_step_already_posted_is_found_not_posted_twice(
    tmp_path: Path, server: MastodonStandIn, clock: ManualClock
) -> None:
    server.controls.ignore_idempotency = True
    async with running(tmp_path, server, clock) as (chat, _, _):
        await chat.at(10)
        posts = bot_posts(server)
        q1 = next(s for s in posts if html_to_text(s["content"]).startswith("Q1:"))
        await chat.stop()
        # As if the bot had been killed after sending Q1 and before recording it:
        with closing(sqlite3.connect(tmp_path / "chat.db")) as db, db:
            db.execute(
                "UPDATE posts SET state = 'sending', message_id = NULL, url = NULL"
                " WHERE step_key = 'q1'"
            )
        second = adapter(server.base_url, clock, pacer=Pacer())
        chat.adapters["mastodon"] = second
        await chat.boot()
        await chat.at(11)
    again = [s for s in bot_posts(server) if html_to_text(s["content"]).startswith("Q1:")]
    assert [s["id"] for s in again] == [q1["id"]]


async def test_the_same_words_posted_by_an_earlier_chat_are_not_taken_for_this_ones(
    server: MastodonStandIn, clock: ManualClock
) -> None:
    server.controls.ignore_idempotency = True
    me = server.client("hashchat")
    text = "Reminder: the #hcsmeu chat starts in 10 minutes."
    earlier = me.status_post(text)  # the chat before, with the same words
    for n in range(1, 6):  # and the rest of that chat after it
        me.status_post(f"Q{n}: something else #hcsmeu")
    platform = adapter(server.base_url, clock, pacer=Pacer())
    await platform.start(Host())
    try:
        sent = await platform.send(HASHTAG, text, idempotency_key="2:reminder:600s:x")
    finally:
        await platform.close()
    assert sent.id != str(earlier["id"])
    same = [s for s in server.statuses_of("hashchat") if html_to_text(s["content"]) == text]
    assert len(same) == 2
