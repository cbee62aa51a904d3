"""Whole chats on Discord through discord.py and a loopback Discord: in a channel, with a
thread per question, and at the same time as a local channel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.domain import UserRef
from tests.conftest import Chat
from tests.fakes.discord_harness import (
    DELETED,
    EDITED,
    Server,
    chat,
    server,
    stored,
    transcript,
)

__all__ = ["chat", "server"]  # fixtures

Make = Callable[[tuple[str, ...]], Chat]


@pytest.fixture
async def make(server: Server, tmp_path: Path) -> AsyncIterator[Make]:
    """Chats in the channels given, each booted by the test and stopped at its end."""
    made: list[Chat] = []

    def build(channels: tuple[str, ...]) -> Chat:
        c = server.adapter(tmp_path, channels)
        made.append(c)
        return c

    yield build
    for c in made:
        if c.app is not None:
            await c.stop()


def by_number(data: dict[str, object]) -> tuple[dict[int, dict[str, object]], dict[int, str]]:
    questions = {q["number"]: q for q in data["questions"]}  # type: ignore[attr-defined]
    texts = {m["id"]: m["text"] for m in data["messages"]}  # type: ignore[attr-defined]
    return questions, texts


async def test_full_session_in_a_channel(server: Server, make: Make) -> None:
    chat = make((f"discord:{server.chat}",))
    await chat.boot()
    await chat.at(10)
    answer = await server.fake.say(server.ann, server.chat, "A1: sharing decisions")
    await stored(chat, answer)
    await chat.at(61)

    posts = server.bot_texts(server.chat)
    assert len(posts) == 8, posts
    assert posts[0].startswith("Reminder: the #hcsmeu chat “Patients as partners” starts in 1 hour")
    assert posts[2].startswith("Welcome to the #hcsmeu chat: Patients as partners")
    assert posts[3] == "Q1: What does partnership mean to you? #hcsmeu"
    assert posts[4].startswith("Q2: ")
    assert posts[5].startswith("Q3: ")
    assert posts[6].startswith("Thanks all.")
    assert posts[7].startswith("The transcript of today's #hcsmeu chat is ready")
    # Nothing the bot posts can ping anyone.
    bot_messages = [m for m in server.world.in_channel(server.chat) if m.get("allowed_mentions")]
    assert len(bot_messages) == 8
    assert all(m["allowed_mentions"]["parse"] == [] for m in bot_messages)

    data = transcript(chat)
    (message,) = data["messages"]  # type: ignore[misc]
    assert message["text"] == "A1: sharing decisions"
    assert message["author_name"] == "Ann"
    assert message["questions"] == [1]
    assert message["channel"] == f"discord:{server.chat}"
    assert message["link"].endswith(f"/{server.chat}/{answer}")


async def test_full_session_with_a_thread_per_question(server: Server, make: Make) -> None:
    chat = make((f"discord:{server.threaded}",))
    await chat.boot()
    await chat.at(10)
    q1 = next(m for m in server.world.in_channel(server.threaded) if m["content"].startswith("Q1"))
    threads = server.world.threads_of(server.threaded)
    assert [(t["id"], t["name"]) for t in threads] == [
        (q1["id"], "Q1: What does partnership mean to you? #hcsmeu")
    ]
    in_q1 = await server.fake.say(server.ann, int(q1["id"]), "co-design from day one")
    await stored(chat, in_q1)
    await chat.at(20)
    q2 = next(m for m in server.world.in_channel(server.threaded) if m["content"].startswith("Q2"))
    in_q2 = await server.fake.say(server.bob, int(q2["id"]), "patient portals, honestly")
    await stored(chat, in_q2)
    await chat.at(61)

    assert len(server.world.threads_of(server.threaded)) == 3  # one per question
    posts = server.bot_texts(server.threaded)  # the channel itself: steps, not answers
    assert len(posts) == 8
    assert posts[-1].startswith("The transcript of today's #hcsmeu chat is ready")
    questions, texts = by_number(transcript(chat))
    assert [texts[i] for i in questions[1]["answer_ids"]] == ["co-design from day one"]  # type: ignore[attr-defined]
    assert [texts[i] for i in questions[2]["answer_ids"]] == ["patient portals, honestly"]  # type: ignore[attr-defined]
    channels = {m["channel"] for m in transcript(chat)["messages"]}  # type: ignore[attr-defined]
    assert channels == {
        f"discord:{server.threaded}/{q1['id']}",
        f"discord:{server.threaded}/{q2['id']}",
    }


async def test_answers_by_tag_by_reply_and_in_threads(server: Server, chat: Chat) -> None:
    await chat.at(10)
    q1_plain = next(m for m in server.world.in_channel(server.chat) if m["content"][:2] == "Q1")
    q1_thread = server.world.threads_of(server.threaded)[0]
    fake = server.fake
    await fake.say(server.ann, server.chat, "A1: sharing decisions")
    await fake.say(server.bob, server.chat, "co-design from day one", reply_to=int(q1_plain["id"]))
    await fake.say(server.ann, int(q1_thread["id"]), "in the thread")
    await fake.say(server.bob, server.threaded, f"hello all, <@{server.ann.id}> from Lyon")
    last = await fake.say(server.bob, server.chat, "A2: too early")  # Q2 is not posted yet
    await stored(chat, last)
    await chat.at(20)
    both = await fake.say(server.ann, server.threaded, "A1 & A2: both!")
    await stored(chat, both)
    await chat.at(61)

    data = transcript(chat)
    questions, texts = by_number(data)
    assert {texts[i] for i in questions[1]["answer_ids"]} == {  # type: ignore[attr-defined]
        "A1: sharing decisions",
        "co-design from day one",
        "in the thread",
        "A1 & A2: both!",
    }
    assert {texts[i] for i in questions[2]["answer_ids"]} == {"A1 & A2: both!"}  # type: ignore[attr-defined]
    general = {texts[i] for i in data["general_discussion_ids"]}  # type: ignore[attr-defined]
    # A mention reads as the person's name, not as Discord's <@id> markup.
    assert general == {"hello all, @Ann from Lyon", "A2: too early"}


async def test_edit_and_deletion_change_the_transcript(server: Server, chat: Chat) -> None:
    await chat.at(20)
    typo = await server.fake.say(server.ann, server.chat, "A1: sharing decisons")
    oops = await server.fake.say(server.bob, server.chat, "A2: my password is hunter2")
    await stored(chat, oops)
    await chat.at(21)
    # The bot keeps no message cache: these arrive as raw events, as for old messages.
    await server.fake.edit(typo, "A2: on reflection, this answers Q2")
    await server.fake.delete(oops)
    await stored(chat, typo, EDITED)
    await stored(chat, oops, DELETED)
    await chat.at(61)

    data = transcript(chat)
    texts = [m["text"] for m in data["messages"]]  # type: ignore[attr-defined]
    assert texts == ["A2: on reflection, this answers Q2"]
    (edited,) = data["messages"]  # type: ignore[misc]
    assert edited["questions"] == [2]
    assert edited["edited_at"] is not None


async def test_one_session_on_discord_and_local_has_one_merged_transcript(
    server: Server, make: Make
) -> None:
    chat = make((f"discord:{server.chat}", "local:main"))
    await chat.boot()
    await chat.at(10)
    assert chat.posts("local:main")[-1].startswith("Q1:")
    assert server.bot_texts(server.chat)[-1].startswith("Q1:")
    on_discord = await server.fake.say(server.ann, server.chat, "A1: from Discord")
    chat.local.say(UserRef("local", "bob", "Bob"), "local:main", "A1: from the terminal")
    await stored(chat, on_discord)
    await chat.at(61)

    assert chat.posts("local:main")[-1] == server.bot_texts(server.chat)[-1]  # the same link
    data = transcript(chat)
    questions, texts = by_number(data)
    assert {texts[i] for i in questions[1]["answer_ids"]} == {  # type: ignore[attr-defined]
        "A1: from Discord",
        "A1: from the terminal",
    }
    channels = {m["channel"] for m in data["messages"]}  # type: ignore[attr-defined]
    assert channels == {f"discord:{server.chat}", "local:main"}
